"""Out-of-core training data: ``.npy`` files on disk as Dask arrays chunked along m.

The course layout is kept on disk: a file holds X of shape (n_x, m) (or Y of
shape (1, m)), one column per example. :func:`load_npy` opens the file(s) with
``numpy.load(..., mmap_mode="r")`` inside each Dask task, so a block of columns
X[:, a:b] is read from disk only when a worker needs it, and no process ever
holds X whole. :func:`write_npy` and :func:`save_npy` write such files block by
block, so data larger than memory can be generated or converted on one machine.

Example
-------
>>> from xpnet import dask_io                                   # doctest: +SKIP
>>> dask_io.save_npy("data/X.npy", X_host_or_dask)              # doctest: +SKIP
>>> X = dask_io.load_npy("data/X.npy", chunk_m=100_000)         # doctest: +SKIP
>>> Y = dask_io.load_npy("data/Y.npy", chunk_m=100_000)         # doctest: +SKIP
>>> NeuralNetwork([100, 8, 1], backend="dask").fit(X, Y)        # doctest: +SKIP

Needs Dask for loading: ``pip install "xpnet[dask]"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from numbers import Integral
from pathlib import Path
from typing import Any

import array_api_compat
import numpy as np

__all__ = ["load_npy", "save_npy", "write_npy"]

Array = Any


def _check_2d(shape: tuple[int, ...], what: str) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(
            f"{what} has shape {shape}; expected a 2-D (n_x, m) array with one column per "
            "example (Y as (1, m)): reshape it, e.g. y.reshape(1, -1)"
        )
    return int(shape[0]), int(shape[1])


def write_npy(
    path: str | os.PathLike[str],
    blocks: Iterable[Array],
    *,
    shape: tuple[int, int],
    dtype: Any = "float64",
) -> Path:
    """Write an (n, m) array to one ``.npy`` file from consecutive column blocks.

    Each block is an (n, m_i) array of columns X[:, a:a+m_i]; the m_i must add
    up to m. Only one block is in memory at a time (it is written row by row with
    ``os.pwrite`` into a preallocated file, without a memory map), so this builds
    files larger than RAM, e.g. from a generator of random blocks.

    Parameters
    ----------
    path : path-like
        Destination ``.npy`` file, replaced only once every block is written (the
        new file is built beside it, so a failed write leaves the old one, and the
        blocks may be read lazily from the old one).
    blocks : iterable of arrays (n, m_i)
        NumPy arrays or anything ``numpy.asarray`` accepts, in column order.
    shape : (n, m)
        Shape of the whole array.
    dtype : str or dtype
        dtype of the file; each block is cast to it.

    Returns
    -------
    Path of the file.

    Raises
    ------
    ValueError
        When a block has the wrong number of rows or the blocks do not add up to m.
    """
    n, m = _check_2d(tuple(shape), "shape")
    dtype = np.dtype(dtype)
    path = Path(path)
    # Written beside the destination and renamed over it at the end: the blocks may be
    # read lazily from the destination itself (X = load_npy(p); save_npy(p, 2 * X)),
    # and a failed write must leave the old file as it was.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write_blocks(tmp, blocks, n, m, dtype)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_blocks(path: Path, blocks: Iterable[Any], n: int, m: int, dtype: np.dtype) -> None:
    """The body of :func:`write_npy`, into ``path``."""
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n, m))
    offset, filled = mm.offset, 0
    del mm  # drop the mapping: the file now has its header and full (sparse) size
    row_bytes = m * dtype.itemsize
    fd = os.open(path, os.O_WRONLY)
    try:
        for i, block in enumerate(blocks):
            block = np.ascontiguousarray(np.asarray(block, dtype=dtype))
            rows, width = _check_2d(block.shape, f"block {i}")
            if rows != n:
                raise ValueError(
                    f"block {i} has shape {block.shape} but shape={(n, m)} needs {n} rows; "
                    "each block is a set of whole columns X[:, a:b]"
                )
            if filled + width > m:
                raise ValueError(
                    f"the blocks hold more than m={m} columns (block {i} ends at column "
                    f"{filled + width}); pass shape=(n, total columns)"
                )
            start = offset + filled * dtype.itemsize
            for r in range(n):
                os.pwrite(fd, block[r].tobytes(), start + r * row_bytes)
            filled += width
    finally:
        os.close(fd)
    if filled != m:
        raise ValueError(
            f"the blocks held {filled} columns but shape={(n, m)} declares m={m}; "
            "nothing was written: pass all blocks or the right shape"
        )


def save_npy(path: str | os.PathLike[str], X: Array, *, chunk_m: int | None = None) -> Path:
    """Save a NumPy or Dask array X (n, m) to one ``.npy`` file, one column block at a time.

    A Dask X is computed block by block (``chunk_m`` columns, default: its own
    m-chunks), so it never has to fit in memory.
    """
    n, m = _check_2d(tuple(X.shape), "X")
    _check_chunk_m(chunk_m)
    if array_api_compat.is_dask_array(X):
        if chunk_m is not None:
            X = X.rechunk({0: -1, 1: chunk_m})
        X = X.rechunk({0: -1})
        starts = np.cumsum((0,) + X.chunks[1])
        blocks = (X[:, a:b].compute() for a, b in zip(starts[:-1], starts[1:], strict=True))
    else:
        X = np.asarray(X)
        step = chunk_m or max(1, m)
        blocks = (X[:, a : a + step] for a in range(0, m, step))
    return write_npy(path, blocks, shape=(n, m), dtype=X.dtype)


def _check_chunk_m(chunk_m: Any) -> None:
    if chunk_m is not None and (
        isinstance(chunk_m, bool) or not isinstance(chunk_m, Integral) or chunk_m < 1
    ):
        raise ValueError(f"chunk_m={chunk_m!r} must be a positive integer (columns per block)")


def _read_columns(path: str, start: int, stop: int, version: tuple[int, int]) -> np.ndarray:
    """Columns [start, stop) of the .npy at ``path``, copied out of a read-only memory map.

    ``version`` (mtime, size) is part of the task's key only, so a rewritten file
    is not confused with a cached block of the old one.
    """
    mm = np.load(path, mmap_mode="r")
    try:
        return np.array(mm[:, start:stop])
    finally:
        del mm


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".npy")
        if not files:
            raise FileNotFoundError(
                f"{path} is a directory without .npy files; pass a .npy file or a directory "
                "of (n_x, m_i) .npy shards (written e.g. with xpnet.dask_io.save_npy)"
            )
        return files
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; write it first with save_npy/write_npy")
    return [path]


def load_npy(path: str | os.PathLike[str], *, chunk_m: int | None = None) -> Array:
    """A lazy Dask array (n, m) over ``.npy`` file(s) on disk, chunked along m only.

    Parameters
    ----------
    path : path-like
        One ``.npy`` file holding an (n, m) array, or a directory of ``.npy``
        shards (n, m_i) that are concatenated along m in sorted file-name order.
    chunk_m : int, optional
        Columns (examples) per block. Default: as many as fit in Dask's
        ``array.chunk-size`` setting (n · chunk_m · itemsize bytes). Shards are
        split at their own boundaries too, so the last block of each may be smaller.

    Returns
    -------
    dask.array.Array of shape (n, m), chunks ((n,), (chunk_m, ..., rest)).
    Each block is read by its task with ``numpy.load(path, mmap_mode="r")`` and
    copied out, on whichever worker runs it: the workers must see the same path.

    Raises
    ------
    FileNotFoundError, ValueError
        For a missing path, a file that is not 2-D, or shards whose n differ.
    """
    try:
        import dask
        import dask.array as da
    except ImportError as exc:
        raise ImportError('load_npy needs Dask: pip install "xpnet[dask]"') from exc
    from dask.utils import parse_bytes

    _check_chunk_m(chunk_m)
    pieces = []
    n_first: int | None = None
    for f in _files(Path(path)):
        header = np.load(f, mmap_mode="r")
        n, m = _check_2d(header.shape, str(f))
        dtype = header.dtype
        del header
        if n_first is not None and n != n_first:
            raise ValueError(
                f"{f} has {n} rows but the shards before it have {n_first}; all shards "
                "must hold the same n_x features, split only along m"
            )
        n_first = n
        step = chunk_m or max(
            1, parse_bytes(dask.config.get("array.chunk-size")) // (n * dtype.itemsize)
        )
        stat = f.stat()
        version = (stat.st_mtime_ns, stat.st_size)
        read = dask.delayed(_read_columns, pure=True)
        for a in range(0, m, step):
            b = min(a + step, m)
            pieces.append(
                da.from_delayed(read(str(f.resolve()), a, b, version), (n, b - a), dtype=dtype)
            )
    return da.concatenate(pieces, axis=1)
