"""The per-layer cache that forward propagation keeps for the backward step."""

from __future__ import annotations

from typing import Any, NamedTuple

from .activations import Activation

__all__ = ["LayerCache"]


class LayerCache(NamedTuple):
    """What layer l's backward step needs: the course's ``(linear_cache, activation_cache)``
    without b, which no gradient formula reads.

    Attributes
    ----------
    A_prev : (n[l-1], m) array
        The layer's input A[l-1] (A[0] = X).
    W : (n[l], n[l-1]) array
        The backward step needs W[l] for dA[l-1] = W[l]ᵀ dZ[l]. b[l] is not kept: no
        gradient formula reads it.
    Z : (n[l], m) array
        Z[l] = W[l] A[l-1] + b[l].
    activation : Activation
        g[l], whose derivative g'[l](Z[l]) the backward step uses.
    D : (n[l], m) array or None
        Inverted-dropout mask of this layer's output, already divided by
        keep_prob[l] (values 0 or 1/keep_prob): A[l] = g(Z[l]) * D. The backward step
        applies it to dA[l] before g'. None when the layer does not drop.
    """

    A_prev: Any
    W: Any
    Z: Any
    activation: Activation
    D: Any = None
