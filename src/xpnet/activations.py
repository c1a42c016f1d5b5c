"""Activation functions g and their derivatives g', in one table.

Each entry of :data:`ACTIVATIONS` maps a name to an :class:`Activation`, a pair of
pure functions ``(g, g')`` of the pre-activation ``Z`` (any shape, e.g.
``(n[l], m)``), plus the backward step dZ = dA * g'(Z) written to reuse
A = g(Z) from the forward pass where the course does (tanh: 1 - A²). They use
only the Array API namespace ``xp`` they are given, never update in place, and
never branch in Python on array values.

==============  =====================================  ==================================
name            g(Z)                                   g'(Z)
==============  =====================================  ==================================
sigmoid         σ(Z) = 1 / (1 + e^(-Z))                σ(Z) (1 - σ(Z))
tanh            tanh(Z)                                1 - tanh(Z)^2
relu            max(0, Z)                              1 if Z > 0 else 0
leaky_relu      max(slope·Z, Z), slope = 0.01          1 if Z > 0 else slope
linear          Z                                      1
==============  =====================================  ==================================

The output layer also takes the column-wise softmax (:data:`SOFTMAX`, looked up by
:func:`get_activation` as ``"softmax"``): for each column z of Z[L] (C, m),
a_k = e^(z_k) / Σ_j e^(z_j). It is not element-wise, so it is kept out of the
table of (g, g') pairs: it has no element-wise derivative, and its backward step
is the output error dZ[L] = A[L] - Y of :mod:`xpnet.losses`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

__all__ = [
    "ACTIVATIONS",
    "SOFTMAX",
    "Activation",
    "get_activation",
    "leaky_relu",
    "sigmoid",
    "softmax",
]

Array = Any


def sigmoid(Z: Array, *, xp: ModuleType) -> Array:
    """σ(Z) = 1 / (1 + e^(-Z)), computed without overflow for any Z.

    With E = e^(-abs(Z)) (always in (0, 1]): σ(Z) = 1 / (1 + E) for Z >= 0 and
    E / (1 + E) for Z < 0, so no branch exponentiates a positive number. The
    branch is taken arithmetically, numerator E + P (1 - E) with P = [Z >= 0]
    (1 or 0), rather than with ``xp.where``: NumPy's ``where`` on a data-dependent
    mask is ~10x slower than a few element-wise passes (measured in the roofline
    benchmark).
    """
    E = xp.exp(-xp.abs(Z))
    P = xp.astype(Z >= 0, Z.dtype)
    return (E + P * (1 - E)) / (1 + E)


def _sigmoid_prime(Z: Array, *, xp: ModuleType) -> Array:
    """σ'(Z) = σ(Z) (1 - σ(Z))."""
    s = sigmoid(Z, xp=xp)
    return s * (1 - s)


def _sigmoid_backprop(dA: Array, Z: Array, A: Array, *, xp: ModuleType) -> Array:
    """dZ = dA * A (1 - A), with A = σ(Z) taken from the forward pass."""
    return dA * (A * (1 - A))


def _tanh(Z: Array, *, xp: ModuleType) -> Array:
    """tanh(Z)."""
    return xp.tanh(Z)


def _tanh_prime(Z: Array, *, xp: ModuleType) -> Array:
    """tanh'(Z) = 1 - tanh(Z)^2."""
    T = xp.tanh(Z)
    return 1 - T * T


def _tanh_backprop(dA: Array, Z: Array, A: Array, *, xp: ModuleType) -> Array:
    """dZ = dA * (1 - A^2), A = tanh(Z) from the forward pass (the course's
    ``dZ1 = W2.T dZ2 * (1 - np.power(A1, 2))``)."""
    return dA * (1 - A * A)


def _relu(Z: Array, *, xp: ModuleType) -> Array:
    """ReLU(Z) = max(0, Z) (NaN stays NaN)."""
    return xp.maximum(Z, 0.0)


def _relu_prime(Z: Array, *, xp: ModuleType) -> Array:
    """ReLU'(Z) = 1 where Z > 0, else 0 (the subgradient 0 is taken at Z = 0).

    A cast of the mask, not ``xp.where(Z > 0, 1, 0)``: NumPy's ``where`` on a
    data-dependent mask is ~10x slower than a compare, a cast and a product."""
    return xp.astype(Z > 0, Z.dtype)


def _leaky_relu(Z: Array, *, xp: ModuleType, slope: float = 0.01) -> Array:
    """LeakyReLU(Z) = max(Z, slope·Z), which is Z for Z > 0 and slope·Z otherwise
    (as 0 <= slope < 1)."""
    return xp.maximum(Z, slope * Z)


def _leaky_relu_prime(Z: Array, *, xp: ModuleType, slope: float = 0.01) -> Array:
    """LeakyReLU'(Z) = 1 where Z > 0, else slope: slope + (1 - slope)·[Z > 0]."""
    return xp.astype(Z > 0, Z.dtype) * (1 - slope) + slope


def _linear(Z: Array, *, xp: ModuleType) -> Array:
    """Identity: g(Z) = Z."""
    return Z


def _linear_prime(Z: Array, *, xp: ModuleType) -> Array:
    """g'(Z) = 1."""
    return xp.ones_like(Z)


def _linear_backprop(dA: Array, Z: Array, A: Array, *, xp: ModuleType) -> Array:
    """dZ = dA."""
    return dA


