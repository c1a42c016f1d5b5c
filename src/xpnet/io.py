"""The model file format: writing and reading it, and nothing about models.

:meth:`xpnet.NeuralNetwork.save` turns a model into arrays and a metadata dict and
calls :func:`write_model_file`; :func:`xpnet.load` reads them back with
:func:`read_model_file` and rebuilds the model (``xpnet.model``). The dependency
runs one way, model -> io.

Format (``FORMAT_VERSION`` 2; version 1 files are still read): one NumPy ``.npz``
archive holding

* ``W1``, ``b1``, ..., ``WL``, ``bL``: the parameters as host float32/float64
  arrays, byte for byte (so the round trip is bit-exact);
* ``opt.vdW1``, ``opt.sdW1``, ..., ``opt.t``: the optimizer's state (version 2), so
  that ``warm_start`` and ``partial_fit`` continue after loading as they would
  have before saving;
* ``__xpnet_metadata__``: a 0-d unicode array with a JSON document: format name
  and version, the xpnet version that wrote it, layer dims, activation specs
  (:meth:`xpnet.Activation.to_spec`), dtype, hyperparameters, ``costs_`` and ``n_iter_``,
  and (``rng``) the states the run's shuffle and dropout generators had reached, so
  that a loaded model's next epochs draw the shuffles and masks the unsaved run would
  have drawn (``xpnet._random.generator_state``; a file without them, or a dropout
  stream saved on another kind of backend, starts those streams anew from ``seed``).

Nothing in the file is ever executed: the archive is read with
``allow_pickle=False`` (an object array raises instead of unpickling), the
metadata is parsed with :func:`json.loads`, and activations are looked up by
name in :data:`xpnet.ACTIVATIONS`.

Saves are atomic: the archive is written to a temporary file in the target's
directory, flushed and fsynced, then moved over the target with
:func:`os.replace`. A crash mid-save leaves any existing file untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import IO, Any

import numpy as np

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFileError",
    "bad_file",
    "read_model_file",
    "write_model_file",
]

#: Written in every file; :func:`xpnet.load` refuses files without it.
FORMAT_NAME = "xpnet.NeuralNetwork"
#: Bumped on any incompatible change; :func:`xpnet.load` reads versions up to this one.
FORMAT_VERSION = 2
_META_KEY = "__xpnet_metadata__"


class ModelFileError(ValueError):
    """A file cannot be loaded as an xpnet model: truncated, corrupted, foreign,
    or written by an incompatible format version."""


def _version() -> str:
    from . import __version__

    return __version__


def _write_npz(f: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """Write the archive to an open binary file (kept separate so tests can fail it)."""
    np.savez(f, **arrays)


def write_model_file(
    path: str | os.PathLike[str], arrays: dict[str, np.ndarray], meta: dict
) -> None:
    """Write ``arrays`` and the JSON-able ``meta`` to ``path`` as one ``.npz``, atomically.

    ``meta`` gains the format name, format version and the writing xpnet's version.
    The archive goes to a temporary file in the target's directory, is flushed and
    fsynced, then moved over ``path`` with :func:`os.replace`.
    """
    meta = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
            "xpnet_version": _version(), **meta}  # fmt: skip
    arrays = {**arrays, _META_KEY: np.array(json.dumps(meta, allow_nan=True))}
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".xpnet-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable (POSIX); harmless where unsupported
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def bad_file(path: str, what: str) -> ModelFileError:
    """The error for a file that cannot be loaded, saying why."""
    return ModelFileError(f"{path!r} is not a loadable xpnet model file: {what}")


def read_model_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Metadata and arrays of a model file, with clear errors for anything unexpected.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ModelFileError (a ValueError)
        Not an ``.npz``, truncated or corrupted, a pickled object inside, no or bad
        metadata, or a format version newer than this xpnet reads.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise FileNotFoundError(f"no xpnet model file at {path!r}") from None
    if head != b"PK\x03\x04":
        raise bad_file(
            path,
            f"it does not start like an .npz (zip) archive (first bytes {head!r}); it is "
            "another kind of file, or was overwritten. Save models with model.save(path)",
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            if _META_KEY not in npz.files:
                raise bad_file(
                    path,
                    f"it is an .npz archive with entries {sorted(npz.files)[:8]} but no "
                    f"{_META_KEY!r}: not written by xpnet's model.save",
                )
            arrays = {k: npz[k] for k in npz.files}  # reads (and CRC-checks) every entry
    except ModelFileError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise bad_file(
                path,
                "it contains a Python object (pickled) array, which is never loaded because "
                "unpickling can run arbitrary code",
            ) from exc
        raise bad_file(path, f"it is truncated or corrupted ({exc})") from exc
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, zipfile.LargeZipFile) as exc:
        raise bad_file(path, f"it is truncated or corrupted ({type(exc).__name__}: {exc})") from exc
    raw = arrays.pop(_META_KEY)
    if raw.shape != () or raw.dtype.kind != "U":
        raise bad_file(path, f"its {_META_KEY!r} entry is not a JSON string")
    try:
        meta = json.loads(str(raw[()]))
    except json.JSONDecodeError as exc:
        raise bad_file(path, f"its metadata is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise bad_file(path, f"its metadata does not declare format {FORMAT_NAME!r}")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad_file(path, f"format_version={version!r} is not an integer")
    if version > FORMAT_VERSION or version < 1:
        raise ModelFileError(
            f"{path!r} has model format version {version} (written by xpnet "
            f"{meta.get('xpnet_version', '?')}), but this xpnet {_version()} reads format "
            f"versions 1 to {FORMAT_VERSION}; upgrade xpnet (pip install -U xpnet) to load it"
        )
    return meta, arrays
