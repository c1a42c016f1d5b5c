"""Forward and backward propagation written as explicit for-loops.

These are the lectures' formulas *before* vectorisation, kept so the benchmarks
can measure what vectorisation buys. They compute the same quantities as
:mod:`xpnet.propagation` (same caches, same gradients) and use the same Array
API namespace ``xp``; only the loop structure differs.

``loops``
    Scalar arithmetic in a double loop over examples i and units/features j, as
    in the week-2 lecture ``for i in range(m): z(i) = Σ_j w_j x_j(i) + b ...;
    dw_j += x_j(i) dz(i)``. Every product is one scalar (0-d array) operation,
    which on a GPU is one kernel launch.
``per_example``
    One loop over examples i with per-example vector math:
    z(i) = W a(i) + b, dW += dz(i) a_prev(i)ᵀ.

Arrays are never updated in place: scalars are collected in Python lists and
assembled with ``xp.stack`` / ``xp.concat`` once per layer.

A softmax output is not element-wise: both versions apply it to one example's
column z(i) (C,) at a time, and start backward from dz[L](i) = s(i) a[L](i) - y(i),
s(i) = Σ_k y_k(i) (1 for one-hot labels, the example's weight otherwise; see
:mod:`xpnet.losses`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import array_api_compat

from .activations import Activation
from .cache import LayerCache
from .losses import output_error

__all__ = [
    "backward_loops",
    "backward_per_example",
    "forward_loops",
    "forward_per_example",
]

Array = Any


def _matrix(rows: list[list[Array]], *, xp: ModuleType) -> Array:
    """Assemble a 2-D array from a list of rows of 0-d arrays."""
    return xp.stack([xp.stack(row) for row in rows])


# ----------------------------------------------------------------------------- scalar loops


def forward_loops(
    X: Array,
    params: Mapping[str, Array],
    activations: Sequence[Activation],
    *,
    xp: ModuleType,
    masks: Sequence[Array | None] | None = None,
) -> tuple[Array, list[LayerCache]]:
    """Forward propagation, one scalar at a time.

    For each layer l, example i and unit u:
    z[l]_u(i) = Σ_j W[l]_uj a[l-1]_j(i) + b[l]_u,  a[l]_u(i) = g[l](z[l]_u(i)),
    times d[l]_u(i) / keep_prob[l] with dropout (``masks[l-1]`` holds that factor).
    A softmax layer takes a[l](i) = softmax(z[l](i)) over the example's n[l] units.
    """
    A = X
    caches = []
    for l, act in enumerate(activations, start=1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        D = None if masks is None else masks[l - 1]
        n_l, n_prev = W.shape
        m = A.shape[1]
        Z_rows: list[list[Array]] = [[] for _ in range(n_l)]
        A_rows: list[list[Array]] = [[] for _ in range(n_l)]
        for i in range(m):
            for u in range(n_l):
                z = b[u, 0]
                for j in range(n_prev):
                    z = z + W[u, j] * A[j, i]
                Z_rows[u].append(z)
                if act.elementwise:
                    a = act.g(z, xp=xp)
                    A_rows[u].append(a if D is None else a * D[u, i])
            if not act.elementwise:  # g of the whole column z(i), e.g. softmax
                a = act.g(xp.stack([Z_rows[u][i] for u in range(n_l)]), xp=xp)
                for u in range(n_l):
                    A_rows[u].append(a[u] if D is None else a[u] * D[u, i])
        Z = _matrix(Z_rows, xp=xp)
        caches.append(LayerCache(A, W, Z, act, D))
        A = _matrix(A_rows, xp=xp)
    return A, caches


def backward_loops(
    AL: Array,
    Y: Array,
    caches: Sequence[LayerCache],
    l2: float = 0.0,
    *,
    xp: ModuleType,
    return_dA: bool = False,
) -> dict[str, Array]:
    """Backward propagation, one scalar at a time.

    Output layer: dz[L]_u(i) = a[L]_u(i) - y_u(i) (softmax: s(i) a[L]_u(i) - y_u(i),
    s(i) = Σ_k y_k(i)). Hidden layers:
    dz[l]_u(i) = da[l]_u(i) d[l]_u(i)/keep_prob g'[l](z[l]_u(i)), with g' taken from
    a = g(z) where the vectorised path does (tanh: 1 - a², sigmoid: a(1 - a)) and the
    mask only with dropout. Then, accumulated over examples i,
    dW[l]_uj = (1/m) Σ_i dz[l]_u(i) a[l-1]_j(i) + (λ/m) W[l]_uj,
    db[l]_u = (1/m) Σ_i dz[l]_u(i), and da[l-1]_j(i) = Σ_u W[l]_uj dz[l]_u(i).
    """
    m = Y.shape[1]
    L = len(caches)
    grads: dict[str, Array] = {}
    n_L = AL.shape[0]
    if caches[-1].activation.name == "softmax":
        s = [sum((Y[k, i] for k in range(1, n_L)), start=Y[0, i]) for i in range(m)]
        dZ = [[AL[u, i] * s[i] - Y[u, i] for i in range(m)] for u in range(n_L)]
    else:
        dZ = [[AL[u, i] - Y[u, i] for i in range(m)] for u in range(n_L)]
    for l in range(L, 0, -1):
        A_prev, W = caches[l - 1].A_prev, caches[l - 1].W
        n_l, n_prev = W.shape
        zero = xp.zeros((), dtype=W.dtype, device=array_api_compat.device(W))
        dW = [[zero] * n_prev for _ in range(n_l)]
        db = [zero] * n_l
        dA = [[zero] * m for _ in range(n_prev)]
        for i in range(m):
            for u in range(n_l):
                dz = dZ[u][i]
                db[u] = db[u] + dz
                for j in range(n_prev):
                    dW[u][j] = dW[u][j] + dz * A_prev[j, i]
                    if l > 1 or return_dA:
                        dA[j][i] = dA[j][i] + W[u, j] * dz
        grads[f"dW{l}"] = _matrix(
            [[dW[u][j] / m + l2 / m * W[u, j] for j in range(n_prev)] for u in range(n_l)], xp=xp
        )
        grads[f"db{l}"] = _matrix([[db[u] / m] for u in range(n_l)], xp=xp)
        if return_dA:
            grads[f"dA{l - 1}"] = _matrix(dA, xp=xp)
        if l > 1:
            below = caches[l - 2]
            Z_b, D_b, g_b = below.Z, below.D, below.activation
            dZ = [
                [_unit_backprop(dA[j][i], Z_b, D_b, A_prev, g_b, j, i, xp=xp) for i in range(m)]
                for j in range(n_prev)
            ]
    return grads


def _unit_backprop(
    da: Array, Z: Array, D: Array | None, A: Array, g: Activation, j: int, i: int, *, xp: ModuleType
) -> Array:
    """dz_j(i) = da_j(i) [d_j(i)/keep_prob] g'(z_j(i)), g' from a = g(z) as the vectorised
    path does; with dropout the a passed on was masked, so g(z) is recomputed."""
    z = Z[j, i]
    if D is None:
        return g.backprop(da, z, A[j, i], xp=xp)
    return g.backprop(da * D[j, i], z, g.g(z, xp=xp), xp=xp)


# ------------------------------------------------------------------------- per-example loops


def forward_per_example(
    X: Array,
    params: Mapping[str, Array],
    activations: Sequence[Activation],
    *,
    xp: ModuleType,
    masks: Sequence[Array | None] | None = None,
) -> tuple[Array, list[LayerCache]]:
    """Forward propagation, one example (column) at a time:
    z[l](i) = W[l] a[l-1](i) + b[l],  a[l](i) = g[l](z[l](i)), each (n[l], 1),
    times d[l](i) / keep_prob[l] with dropout."""
    L = len(activations)
    m = X.shape[1]
    D = [None] * L if masks is None else list(masks)
    Z_cols: list[list[Array]] = [[] for _ in range(L)]
    A_cols: list[list[Array]] = [[] for _ in range(L + 1)]
    for i in range(m):
        a = X[:, i : i + 1]
        A_cols[0].append(a)
        for l, act in enumerate(activations, start=1):
            z = xp.matmul(params[f"W{l}"], a) + params[f"b{l}"]
            a = act.g(z, xp=xp)
            if D[l - 1] is not None:
                a = a * D[l - 1][:, i : i + 1]
            Z_cols[l - 1].append(z)
            A_cols[l].append(a)
    A = [X] + [xp.concat(cols, axis=1) for cols in A_cols[1:]]
    caches = [
        LayerCache(
            A[l - 1],
            params[f"W{l}"],
            xp.concat(Z_cols[l - 1], axis=1),
            act,
            D[l - 1],
        )
        for l, act in enumerate(activations, start=1)
    ]
    return A[L], caches


def backward_per_example(
    AL: Array,
    Y: Array,
    caches: Sequence[LayerCache],
    l2: float = 0.0,
    *,
    xp: ModuleType,
    return_dA: bool = False,
) -> dict[str, Array]:
    """Backward propagation, one example at a time, accumulating
    dW[l] += dz[l](i) a[l-1](i)ᵀ and db[l] += dz[l](i), then dividing by m;
    dz[L](i) = a[L](i) - y(i) (the output error of :mod:`xpnet.losses`, softmax included),
    da[l-1](i) = W[l]ᵀ dz[l](i),
    dz[l](i) = da[l](i) [* d[l](i)/keep_prob] * g'(z[l](i)), g' taken from a = g(z) where
    the vectorised path does (tanh: 1 - a², sigmoid: a(1 - a))."""
    m = Y.shape[1]
    L = len(caches)
    dW = [xp.zeros_like(c.W) for c in caches]
    db = [xp.zeros(c.W.shape[:1] + (1,), dtype=c.W.dtype, device=_device(c.W)) for c in caches]
    dA_cols: list[list[Array]] = [[] for _ in range(L)]
    output = caches[-1].activation.name
    for i in range(m):
        dz = output_error(AL[:, i : i + 1], Y[:, i : i + 1], output, xp=xp)
        for l in range(L, 0, -1):
            c = caches[l - 1]
            dW[l - 1] = dW[l - 1] + xp.matmul(dz, c.A_prev[:, i : i + 1].T)
            db[l - 1] = db[l - 1] + dz
            if l > 1 or return_dA:
                da = xp.matmul(c.W.T, dz)
                if return_dA:
                    dA_cols[l - 1].append(da)
            if l > 1:
                below = caches[l - 2]
                z = below.Z[:, i : i + 1]
                if below.D is None:
                    a = c.A_prev[:, i : i + 1]
                else:
                    da = da * below.D[:, i : i + 1]
                    a = below.activation.g(z, xp=xp)
                dz = below.activation.backprop(da, z, a, xp=xp)
    grads: dict[str, Array] = {}
    for l in range(L, 0, -1):
        W = caches[l - 1].W
        grads[f"dW{l}"] = dW[l - 1] / m + (l2 / m) * W
        grads[f"db{l}"] = db[l - 1] / m
        if return_dA:
            grads[f"dA{l - 1}"] = xp.concat(dA_cols[l - 1], axis=1)
    return grads


def _device(a: Array) -> object:
    return array_api_compat.device(a)
