"""Cross-entropy costs (binary and categorical), their output error dZ[L], and the L2 term.

Shapes: for the binary (sigmoid) output, AL, ZL and Y are (1, m); for the softmax
output over C classes they are (C, m) with Y one-hot. W{l} is (n[l], n[l-1]).
All functions return arrays of the input's library, so no device sync or graph
compute happens here; the training loop decides when to read a cost.

:data:`OUTPUT_LOSSES` maps the output activation's name to its cost (from the
logits, and from the probabilities) and its output error dZ[L] = A[L] - Y.

Weighted examples (softmax output). The categorical cost and output error are
written for a label matrix whose column i sums to a weight s(i) >= 0, i.e.
Y = s ⊙ Y₀ with Y₀ one-hot (a row s of shape (1, m) broadcast over the C rows):

    J = -(1/m) Σ_i Σ_k y_k(i) log a_k(i) = (1/m) Σ_i s(i) ℓ(i),
    ℓ(i) = -Σ_k y₀_k(i) log a_k(i)  (example i's own loss),
    dZ[L] = s ⊙ A[L] - Y = s ⊙ (A[L] - Y₀)  (its exact gradient times m).

With one-hot Y (s = 1) these are the course's formulas, bit for bit. The weights
ride in Y, so they follow Y through mini-batches and every implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, NamedTuple

__all__ = [
    "OUTPUT_LOSSES",
    "OutputLoss",
    "cross_entropy",
    "cross_entropy_from_logits",
    "l2_gradient",
    "l2_penalty",
    "log_softmax",
    "output_error",
    "softmax_cross_entropy",
    "softmax_cross_entropy_from_logits",
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


def log_softmax(Z: Array, *, xp: ModuleType) -> Array:
    """log a_k = z_k - log Σ_j e^(z_j), column by column (log-sum-exp form).

    Computed as (z_k - M) - log Σ_j e^(z_j - M) with M = max_j z_j per column:
    every exponent is <= 0 and the sum is >= 1, so the result is finite for any
    finite z (z = ±1e4 included), where log(softmax(z)) would give log(0) = -inf.
    """
    Zs = Z - xp.max(Z, axis=0, keepdims=True)
    return Zs - xp.log(xp.sum(xp.exp(Zs), axis=0, keepdims=True))


def softmax_cross_entropy_from_logits(ZL: Array, Y: Array, *, xp: ModuleType) -> Array:
    """J = -(1/m) Σ_i Σ_k y_k(i) log a_k(i), with a(i) = softmax(z(i)), from the logits.

    ZL and Y are (C, m), Y one-hot (or weighted one-hot, see the module docstring).
    Computed with :func:`log_softmax` (log-sum-exp), finite for any finite z; a 0
    label times a very negative log a is 0, never 0 · (-inf).
    """
    m = Y.shape[1]
    return -xp.sum(Y * log_softmax(ZL, xp=xp)) / m


def softmax_cross_entropy(AL: Array, Y: Array, *, xp: ModuleType) -> Array:
    """J = -(1/m) Σ_i Σ_k y_k(i) log a_k(i) from probabilities AL (C, m).

    AL is clipped from below at the dtype's machine epsilon, so a probability that
    underflowed to 0 gives a finite cost. Where the logits are at hand, prefer
    :func:`softmax_cross_entropy_from_logits`, which needs no clip.
    """
    m = Y.shape[1]
    eps = xp.finfo(AL.dtype).eps
    return -xp.sum(Y * xp.log(xp.clip(AL, eps, 1.0))) / m


def _binary_output_error(AL: Array, Y: Array, *, xp: ModuleType) -> Array:
    """dZ[L] = A[L] - Y (sigmoid output with binary cross-entropy), (1, m)."""
    return AL - Y


def _softmax_output_error(AL: Array, Y: Array, *, xp: ModuleType) -> Array:
    """dZ[L] = s ⊙ A[L] - Y with s = Σ_k y_k (1, m): A[L] - Y for one-hot Y, (C, m)."""
    return AL * xp.sum(Y, axis=0, keepdims=True) - Y


class OutputLoss(NamedTuple):
    """The cost of an output activation and its output error dZ[L]."""

    from_logits: Any  # (ZL, Y, *, xp) -> J, exact for any logits
    from_probabilities: Any  # (AL, Y, *, xp) -> J, clipped
    output_error: Any  # (AL, Y, *, xp) -> dZ[L]


#: output activation name -> its cross-entropy and output error.
OUTPUT_LOSSES: dict[str, OutputLoss] = {
    "sigmoid": OutputLoss(cross_entropy_from_logits, cross_entropy, _binary_output_error),
    "softmax": OutputLoss(
        softmax_cross_entropy_from_logits, softmax_cross_entropy, _softmax_output_error
    ),
}


def output_error(AL: Array, Y: Array, output: str, *, xp: ModuleType) -> Array:
    """dZ[L] = A[L] - Y for the output activation named ``output`` ("sigmoid" or
    "softmax"), computed directly rather than as dA[L] * g'(Z[L])."""
    return OUTPUT_LOSSES[output].output_error(AL, Y, xp=xp)


def l2_penalty(params: Mapping[str, Array], m: int, lambd: float, *, xp: ModuleType) -> Array:
    """The L2 term of the regularized cost: (λ / (2m)) Σ_l ‖W{l}‖_F².

    Its gradient, (λ/m) W{l} (:func:`l2_gradient`), is added to dW{l} in backward
    propagation.
    """
    L = len(params) // 2
    total = sum(xp.sum(params[f"W{l}"] * params[f"W{l}"]) for l in range(1, L + 1))
    return (lambd / (2 * m)) * total


def l2_gradient(W: Array, m: int, lambd: float) -> Array:
    """The L2 term's gradient with respect to W{l}: (λ/m) W{l}, added to dW{l}."""
    return (lambd / m) * W
