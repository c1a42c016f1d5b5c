"""Gradient checking: backward propagation against central differences of the cost.

The second course's check. With θ the parameters W1, b1, ..., WL, bL flattened
into one vector, for each component i

    g̃_i = (J(θ + ε e_i) - J(θ - ε e_i)) / (2ε)

and the result is the relative difference

    ‖g - g̃‖₂ / (‖g‖₂ + ‖g̃‖₂)

between g̃ and the gradient g that :func:`xpnet.backward` returns. The course's
reading of it, for ε = 1e-7 in float64:

* below about 1e-7: the backward pass is right;
* around 1e-5: look again, one component may be wrong (a kink of ReLU can also
  land between θ ± ε);
* above about 1e-3: there is almost certainly a bug.

Dropout masks are held fixed (pass the same ``masks`` the forward pass used), so
J is a deterministic function of θ; checking with fresh masks per evaluation
would compare two different functions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from . import _validation as v
from ._backend import check_same_namespace_and_device
from .activations import Activation
from .propagation import IMPLS, total_cost

__all__ = ["gradient_check"]

Array = Any


def gradient_check(
    params: Mapping[str, Array],
    X: Array,
    Y: Array,
    activations: Sequence[str | Activation],
    *,
    l2: float = 0.0,
    masks: Sequence[Array | None] | None = None,
    epsilon: float = 1e-7,
    impl: str = "vectorized",
) -> float:
    """The relative difference ‖g - g̃‖₂ / (‖g‖₂ + ‖g̃‖₂) of backward vs central differences.

    Parameters
    ----------
    params : dict
        {"W1", "b1", ..., "WL", "bL"}, on any backend; computed in float64 (cast
        when given float32, where central differences with ε = 1e-7 are noise).
    X : array (n_x, m)
    Y : array (1, m) or (C, m)
        Labels 0/1; for a softmax output, integer classes (1, m) or one-hot (C, m).
    activations : list of str or Activation
        One per layer, the last "sigmoid" or "softmax".
    l2 : float
        λ: the L2 term is in J and in g.
    masks : list, optional
        Fixed inverted-dropout factors D[l] / keep_prob[l] per layer (None where a
        layer keeps every unit), as for :func:`xpnet.forward`.
    epsilon : float
        ε of the central differences (the course's 1e-7).
    impl : {"vectorized", "per_example", "loops"}
        Which backward pass to check.

    Returns
    -------
    float
        The relative difference; see the module docstring for its thresholds.
    """
    v.check_name("impl", impl, tuple(IMPLS))
    v.check_positive("epsilon", epsilon, example=1e-7)
    l2 = v.check_nonnegative("l2", l2)
    xp, device = check_same_namespace_and_device({"X": X, "Y": Y, **params})
    L = v.check_params(params)
    acts = v.check_activations(activations, L)
    v.check_X(X, params["W1"].shape[1], n_x_from="params['W1'].shape[1] (n_x)")
    C = params[f"W{L}"].shape[0]  # 1 for a sigmoid output, the classes for softmax
    v.check_output_units(acts[-1], C, where=f"params['W{L}'] has")
    v.check_Y(Y, X.shape[1], C=C)
    v.check_labels(Y, xp, C=C)
    v.check_finite({"X": X}, xp)  # a NaN here or in params makes both g and g̃ NaN
    try:
        v.check_finite(params, xp)
    except ValueError as exc:
        raise ValueError(
            f"gradient_check: {exc.args[0].split(';')[0]}; the check needs finite params "
            "(a diverged run's parameters cannot be checked)"
        ) from None
    if masks is not None:  # checked against the parameters as given, then cast with them
        masks = v.check_masks(masks, params, X.shape[1], xp)
    f64 = xp.float64
    params = {k: xp.astype(p, f64) for k, p in params.items()}
    X, Y = xp.astype(X, f64), v.as_labels(Y, xp, f64, C)
    got = params["W1"].dtype
    if got != f64:
        # JAX without 64-bit mode casts to float32 (with only a warning): the central
        # differences with ε = 1e-7 would then be rounding noise, and a right backward
        # pass would report a relative difference near 1.
        raise ValueError(
            "gradient_check computes in float64, but casting params to float64 on this backend "
            f"gives {got}: float64 is not available. On JAX, 64-bit mode is off; call "
            "jax.config.update('jax_enable_x64', True) at start-up (before creating the "
            "arrays), or run the check on NumPy arrays (xpnet.to_numpy)"
        )
    if masks is not None:
        masks = [None if D is None else xp.astype(D, f64) for D in masks]
    forward, backward = IMPLS[impl]
    output = acts[-1].name

    def J(p: Mapping[str, Array]) -> float:
        _, caches = forward(X, p, acts, xp=xp, masks=masks)
        return float(total_cost(caches[-1].Z, Y, p, l2, output=output, xp=xp))

    AL, caches = forward(X, params, acts, xp=xp, masks=masks)
    grads = backward(AL, Y, caches, l2, xp=xp)
    _check_finite_gradients(grads, xp, "the backward pass returned g with")
    keys = list(params)
    sizes = [math.prod(p.shape) for p in params.values()]
    theta = xp.concat([xp.reshape(params[k], (-1,)) for k in keys])
    g = xp.concat([xp.reshape(grads[f"d{k}"], (-1,)) for k in keys])
    n = int(theta.shape[0])
    index = xp.arange(n, device=device)

    def unflatten(vec: Array) -> dict[str, Array]:
        out, start = {}, 0
        for k, size in zip(keys, sizes, strict=True):
            out[k] = xp.reshape(vec[start : start + size], params[k].shape)
            start += size
        return out

    approx = []
    for i in range(n):
        e_i = epsilon * xp.astype(index == i, f64)  # ε on component i, functional
        approx.append((J(unflatten(theta + e_i)) - J(unflatten(theta - e_i))) / (2 * epsilon))
    g_tilde = xp.asarray(approx, dtype=f64, device=device)
    _check_finite_gradients(
        unflatten(g_tilde), xp, "the central differences g̃ (the cost J at θ ± ε) have"
    )
    num = xp.linalg.vector_norm(g - g_tilde)
    den = xp.linalg.vector_norm(g) + xp.linalg.vector_norm(g_tilde)
    return float(num / den) if float(den) != 0 else 0.0  # both zero: they agree


def _check_finite_gradients(grads: Mapping[str, Array], xp: Any, what: str) -> None:
    """A NaN or inf in g or g̃ is an error, not a relative difference: NaN compared with
    the thresholds reads as neither right nor wrong (and was once returned as 0.0)."""
    for k, a in grads.items():
        if not bool(xp.all(xp.isfinite(a))):
            name = k if k.startswith("d") else f"d{k}"
            raise ValueError(
                f"gradient_check: {what} NaN or inf in {name}, so no relative difference "
                "can be computed; look for a division by zero or an overflow in the "
                "activations' g or g' (or in the cost) for these parameters"
            )
