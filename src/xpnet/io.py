"""Saving and loading trained :class:`~xpnet.NeuralNetwork` models.

Format (``FORMAT_VERSION`` 2; version 1 files are still read): one NumPy ``.npz``
archive holding

* ``W1``, ``b1``, ..., ``WL``, ``bL``: the parameters as host float32/float64
  arrays, byte for byte (so the round trip is bit-exact);
* ``opt.vdW1``, ``opt.sdW1``, ..., ``opt.t``: the optimizer's state (version 2), so
  that ``warm_start`` and ``partial_fit`` continue after loading as they would
  have before saving;
* ``__xpnet_metadata__``: a 0-d unicode array with a JSON document: format name
  and version, the xpnet version that wrote it, layer dims, activation specs
  (:meth:`xpnet.Activation.to_spec`), dtype, hyperparameters, ``costs_`` and ``n_iter_``.

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
import math
import os
import re
import tempfile
import zipfile
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ._backend import (
    backend_name,
    get_namespace,
    resolve_device,
    resolve_dtype,
    to_backend,
    to_numpy,
)
from .activations import get_activation

if TYPE_CHECKING:
    from .model import NeuralNetwork

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "ModelFileError", "load", "save"]

#: Written in every file; :func:`load` refuses files without it.
FORMAT_NAME = "xpnet.NeuralNetwork"
#: Bumped on any incompatible change; :func:`load` reads versions up to this one.
FORMAT_VERSION = 2
_META_KEY = "__xpnet_metadata__"
_OPT_PREFIX = "opt."
_HYPERPARAMETERS = (
    "learning_rate",
    "num_iterations",
    "init",
    "init_scale",
    "seed",
    "l2",
    "impl",
    "record_every",
    "verbose",
    # format version 2
    "optimizer",
    "beta",
    "beta1",
    "beta2",
    "epsilon",
    "batch_size",
    "shuffle",
    "learning_rate_decay",
    "decay_rate",
    "time_interval",
    "keep_prob",
    "warm_start",
)


class ModelFileError(ValueError):
    """A file cannot be loaded as an xpnet model: truncated, corrupted, foreign,
    or written by an incompatible format version."""


def _version() -> str:
    from . import __version__

    return __version__


def _write_npz(f: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """Write the archive to an open binary file (kept separate so tests can fail it)."""
    np.savez(f, **arrays)


def save(model: NeuralNetwork, path: str | os.PathLike[str]) -> None:
    """Save a fitted ``model`` to ``path`` (an ``.npz`` archive), atomically.

    Parameters
    ----------
    model : NeuralNetwork
        A fitted model (``params_`` set).
    path : str or path-like
        Target file, written exactly at this name (``.npz`` is the conventional suffix).

    Raises
    ------
    RuntimeError
        When the model is not fitted.
    ValueError
        When an activation is a custom :class:`~xpnet.Activation` that cannot be
        rebuilt by name on load (only the built-in table and ``leaky_relu(slope)``
        can be saved).
    """
    if not hasattr(model, "params_"):
        raise RuntimeError("this NeuralNetwork is not fitted yet; call fit(X, Y) before save")
    acts = {}
    for role in ("hidden_activation", "output_activation"):
        act = getattr(model, role)
        spec = act.to_spec()
        try:
            same = get_activation(spec) == act
        except ValueError:
            same = False
        if not same:
            raise ValueError(
                f"{role}={act!r} is a custom Activation that load() could not rebuild by name; "
                "only xpnet.ACTIVATIONS entries and xpnet.activations.leaky_relu(slope) can be "
                "saved (loading never runs code from a file)"
            )
        acts[role] = spec
    arrays = {k: np.ascontiguousarray(to_numpy(p)) for k, p in model.params_.items()}
    for k, a in (getattr(model, "opt_state_", None) or {}).items():
        arrays[_OPT_PREFIX + k] = np.array(to_numpy(a), order="C")  # keeps t 0-d
    dtype = arrays["W1"].dtype.name
    hyper = {k: getattr(model, k) for k in _HYPERPARAMETERS}
    if not (hyper["seed"] is None or isinstance(hyper["seed"], int)):
        hyper["seed"] = None  # a Generator object has no JSON form; the draw is in params_
    if callable(hyper["learning_rate_decay"]):
        raise ValueError(
            "learning_rate_decay is a Python callable, which a model file cannot hold (loading "
            "never runs code from a file); use 'inverse_time' or 'scheduled', or set "
            "model.learning_rate_decay = None before saving and set it again after loading"
        )
    if not isinstance(hyper["keep_prob"], int | float):
        hyper["keep_prob"] = [float(k) for k in hyper["keep_prob"]]
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "xpnet_version": _version(),
        "layer_dims": list(model.layer_dims),
        **acts,
        "dtype": dtype,
        "hyperparameters": hyper,
        "trained_on": {"backend": getattr(model, "backend_", None)},
        "costs": [[int(i), float(c)] for i, c in model.costs_],
        "n_iter": int(model.n_iter_),
    }
    arrays[_META_KEY] = np.array(json.dumps(meta, allow_nan=True))

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


def _bad(path: str, what: str) -> ModelFileError:
    return ModelFileError(f"{path!r} is not a loadable xpnet model file: {what}")


def _read(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Metadata and arrays of a file, with clear errors for anything unexpected."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise FileNotFoundError(f"no xpnet model file at {path!r}") from None
    if head != b"PK\x03\x04":
        raise _bad(
            path,
            f"it does not start like an .npz (zip) archive (first bytes {head!r}); it is "
            "another kind of file, or was overwritten. Save models with model.save(path)",
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            if _META_KEY not in npz.files:
                raise _bad(
                    path,
                    f"it is an .npz archive with entries {sorted(npz.files)[:8]} but no "
                    f"{_META_KEY!r}: not written by xpnet's model.save",
                )
            arrays = {k: npz[k] for k in npz.files}  # reads (and CRC-checks) every entry
    except ModelFileError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise _bad(
                path,
                "it contains a Python object (pickled) array, which is never loaded because "
                "unpickling can run arbitrary code",
            ) from exc
        raise _bad(path, f"it is truncated or corrupted ({exc})") from exc
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, zipfile.LargeZipFile) as exc:
        raise _bad(path, f"it is truncated or corrupted ({type(exc).__name__}: {exc})") from exc
    raw = arrays.pop(_META_KEY)
    if raw.shape != () or raw.dtype.kind != "U":
        raise _bad(path, f"its {_META_KEY!r} entry is not a JSON string")
    try:
        meta = json.loads(str(raw[()]))
    except json.JSONDecodeError as exc:
        raise _bad(path, f"its metadata is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise _bad(path, f"its metadata does not declare format {FORMAT_NAME!r}")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _bad(path, f"format_version={version!r} is not an integer")
    if version > FORMAT_VERSION or version < 1:
        raise ModelFileError(
            f"{path!r} has model format version {version} (written by xpnet "
            f"{meta.get('xpnet_version', '?')}), but this xpnet {_version()} reads format "
            f"versions 1 to {FORMAT_VERSION}; upgrade xpnet (pip install -U xpnet) to load it"
        )
    return meta, arrays


def _check_contents(path: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    try:
        dims = [int(n) for n in meta["layer_dims"]]
        dtype = meta["dtype"]
        meta["hyperparameters"]["learning_rate"]  # noqa: B018 - presence check
        costs = [(int(i), float(c)) for i, c in meta["costs"]]
        n_iter = int(meta["n_iter"])
        meta["hidden_activation"], meta["output_activation"]  # noqa: B018
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"its metadata lacks or mangles a field ({exc!r})") from exc
    if dtype not in ("float32", "float64"):
        raise _bad(path, f"dtype={dtype!r}; expected 'float32' or 'float64'")
    L = len(dims) - 1
    expected = {f"{p}{k}" for k in range(1, L + 1) for p in "Wb"}
    opt = {k for k in arrays if k.startswith(_OPT_PREFIX)}
    for k in opt:
        name = k[len(_OPT_PREFIX) :]
        want = () if name == "t" else (arrays[name[2:]].shape if name[2:] in arrays else None)
        if want is None or (name != "t" and name[:2] not in ("vd", "sd")):
            raise _bad(path, f"it holds an unknown optimizer entry {k!r}")
        if arrays[k].shape != want or arrays[k].dtype.name != dtype:
            raise _bad(path, f"{k} is {arrays[k].dtype.name} {arrays[k].shape}; expected {want}")
    if set(arrays) - opt != expected:
        raise _bad(
            path,
            f"it holds arrays {sorted(arrays)} but layer_dims={dims} needs {sorted(expected)}",
        )
    for k in range(1, L + 1):
        for name, shape in ((f"W{k}", (dims[k], dims[k - 1])), (f"b{k}", (dims[k], 1))):
            a = arrays[name]
            if a.shape != shape or a.dtype.name != dtype:
                raise _bad(
                    path,
                    f"{name} is {a.dtype.name} {a.shape}; layer_dims={dims} and dtype={dtype!r} "
                    f"give {dtype} {shape}",
                )
    meta["costs"], meta["n_iter"] = costs, n_iter
    if any(not math.isfinite(c) for _, c in costs) or n_iter < 0:
        raise _bad(path, "its cost history or n_iter is invalid")


def load(path: str | os.PathLike[str], *, backend: Any = None, device: Any = None) -> NeuralNetwork:
    """Load a model saved with :meth:`xpnet.NeuralNetwork.save`, on any backend and device.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    backend : str, module or None
        Where the parameters go: "numpy", "torch", "cupy", "jax", "dask",
        "array_api_strict" or a namespace. ``None``: NumPy, and the model's
        ``backend`` stays ``None`` (a later ``fit`` follows its data's library).
    device : optional
        Device on that backend ("cuda:0", "device1", ...); default: its default.

    Returns
    -------
    NeuralNetwork
        Fitted: ``params_`` equal bit for bit to the saved ones (in the saved
        dtype), ``costs_``, ``n_iter_`` and all hyperparameters restored.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ModelFileError (a ValueError)
        Truncated, corrupted or foreign file, a pickled object inside, or a format
        version newer than this xpnet reads.
    BackendUnavailableError
        When ``backend`` cannot be used on this machine.
    """
    from .model import NeuralNetwork

    path = os.fspath(path)
    meta, arrays = _read(path)
    _check_contents(path, meta, arrays)
    hyper = dict(meta["hyperparameters"])
    unknown = sorted(set(hyper) - set(_HYPERPARAMETERS))
    if unknown:
        raise _bad(path, f"unknown hyperparameters {unknown}")
    try:
        model = NeuralNetwork(
            meta["layer_dims"],
            hidden_activation=get_activation(meta["hidden_activation"]),
            output_activation=get_activation(meta["output_activation"]),
            backend=backend,
            device=device,
            dtype=meta["dtype"],
            **hyper,
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ImportError):  # BackendUnavailableError: the caller's choice
            raise
        raise _bad(path, f"its settings are invalid ({exc})") from exc
    xp = get_namespace("numpy" if backend is None else backend)
    dev = resolve_device(xp, device)
    dtype = resolve_dtype(xp, meta["dtype"])
    model.params_ = {
        k: to_backend(arrays[k], xp, device=dev, dtype=dtype)
        for k in sorted(arrays, key=_param_order)
        if not k.startswith(_OPT_PREFIX)
    }
    opt = {
        k[len(_OPT_PREFIX) :]: to_backend(a, xp, device=dev, dtype=dtype)
        for k, a in arrays.items()
        if k.startswith(_OPT_PREFIX)
    }
    from .optimizers import initialize_optimizer_state

    fresh = initialize_optimizer_state(model.optimizer, model.params_, xp=xp)
    model.opt_state_ = opt if set(opt) == set(fresh) else fresh
    model.t_ = int(arrays[_OPT_PREFIX + "t"]) if "t" in opt else 0
    model.costs_ = list(meta["costs"])
    model.n_iter_ = meta["n_iter"]
    model.backend_ = backend_name(xp)
    return model


def _param_order(key: str) -> tuple[int, str]:
    """W1, b1, W2, b2, ... (the order of initialize_parameters)."""
    m = re.fullmatch(r"([Wb])(\d+)", key)
    return (int(m.group(2)), m.group(1)) if m else (0, key)
