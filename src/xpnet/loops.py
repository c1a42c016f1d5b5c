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
    X: Array, params: Mapping[str, Array], activations: Sequence[Activation], *, xp: ModuleType
) -> tuple[Array, list[LayerCache]]:
    """Forward propagation, one scalar at a time.

    For each layer l, example i and unit u:
    z[l]_u(i) = Σ_j W[l]_uj a[l-1]_j(i) + b[l]_u,  a[l]_u(i) = g[l](z[l]_u(i)).
    A softmax layer takes a[l](i) = softmax(z[l](i)) over the example's n[l] units.
    """
    A = X
    caches = []
    for l, act in enumerate(activations, start=1):
        W, b = params[f"W{l}"], params[f"b{l}"]
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
                    A_rows[u].append(act.g(z, xp=xp))
            if not act.elementwise:  # g of the whole column z(i), e.g. softmax
                a = act.g(xp.stack([Z_rows[u][i] for u in range(n_l)]), xp=xp)
                for u in range(n_l):
                    A_rows[u].append(a[u])
        Z = _matrix(Z_rows, xp=xp)
        caches.append(LayerCache(A, W, b, Z, act))
        A = _matrix(A_rows, xp=xp)
    return A, caches


def backward_loops(
    AL: Array, Y: Array, caches: Sequence[LayerCache], l2: float = 0.0, *, xp: ModuleType
) -> dict[str, Array]:
    """Backward propagation, one scalar at a time.

    Output layer: dz[L]_u(i) = a[L]_u(i) - y_u(i) (softmax: s(i) a[L]_u(i) - y_u(i),
    s(i) = Σ_k y_k(i)). Hidden layers:
    dz[l]_u(i) = da[l]_u(i) g'[l](z[l]_u(i)). Then, accumulated over examples i,
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
        A_prev, W, b, _, _ = caches[l - 1]
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
                    if l > 1:
                        dA[j][i] = dA[j][i] + W[u, j] * dz
        grads[f"dW{l}"] = _matrix(
            [[dW[u][j] / m + l2 / m * W[u, j] for j in range(n_prev)] for u in range(n_l)], xp=xp
        )
        grads[f"db{l}"] = _matrix([[db[u] / m] for u in range(n_l)], xp=xp)
        if l > 1:
            Z_below, g_below = caches[l - 2].Z, caches[l - 2].activation
            dZ = [
                [dA[j][i] * g_below.dg(Z_below[j, i], xp=xp) for i in range(m)]
                for j in range(n_prev)
            ]
    return grads


# ------------------------------------------------------------------------- per-example loops


def forward_per_example(
    X: Array, params: Mapping[str, Array], activations: Sequence[Activation], *, xp: ModuleType
) -> tuple[Array, list[LayerCache]]:
    """Forward propagation, one example (column) at a time:
    z[l](i) = W[l] a[l-1](i) + b[l],  a[l](i) = g[l](z[l](i)), each (n[l], 1)."""
    L = len(activations)
    m = X.shape[1]
    Z_cols: list[list[Array]] = [[] for _ in range(L)]
    A_cols: list[list[Array]] = [[] for _ in range(L + 1)]
    for i in range(m):
        a = X[:, i : i + 1]
        A_cols[0].append(a)
        for l, act in enumerate(activations, start=1):
            z = xp.matmul(params[f"W{l}"], a) + params[f"b{l}"]
            a = act.g(z, xp=xp)
            Z_cols[l - 1].append(z)
            A_cols[l].append(a)
    A = [X] + [xp.concat(cols, axis=1) for cols in A_cols[1:]]
    caches = [
        LayerCache(
            A[l - 1], params[f"W{l}"], params[f"b{l}"], xp.concat(Z_cols[l - 1], axis=1), act
        )
        for l, act in enumerate(activations, start=1)
    ]
    return A[L], caches


def backward_per_example(
    AL: Array, Y: Array, caches: Sequence[LayerCache], l2: float = 0.0, *, xp: ModuleType
) -> dict[str, Array]:
    """Backward propagation, one example at a time, accumulating
    dW[l] += dz[l](i) a[l-1](i)ᵀ and db[l] += dz[l](i), then dividing by m;
    dz[L](i) = a[L](i) - y(i) (the output error of :mod:`xpnet.losses`, softmax included),
    da[l-1](i) = W[l]ᵀ dz[l](i), dz[l](i) = da[l](i) * g'(z[l](i))."""
    m = Y.shape[1]
    L = len(caches)
    dW = [xp.zeros_like(c.W) for c in caches]
    db = [xp.zeros_like(c.b) for c in caches]
    output = caches[-1].activation.name
    for i in range(m):
        dz = output_error(AL[:, i : i + 1], Y[:, i : i + 1], output, xp=xp)
        for l in range(L, 0, -1):
            c = caches[l - 1]
            dW[l - 1] = dW[l - 1] + xp.matmul(dz, c.A_prev[:, i : i + 1].T)
            db[l - 1] = db[l - 1] + dz
            if l > 1:
                below = caches[l - 2]
                da = xp.matmul(c.W.T, dz)
                dz = da * below.activation.dg(below.Z[:, i : i + 1], xp=xp)
    grads: dict[str, Array] = {}
    for l in range(L, 0, -1):
        W = caches[l - 1].W
        grads[f"dW{l}"] = dW[l - 1] / m + (l2 / m) * W
        grads[f"db{l}"] = db[l - 1] / m
    return grads