def softmax(Z: Array, *, xp: ModuleType) -> Array:
    """Column-wise softmax: a_k(i) = e^(z_k(i)) / Σ_j e^(z_j(i)) for Z of shape (C, m).

    Computed as e^(z - max_j z_j) / Σ_j e^(z_j - max_j z_j) (the same value): every
    exponent is <= 0, so nothing overflows for any z, and the largest term is
    e^0 = 1, so the denominator is never 0. Reduces over axis 0, so a 1-D vector
    (C,) works too (the loop implementation applies it to one example's z).
    """
    E = xp.exp(Z - xp.max(Z, axis=0, keepdims=True))
    return E / xp.sum(E, axis=0, keepdims=True)


def _softmax_prime(Z: Array, *, xp: ModuleType) -> Array:
    raise ValueError(
        "softmax has no element-wise derivative g'(Z) (its Jacobian couples the C units of "
        "a column), so it can only be the output activation, where backward propagation "
        "starts from dZ[L] = A[L] - Y; use relu, tanh, ... for hidden layers"
    )


@dataclass(frozen=True)
class Activation:
    """An activation g with its derivative g', as pure functions.

    ``act.g(Z, xp=xp)`` is g(Z) and ``act.dg(Z, xp=xp)`` is g'(Z).
    ``act.backprop(dA, Z, A, xp=xp)`` is the backward step dZ = dA * g'(Z); tanh
    and sigmoid reuse A = g(Z) from the forward pass (1 - A², A(1 - A)) instead of
    recomputing a transcendental over (n[l], m), through their ``fused``
    function. Without one it is ``dA * act.dg(Z, xp=xp)``. ``params`` holds fixed
    keyword arguments (the leaky ReLU's ``slope``). ``elementwise`` is False for
    softmax, whose g maps a whole column z (C,) to a column; the loop
    implementation then applies g to one example's column instead of per scalar.
    """

    name: str
    fn: Callable[..., Array] = field(repr=False)
    derivative: Callable[..., Array] = field(repr=False)
    fused: Callable[..., Array] | None = field(default=None, repr=False, compare=False)
    params: tuple[tuple[str, float], ...] = ()
    elementwise: bool = True

    def g(self, Z: Array, *, xp: ModuleType) -> Array:
        if self.params:
            return self.fn(Z, xp=xp, **dict(self.params))
        return self.fn(Z, xp=xp)

    def dg(self, Z: Array, *, xp: ModuleType) -> Array:
        if self.params:
            return self.derivative(Z, xp=xp, **dict(self.params))
        return self.derivative(Z, xp=xp)

    def backprop(self, dA: Array, Z: Array, A: Array, *, xp: ModuleType) -> Array:
        """dZ = dA * g'(Z), given A = g(Z)."""
        if self.fused is None:
            return dA * self.dg(Z, xp=xp)
        if self.params:
            return self.fused(dA, Z, A, xp=xp, **dict(self.params))
        return self.fused(dA, Z, A, xp=xp)

    def to_spec(self) -> str | dict[str, Any]:
        """JSON-friendly description, inverted by :func:`~xpnet.activations.get_activation`."""
        return {"name": self.name, **dict(self.params)} if self.params else self.name


def leaky_relu(slope: float = 0.01) -> Activation:
    """A leaky ReLU with the given negative-side slope (0.01 by default)."""
    slope = float(slope)
    if not 0 <= slope < 1:
        raise ValueError(f"leaky_relu slope={slope} must satisfy 0 <= slope < 1, e.g. 0.01")
    return Activation("leaky_relu", _leaky_relu, _leaky_relu_prime, params=(("slope", slope),))


#: name -> Activation: the single table of activations and their derivatives.
ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_prime, _sigmoid_backprop),
    "tanh": Activation("tanh", _tanh, _tanh_prime, _tanh_backprop),
    "relu": Activation("relu", _relu, _relu_prime),
    "leaky_relu": leaky_relu(0.01),
    "linear": Activation("linear", _linear, _linear_prime, _linear_backprop),
}

#: The column-wise softmax output activation (C >= 2 classes); ``get_activation("softmax")``.
SOFTMAX = Activation("softmax", softmax, _softmax_prime, elementwise=False)


_BY_NAME: dict[str, Activation] = {**ACTIVATIONS, "softmax": SOFTMAX}


def get_activation(spec: str | Activation | dict[str, Any]) -> Activation:
    """Look up an activation by name, pass an :class:`Activation` through, or
    rebuild one from its :meth:`Activation.to_spec` dict (``{"name": "leaky_relu",
    "slope": 0.2}``)."""
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, dict):
        spec = dict(spec)
        name = spec.pop("name", None)
        if name == "leaky_relu":
            return leaky_relu(**spec)
        if name in _BY_NAME and not spec:
            return _BY_NAME[name]
        raise ValueError(
            f"activation spec {spec!r} with name={name!r} is not valid; expected one of "
            f"{sorted(_BY_NAME)} (only 'leaky_relu' takes a parameter, 'slope')"
        )
    if isinstance(spec, str) and spec in _BY_NAME:
        return _BY_NAME[spec]
    raise ValueError(
        f"activation {spec!r} is not known; expected one of {sorted(_BY_NAME)}, "
        "or xpnet.activations.leaky_relu(slope) for another leaky slope"
    )
