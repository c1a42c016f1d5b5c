"""A plain-NumPy float64 reference of the course's formulas, written independently of
xpnet's kernels, so the tests compare xpnet on every backend against it."""

from __future__ import annotations

import numpy as np


def g(name: str, Z: np.ndarray, slope: float = 0.01) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(0.0, Z)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, slope * Z)
    if name == "linear":
        return Z.copy()
    if name == "softmax":  # column-wise, each column shifted by its max
        E = np.exp(Z - Z.max(axis=0, keepdims=True))
        return E / E.sum(axis=0, keepdims=True)
    raise KeyError(name)


def g_prime(name: str, Z: np.ndarray, slope: float = 0.01) -> np.ndarray:
    if name == "sigmoid":
        s = g("sigmoid", Z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(Z) ** 2
    if name == "relu":
        return (Z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(Z > 0, 1.0, slope)
    if name == "linear":
        return np.ones_like(Z)
    raise KeyError(name)


def forward(X, params, acts):
    A, cache = X, []
    for l, name in enumerate(acts, start=1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        cache.append((A, Z))
        A = g(name, Z)
    return A, cache


def cost(AL, Y, params=None, l2=0.0):
    m = Y.shape[1]
    J = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    if l2:
        J += l2 / (2 * m) * sum(np.sum(W**2) for k, W in params.items() if k[0] == "W")
    return J


def softmax_cost(ZL, Y, params=None, l2=0.0):
    """-(1/m) Σ_i Σ_k y_k log a_k with log a_k = z_k - logsumexp(z), column by column."""
    m = Y.shape[1]
    M = ZL.max(axis=0, keepdims=True)
    log_a = ZL - M - np.log(np.exp(ZL - M).sum(axis=0, keepdims=True))
    J = -np.sum(Y * log_a) / m
    if l2:
        J += l2 / (2 * m) * sum(np.sum(W**2) for k, W in params.items() if k[0] == "W")
    return J


def one_hot(labels, C):
    """(C, m) one-hot of integer labels (m,) or (1, m)."""
    labels = np.asarray(labels).reshape(-1)
    return (np.arange(C).reshape(C, 1) == labels).astype(float)


def backward(AL, Y, cache, params, acts, l2=0.0):
    m = Y.shape[1]
    L = len(acts)
    grads = {}
    dZ = AL - Y
    for l in range(L, 0, -1):
        A_prev, _ = cache[l - 1]
        grads[f"dW{l}"] = dZ @ A_prev.T / m + l2 / m * params[f"W{l}"]
        grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True) / m
        if l > 1:
            dZ = (params[f"W{l}"].T @ dZ) * g_prime(acts[l - 2], cache[l - 2][1])
    return grads


def random_problem(layer_dims, m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((layer_dims[0], m))
    Y = (rng.random((1, m)) > 0.5).astype(float)
    params = {}
    for l in range(1, len(layer_dims)):
        params[f"W{l}"] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * 0.7
        params[f"b{l}"] = rng.standard_normal((layer_dims[l], 1)) * 0.1
    return X, Y, params
