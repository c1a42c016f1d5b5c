"""The reference for the abstraction cost: the same step written directly in NumPy.

Same formulas as xpnet's vectorized kernels (ReLU hidden layers, overflow-free sigmoid
output, cross-entropy from the logits in softplus form, dZ[L] = A[L] - Y, no dA[0]), in
the idioms a NumPy programmer would use (``@``, ``np.maximum``, a boolean mask), with no
namespace dispatch, no cache objects and no activation table.
"""

from __future__ import annotations

import numpy as np


def numpy_step(X: np.ndarray, Y: np.ndarray, params: dict, lr: float):
    """One gradient step: forward, cost, backward, update. Returns (new params, cost)."""
    L = len(params) // 2
    m = X.shape[1]
    A = X
    cache = []
    for layer in range(1, L + 1):
        Z = params[f"W{layer}"] @ A + params[f"b{layer}"]
        cache.append((A, Z))
        if layer < L:
            A = np.maximum(Z, 0)
        else:
            E = np.exp(-np.abs(Z))
            A = np.where(Z >= 0, 1 / (1 + E), E / (1 + E))
    ZL = cache[-1][1]
    J = np.sum(np.maximum(ZL, 0) + np.log1p(np.exp(-np.abs(ZL))) - Y * ZL) / m
    new = {}
    dZ = A - Y
    dA = None
    for layer in range(L, 0, -1):
        A_prev, Z = cache[layer - 1]
        if layer < L:
            dZ = dA * (Z > 0)
        W = params[f"W{layer}"]
        new[f"W{layer}"] = W - lr * ((dZ @ A_prev.T) / m)
        new[f"b{layer}"] = params[f"b{layer}"] - lr * (np.sum(dZ, axis=1, keepdims=True) / m)
        if layer > 1:
            dA = W.T @ dZ
    return new, J
