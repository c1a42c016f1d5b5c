"""Binary cross-entropy cost and its L2 term.

Shapes: AL, ZL and Y are (1, m); W{l} is (n[l], n[l-1]). All functions return
0-d arrays of the input's library, so no device sync or graph compute happens
here; the training loop decides when to read a cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

__all__ = [
    "cross_entropy",
    "cross_entropy_from_logits",
    "l2_penalty",
    "softplus",
]

Array = Any


def softplus(Z: Array, *, xp: ModuleType) -> Array:
    """softplus(Z) = log(1 + e^Z) = max(Z, 0) + log(1 + e^(-abs(Z))), finite for any Z."""
    return xp.maximum(Z, 0.0) + xp.log1p(xp.exp(-xp.abs(Z)))


def cross_entropy_from_logits(ZL: Array, Y: Array, *, xp: ModuleType) -> Array:
    """J = -(1/m) Σ_i [y(i) log a(i) + (1 - y(i)) log(1 - a(i))], with a = σ(z).

    Computed from the output layer's logits ZL in the equivalent softplus form
    J = (1/m) Σ_i [softplus(z(i)) - y(i) z(i)], which is exact and finite for
    any z (z = ±1e4 included), where log(σ(z)) would give log(0) = -inf.
    """
    m = Y.shape[1]
    return xp.sum(softplus(ZL, xp=xp) - Y * ZL) / m


def cross_entropy(AL: Array, Y: Array, *, xp: ModuleType) -> Array:
    """J = -(1/m) Σ_i [y(i) log a(i) + (1 - y(i)) log(1 - a(i))] from probabilities AL.

    AL is clipped to [ε, 1 - ε] with ε the dtype's machine epsilon, so a saturated
    output (a = 0 or 1 exactly) gives a finite cost instead of log(0). Away from
    saturation the clip changes nothing. Where the logits are at hand, prefer
    :func:`cross_entropy_from_logits`, which needs no clip.
    """
    m = Y.shape[1]
    eps = xp.finfo(AL.dtype).eps
    A = xp.clip(AL, eps, 1 - eps)
    return -xp.sum(Y * xp.log(A) + (1 - Y) * xp.log(1 - A)) / m


def l2_penalty(params: Mapping[str, Array], m: int, lambd: float, *, xp: ModuleType) -> Array:
    """The L2 term of the regularized cost: (λ / (2m)) Σ_l ‖W{l}‖_F².

    Its gradient, (λ/m) W{l}, is added to dW{l} in backward propagation.
    """
    L = len(params) // 2
    total = sum(xp.sum(params[f"W{l}"] * params[f"W{l}"]) for l in range(1, L + 1))
    return (lambd / (2 * m)) * total
