"""References written by hand: the same step directly in NumPy (the abstraction cost,
the NumPy fit), and the step a JAX user would write with ``jax.numpy`` under ``jax.jit``.

Same formulas as xpnet's vectorized kernels (ReLU hidden layers, overflow-free sigmoid
output, cross-entropy from the logits in softplus form, dZ[L] = A[L] - Y, no dA[0]), in
the idioms a NumPy programmer would use (``@``, ``np.maximum``, a boolean mask), with no
namespace dispatch, no cache objects and no activation table.
"""

from __future__ import annotations

import numpy as np


def numpy_step(X: np.ndarray, Y: np.ndarray, params: dict, lr: float, hidden: str = "relu"):
    """One gradient step: forward, cost, backward, update. Returns (new params, cost).

    ``hidden`` is "relu" or "tanh" (tanh' from the forward output: 1 - A²)."""
    L = len(params) // 2
    m = X.shape[1]
    A = X
    cache = []
    for layer in range(1, L + 1):
        Z = params[f"W{layer}"] @ A + params[f"b{layer}"]
        cache.append((A, Z))
        if layer < L:
            A = np.maximum(Z, 0) if hidden == "relu" else np.tanh(Z)
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
            dZ = dA * (Z > 0) if hidden == "relu" else dA * (1 - cache[layer][0] ** 2)
        W = params[f"W{layer}"]
        new[f"W{layer}"] = W - lr * ((dZ @ A_prev.T) / m)
        new[f"b{layer}"] = params[f"b{layer}"] - lr * (np.sum(dZ, axis=1, keepdims=True) / m)
        if layer > 1:
            dA = W.T @ dZ
    return new, J


def numpy_fit(X, Y, params, lr, num_iterations, record_every=100, hidden="relu"):
    """The whole fit as a NumPy user writes it: the step in a loop, the cost read as a
    float at the recording iterations. Returns (params, [(i, cost)])."""
    costs = []
    for i in range(num_iterations):
        params, J = numpy_step(X, Y, params, lr, hidden)
        if i % record_every == 0:
            costs.append((i, float(J)))
    return params, costs


def jax_step(hidden: str = "relu", *, donate: bool = True):
    """The fastest full-batch step a JAX user would write: the loss in ``jax.numpy``
    (softplus cross-entropy from the logits), ``jax.value_and_grad``, a tree-mapped SGD
    update, all under one ``jax.jit`` with the parameters' buffers donated.
    ``step(params, X, Y, lr) -> (new params, J)``, J the cost before the update."""
    import jax
    import jax.numpy as jnp

    g = jax.nn.relu if hidden == "relu" else jnp.tanh

    def loss(params, X, Y):
        L = len(params) // 2
        A = X
        for layer in range(1, L):
            A = g(params[f"W{layer}"] @ A + params[f"b{layer}"])
        Z = params[f"W{L}"] @ A + params[f"b{L}"]
        return jnp.mean(jnp.maximum(Z, 0) + jnp.log1p(jnp.exp(-jnp.abs(Z))) - Y * Z)

    def step(params, X, Y, lr):
        J, grads = jax.value_and_grad(loss)(params, X, Y)
        return jax.tree.map(lambda p, d: p - lr * d, params, grads), J

    return jax.jit(step, donate_argnums=(0,) if donate else ())
