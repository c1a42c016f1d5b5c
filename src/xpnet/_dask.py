"""Dask policy: how training lays out, persists, checks and computes Dask arrays.

:mod:`xpnet._backend` turns names into namespaces and moves arrays between
libraries; this module decides what a Dask array looks like during training:

* the chunking rule (chunk along m only, so each block holds whole examples) and
  the alignment of Y's chunks with X's (:func:`chunk_examples`,
  :func:`align_examples_chunks`);
* persisting X and Y on a ``dask.distributed`` cluster once before training, when
  they fit in its memory (:func:`persist_examples`, :func:`current_client`);
* NaN/inf checks that stay lazy for prediction (:func:`lazy_check_finite`);
* moving the parameters to the host and back around a run (:func:`materialize_to_host`,
  :func:`to_single_chunks`);
* a full-batch training step as one small graph: a function of each block of
  examples, summed over the blocks (:func:`sum_over_blocks`).

Every function passes non-Dask arrays through unchanged.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "PERSIST_MEMORY_FRACTION",
    "align_examples_chunks",
    "chunk_examples",
    "current_client",
    "lazy_check_finite",
    "materialize_to_host",
    "persist_examples",
    "sum_over_blocks",
    "to_single_chunks",
]


def materialize_to_host(trees: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
    """Dicts of (small, Dask) arrays computed to host NumPy arrays in one pass."""
    import dask

    flat = [a for t in trees for a in t.values()]
    computed = iter(dask.compute(*flat))
    return tuple({k: np.asarray(next(computed)) for k in t} for t in trees)


def to_single_chunks(trees: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
    """Dicts of host arrays back to single-chunk Dask arrays (the model's parameters)."""
    import dask.array as da

    return tuple({k: _single_chunk(da, a) for k, a in t.items()} for t in trees)


def _single_chunk(da: ModuleType, a: Any) -> Any:
    a = np.asarray(a)
    return da.from_array(a, chunks=a.shape)


#: ``persist_examples`` keeps X lazy (streamed from its source every iteration)
#: when it is larger than this fraction of the cluster's total worker memory.
PERSIST_MEMORY_FRACTION = 0.5


def current_client() -> Any:
    """The ``dask.distributed.Client`` that Dask computes on now, or ``None``.

    ``None`` when distributed is not installed, no client exists, or the user
    picked a local scheduler with ``dask.config.set(scheduler=...)``.
    """
    try:
        from distributed import Client
    except ImportError:
        return None
    import dask.base

    try:
        scheduler = dask.base.get_scheduler()
    except (RuntimeError, ValueError):
        return None
    # get_scheduler gives the client itself or its bound ``get`` method
    client = getattr(scheduler, "__self__", scheduler)
    return client if isinstance(client, Client) else None


def chunk_examples(X: Any, *, arg: str = "X") -> Any:
    """Give a Dask X of shape (n_x, m) the layout training needs; other arrays pass through.

    The chunking rule: the examples axis m (columns) may be chunked freely, even
    unevenly (empty chunks are dropped), but the feature axis n_x must be one chunk,
    so that every block is a full set of columns (whole examples) and Z = W X is one
    blockwise matmul per block. An X split along n_x is rechunked to one chunk along axis 0,
    keeping its m-chunks; when such a merged block would exceed Dask's
    ``array.chunk-size`` setting, the m-chunks are re-chosen ("auto") so blocks
    stay near that size.

    Raises
    ------
    ValueError
        When the chunk sizes along m are unknown (NaN), or when even one column of
        n_x values exceeds ``array.chunk-size`` (a block cannot hold one example).
    """
    if not array_api_compat.is_dask_array(X) or X.ndim != 2:
        return X
    import dask
    from dask.utils import parse_bytes

    if any(math.isnan(c) for c in X.chunks[1]) or math.isnan(X.shape[1]):
        raise ValueError(
            f"{arg} has unknown chunk sizes along m (axis 1): {X.chunks[1]!r}; training "
            f"needs them to know m: call {arg} = {arg}.compute_chunk_sizes() first"
        )
    if 0 in X.chunks[1] and X.shape[1] > 0:
        # Empty blocks (a filter X[:, keep] leaves them) hold no example: their mean
        # cost and gradients would be 0/0 = NaN in the sum over blocks, and a
        # mini-batch epoch would find no batch in them.
        X = X.rechunk({1: tuple(c for c in X.chunks[1] if c)})
    if len(X.chunks[0]) == 1:
        return X
    n_x = X.shape[0]
    limit = parse_bytes(dask.config.get("array.chunk-size"))
    column = n_x * X.dtype.itemsize
    if column > limit:
        raise ValueError(
            f"{arg} is chunked along the feature axis n_x (axis 0) into {X.chunks[0]!r}, and "
            f"one column of {n_x} values ({column} bytes) exceeds Dask's array.chunk-size "
            f"({limit} bytes), so no block can hold a whole example; raise the limit with "
            "dask.config.set({'array.chunk-size': '1GiB'}) or pass X with one chunk along "
            f"axis 0: {arg}.rechunk({{0: -1}})"
        )
    widest = max(X.chunks[1])
    if widest * column <= limit:
        return X.rechunk({0: -1})
    return X.rechunk({0: -1, 1: "auto"})


def align_examples_chunks(Y: Any, like: Any) -> Any:
    """Rechunk a Dask Y (1, m) to the m-chunks of ``like`` (X, or predictions); else pass."""
    if not (array_api_compat.is_dask_array(Y) and array_api_compat.is_dask_array(like)):
        return Y
    if Y.ndim != 2 or like.ndim != 2 or Y.shape[1] != like.shape[1]:
        return Y  # the shape checks report this
    want = ((Y.shape[0],), like.chunks[1])
    return Y if Y.chunks == want else Y.rechunk(want)


def persist_examples(*arrays: Any) -> tuple[Any, ...]:
    """Persist Dask training data on the cluster's workers once, before the first iteration.

    Only with an active ``dask.distributed`` client, and only when the arrays
    fit in :data:`PERSIST_MEMORY_FRACTION` of the workers' total memory limit;
    otherwise they stay lazy and each iteration streams them from their source
    (e.g. the ``.npy`` files of :func:`xpnet.dask_io.load_npy`). On the local
    schedulers nothing is persisted: there the "workers" are this process, and
    persisting would load out-of-core data into it. Non-Dask arrays pass through.
    """
    if not any(array_api_compat.is_dask_array(a) for a in arrays):
        return arrays
    client = current_client()
    if client is None:
        return arrays
    nbytes = sum(a.nbytes for a in arrays if array_api_compat.is_dask_array(a))
    workers = client.scheduler_info(n_workers=-1).get("workers", {}).values()
    memory = sum(w.get("memory_limit") or 0 for w in workers)
    if memory and nbytes > PERSIST_MEMORY_FRACTION * memory:
        return arrays
    return tuple(client.persist(list(arrays)))


def _raise_if_nonfinite(block: np.ndarray, arg: str, block_info: Any = None) -> np.ndarray:
    if not np.all(np.isfinite(block)):
        where = ""
        if block_info and 0 in block_info:
            start, stop = block_info[0]["array-location"][-1]
            where = f" in columns [{start}, {stop})"
        raise ValueError(
            f"{arg} contains {int(np.sum(~np.isfinite(block)))} NaN or infinite value(s)"
            f"{where}; clean or impute them before predicting (e.g. drop those examples)"
        )
    return block


def lazy_check_finite(X: Any, *, arg: str = "X") -> Any:
    """A Dask X whose blocks raise ``ValueError`` on NaN/inf when they are computed.

    The eager check (a reduction to one bool) would compute X; this one adds the
    check to the graph, so predicting on a Dask array stays lazy and still fails
    clearly on non-finite input. Non-Dask arrays pass through.
    """
    if not array_api_compat.is_dask_array(X):
        return X
    return X.map_blocks(_raise_if_nonfinite, arg, dtype=X.dtype, meta=X._meta)


def _add(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {k: a[k] + b[k] for k in a}


def sum_over_blocks(fn: Any, X: Any, Y: Any, *args: Any) -> dict[str, np.ndarray]:
    """Σ_k fn(X_k, Y_k, k, *args) over the blocks k of Dask arrays X and Y along m.

    ``fn`` runs on each block's host NumPy arrays (X_k: (n_x, m_k), Y_k: its
    columns of Y, k the block's index) and returns a dict of host arrays, the same
    keys for every block. The graph is one task per block, where the block lies
    (its worker on a ``dask.distributed`` cluster), and a pairwise tree of sums of
    those small dicts; ``args`` (e.g. the parameters) enter it once. It is computed
    in one pass and the sum comes back to the host.

    This is what a full-batch step on Dask needs: sums over the m examples of X.
    Writing the step with Dask arrays instead gives a graph of one task per
    array operation per block, rebuilt by this process at every step; this one
    stays a handful of tasks, whatever the network's depth.
    """
    import uuid

    import dask

    shared = [dask.delayed(a, traverse=False, name=f"xpnet-arg-{uuid.uuid4().hex}") for a in args]
    x_blocks, y_blocks = X.to_delayed().ravel(), Y.to_delayed().ravel()
    parts = [
        dask.delayed(fn)(xk, yk, k, *shared)
        for k, (xk, yk) in enumerate(zip(x_blocks, y_blocks, strict=True))
    ]
    while len(parts) > 1:
        pairs = [dask.delayed(_add)(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = pairs + (parts[-1:] if len(parts) % 2 else [])
    (total,) = dask.compute(parts[0])
    return total
