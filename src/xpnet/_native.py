"""The backends' own element-wise kernels for the activations, in training steps.

The math modules write each activation and its backward step with standard Array
API functions, which is what every backend runs by default. On torch some of those
spellings are slow on the CPU: ReLU's backward step ``dA * astype(Z > 0)`` is a
compare, a cast and a product, and torch's comparison into a boolean tensor and the
cast back are each several times slower than a product (at (256, 512) float32 on
the 2-core CPU: 112 µs for the three, against 14 µs for the one kernel
``threshold_backward`` that torch's autograd uses for the same dZ, and 11 µs for a
product). ``xp.maximum(Z, 0.0)`` also turns the Python 0.0 into a tensor on every
call (array-api-compat's promotion); ``torch.relu`` does not.

:func:`native_activations` swaps those backends' own kernels in for the
activations of a training step (``xpnet.training.make_step``, which ``fit`` runs,
eagerly or compiled). Each computes the same formula as the activation it replaces,
in one pass:

==========  =====================  ==========================================
activation  g(Z)                   dZ = dA * g'(Z)
==========  =====================  ==========================================
relu        ``torch.relu``         ``threshold_backward(dA, A, 0)``: dA where A > 0, else 0
leaky_relu  ``leaky_relu(Z, s)``   ``leaky_relu_backward``: dA where Z > 0, else s dA
tanh        ``torch.tanh``         ``tanh_backward(dA, A)``: dA (1 - A²)
sigmoid     ``torch.sigmoid``      ``sigmoid_backward(dA, A)``: dA A (1 - A)
==========  =====================  ==========================================

Results agree with the Array API forms to the last bit for relu and leaky_relu and
to rounding (an ulp or two, another order of the same products) for tanh and
sigmoid. One difference at non-finite input: where A <= 0, ``threshold_backward``
gives 0 even for an infinite or NaN dA, where ``dA * 0`` gives NaN; a step that
meets an infinite dA has diverged either way, and its cost says so.

On NumPy the formulas are already its fastest forms (``astype(Z > 0) * dA`` takes
65 µs against 130 µs for ``sign(A) * dA``), but the two activations that cast a mask,
ReLU's backward step and the sigmoid, cast it with the array's own ``astype`` instead
of array-api-compat's ``astype`` function, which checks its arguments first (1.9 µs a
call against 0.65 µs on an (8, 128) array, timeit): the same operations, so the same
bits (a two-line copy of each formula, held to the Array API form bit for bit by
``tests/test_native.py``), and
3.4 % less time for the whole [20, 8, 1] step at m = 128 (paired against the Array API
form on the 2-core CPU), a step whose ~75 µs are mostly per-call costs.

Only the ``"vectorized"`` implementation uses them (the loop forms keep the course's
scalar functions), and only the training step: ``forward``, ``backward`` and the
other public functions of the functional API keep the pure Array API kernels.
Dask's blocks run the NumPy step. array_api_strict has nothing faster to offer; JAX
compiles the step, where XLA fuses the element-wise work itself; CuPy has element-wise
kernels of its own (``cupy.ElementwiseKernel``), not written here until they can be
measured on a GPU.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import array_api_compat

from .activations import Activation

__all__ = ["native_activations"]


@functools.cache
def _torch_kernels() -> dict[str, tuple[Callable[..., Any], Callable[..., Any]]]:
    """activation name -> (g, backprop) with xpnet's signatures, from torch's own ops."""
    import torch

    aten = torch.ops.aten

    def relu(Z, *, xp):
        return torch.relu(Z)

    def relu_backprop(dA, Z, A, *, xp):
        return aten.threshold_backward(dA, A, 0)

    def leaky_relu(Z, *, xp, slope):
        return torch.nn.functional.leaky_relu(Z, slope)

    def leaky_relu_backprop(dA, Z, A, *, xp, slope):
        return aten.leaky_relu_backward(dA, Z, slope, False)

    def tanh(Z, *, xp):
        return torch.tanh(Z)

    def tanh_backprop(dA, Z, A, *, xp):
        return aten.tanh_backward(dA, A)

    def sigmoid(Z, *, xp):
        return torch.sigmoid(Z)

    def sigmoid_backprop(dA, Z, A, *, xp):
        return aten.sigmoid_backward(dA, A)

    return {
        "relu": (relu, relu_backprop),
        "leaky_relu": (leaky_relu, leaky_relu_backprop),
        "tanh": (tanh, tanh_backprop),
        "sigmoid": (sigmoid, sigmoid_backprop),
    }


@functools.cache
def _numpy_kernels() -> dict[str, tuple[Callable[..., Any] | None, Callable[..., Any] | None]]:
    """activation name -> (g, backprop) for NumPy; None keeps the Array API function."""

    def relu_backprop(dA, Z, A, *, xp):
        return dA * (Z > 0).astype(Z.dtype)  # activations._relu_prime, cast by the array

    def sigmoid(Z, *, xp):  # activations.sigmoid, the mask cast by the array
        E = xp.exp(-xp.abs(Z))
        return (E + (Z >= 0).astype(Z.dtype) * (1 - E)) / (1 + E)

    return {"relu": (None, relu_backprop), "sigmoid": (sigmoid, None)}


def native_activations(
    activations: Sequence[Activation], xp: Any, *, impl: str = "vectorized"
) -> list[Activation]:
    """``activations`` with the backend's own kernels for g and the backward step dZ,
    where ``xp``'s backend has faster ones (torch, CPU or CUDA) and ``impl`` is
    ``"vectorized"``; otherwise the same activations (the loop forms apply g to
    scalars, as the course writes them). The replacements keep each activation's name
    and parameters, so ``to_spec`` and saving are unchanged."""
    if impl != "vectorized":
        return list(activations)
    if array_api_compat.is_torch_namespace(xp):
        kernels = _torch_kernels()
    elif array_api_compat.is_numpy_namespace(xp):
        kernels = _numpy_kernels()
    else:
        return list(activations)
    out = []
    for act in activations:
        g, backprop = kernels.get(act.name, (None, None))
        if g is not None:
            act = dataclasses.replace(act, fn=g)
        if backprop is not None:
            act = dataclasses.replace(act, fused=backprop)
        out.append(act)
    return out
