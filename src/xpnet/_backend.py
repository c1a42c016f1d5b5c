"""The one module with backend-specific code.

Everything else in xpnet is written against the Python Array API standard and
receives its namespace ``xp`` from :func:`namespace_of`. This module holds what
the standard leaves out:

* turning a backend name (``"cupy"``) or module into an Array API namespace,
  with an error that names the pip extra when the library is missing;
* device lookup and checks (``"cupy"`` without a CUDA device fails here);
* moving arrays between libraries (DLPack where it works, a host copy where not)
  and back to NumPy;
* waiting for asynchronous devices;
* memory layout, which the standard does not expose (:func:`examples_as_rows`,
  :func:`take_rows`).

How training lays out and schedules Dask arrays (chunking along m, persisting,
lazy checks, computing each step) is policy, not array placement: it lives in
:mod:`xpnet._dask`. The rest of the backend layer sits beside this module, one
concern each: compilers in :mod:`xpnet._compile`, random generators in
:mod:`xpnet._random`, the backends' own activation kernels in :mod:`xpnet._native`.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "BACKENDS",
    "BackendUnavailableError",
    "backend_name",
    "check_same_namespace_and_device",
    "detached",
    "device_of",
    "examples_as_rows",
    "get_namespace",
    "is_lazy",
    "is_traced",
    "namespace_of",
    "picklable_device",
    "resolve_device",
    "resolve_dtype",
    "synchronize",
    "take_rows",
    "to_backend",
    "to_numpy",
    "value_total",
]

#: Backend names accepted by ``backend=``.
BACKENDS: tuple[str, ...] = ("numpy", "cupy", "torch", "jax", "dask", "array_api_strict")

#: backend name -> the module whose arrays it computes with.
_LIBRARIES = {
    "numpy": "numpy",
    "cupy": "cupy",
    "torch": "torch",
    "jax": "jax.numpy",
    "dask": "dask.array",
    "array_api_strict": "array_api_strict",
}

# pip extra that installs each backend (``pip install "xpnet[EXTRA]"``).
_EXTRAS = {
    "cupy": "cuda12",  # or cuda13, for CUDA 13 drivers
    "torch": "torch",
    "jax": "jax",
    "dask": "dask",
    "array_api_strict": "test",
}


class BackendUnavailableError(ImportError, ValueError):
    """A backend was asked for by name but cannot be used on this machine.

    It is an ``ImportError`` (the library or its GPU runtime is missing) and also a
    ``ValueError`` (the value passed as ``backend=`` cannot be honoured here), so
    ``except ValueError`` around a call with a bad argument catches it too.
    """


def _install_hint(name: str) -> str:
    if name == "cupy":
        return (
            'install CuPy for your CUDA version: pip install "xpnet[cuda12]" '
            '(CUDA 12) or pip install "xpnet[cuda13]" (CUDA 13)'
        )
    return f'install it with: pip install "xpnet[{_EXTRAS[name]}]"'


def _import(name: str, module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"backend={name!r} was requested but {module!r} cannot be imported ({exc}); "
            f"{_install_hint(name)}, or pick another backend from {list(BACKENDS)}"
        ) from exc


def get_namespace(backend: str | ModuleType, *, arg: str = "backend") -> ModuleType:
    """Return the Array API namespace for a backend name or module.

    Parameters
    ----------
    backend : str or module
        One of :data:`BACKENDS`, or a module such as ``numpy``, ``torch``,
        ``cupy``, ``jax.numpy``, ``dask.array`` or ``array_api_strict``.
    arg : str
        The caller's name for the argument, used in the error messages.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    BackendUnavailableError
        When the library is not installed, or ``"cupy"`` finds no CUDA device.
    """
    if isinstance(backend, ModuleType):
        probe = getattr(backend, "asarray", None)
        if probe is None:
            raise TypeError(
                f"{arg}={backend.__name__!r} is a module without 'asarray', so it is not an "
                f"array library; pass one of {list(BACKENDS)} or an Array API namespace"
            )
        return array_api_compat.array_namespace(probe(0.0))
    if not isinstance(backend, str):
        raise TypeError(
            f"{arg} must be a name from {list(BACKENDS)} or a namespace module, "
            f"got {type(backend).__name__}"
        )
    name = backend.lower()
    if name not in _LIBRARIES:
        raise ValueError(
            f"{arg}={backend!r} is not a known backend; expected one of {list(BACKENDS)} "
            "or an Array API namespace module"
        )
    library = _import(name, _LIBRARIES[name])
    if name == "cupy":
        _check_cuda_devices(library)
    # the idiom of SciPy's and array-api-extra's conftests: the namespace of an empty array
    return array_api_compat.array_namespace(library.empty(0))


def _check_cuda_devices(cupy: ModuleType) -> None:
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError when no driver is present
        raise BackendUnavailableError(
            f"backend='cupy' was requested but CUDA reports no usable device ({exc}); "
            "run on a machine with an NVIDIA GPU and driver, or use backend='numpy'"
        ) from exc
    if count == 0:
        raise BackendUnavailableError(
            "backend='cupy' was requested but CUDA reports 0 devices; run on a machine "
            "with an NVIDIA GPU, or use backend='numpy'"
        )


def namespace_of(*arrays: Any, names: tuple[str, ...] | None = None) -> ModuleType:
    """Array API namespace shared by ``arrays``; a clear error when they mix libraries.

    ``names`` labels the arrays in the error message (``("X", "W1")``).
    """
    try:
        return array_api_compat.array_namespace(*arrays)
    except TypeError as exc:
        seen = []
        labels = names or tuple(f"argument {i}" for i in range(len(arrays)))
        for label, a in zip(labels, arrays, strict=True):
            seen.append(f"{label}: {type(a).__module__}.{type(a).__name__}")
        raise TypeError(
            "arrays from different libraries were passed in one call ("
            + ", ".join(seen)
            + "); put them all on one backend first, e.g. with xpnet.to_backend(a, backend)"
            f" [{exc}]"
        ) from exc


def backend_name(xp: ModuleType) -> str:
    """Short name of a namespace: 'numpy', 'cupy', 'torch', 'jax', 'dask' or 'array_api_strict'."""
    if array_api_compat.is_numpy_namespace(xp):
        return "numpy"
    if array_api_compat.is_cupy_namespace(xp):
        return "cupy"
    if array_api_compat.is_torch_namespace(xp):
        return "torch"
    if array_api_compat.is_jax_namespace(xp):
        return "jax"
    if array_api_compat.is_dask_namespace(xp):
        return "dask"
    if array_api_compat.is_array_api_strict_namespace(xp):
        return "array_api_strict"
    return getattr(xp, "__name__", repr(xp))


def is_lazy(xp: ModuleType) -> bool:
    """True for namespaces whose arrays are task graphs (Dask)."""
    return array_api_compat.is_dask_namespace(xp)


def is_traced(x: Any) -> bool:
    """True for an abstract array being traced by a compiler (a JAX tracer inside
    ``jax.jit``), whose values cannot be read; False for concrete arrays."""
    if not array_api_compat.is_jax_array(x):
        return False
    import jax

    return isinstance(x, jax.core.Tracer)


def device_of(x: Any) -> Any:
    """The device of an array (``array_api_compat.device``)."""
    return array_api_compat.device(x)


def resolve_device(xp: ModuleType, device: Any) -> Any:
    """Turn a user's ``device=`` into the namespace's device object (``None`` = default).

    Strings are accepted everywhere: ``"cuda:1"`` for torch, an integer id or
    ``"cuda:0"`` for CuPy, ``"device1"`` for array_api_strict.
    """
    name = backend_name(xp)
    default = xp.__array_namespace_info__().default_device()
    if default is None:  # JAX reports None; an empty array tells the real default
        default = device_of(xp.empty((0,)))
    if device is None:
        return default
    if name == "array_api_strict" and isinstance(device, str):
        import array_api_strict

        return array_api_strict.Device(device)
    if name == "torch" and (isinstance(device, str | int) or is_torch_device_meta(device)):
        import torch

        dev = torch.device(device)
        if dev.type == "meta":
            raise ValueError(
                f"device={device!r}: torch's 'meta' device holds shapes but no values, so "
                "nothing can be computed or read there; use device='cpu' or 'cuda'"
            )
        if dev.type == "cuda":
            if not torch.cuda.is_available():
                raise BackendUnavailableError(
                    f"device={device!r} was requested on backend='torch' but torch reports no "
                    "CUDA device (CPU-only build or no GPU); use device='cpu', or install a "
                    "CUDA build of torch on a machine with an NVIDIA GPU"
                )
            if dev.index is None:  # "cuda" means the current device: name it, so it
                dev = torch.device("cuda", torch.cuda.current_device())  # compares equal
        return dev
    if name == "cupy":
        import cupy

        if isinstance(device, str):
            device = int(device.split(":")[-1]) if ":" in device else int(device)
        if isinstance(device, int):
            return cupy.cuda.Device(device)
        return device
    if name == "jax" and isinstance(device, str):
        import jax

        platform, _, idx = device.partition(":")
        try:
            return jax.devices(platform)[int(idx or 0)]
        except (RuntimeError, IndexError) as exc:
            raise BackendUnavailableError(
                f"device={device!r} was requested on backend='jax' but JAX has no such device "
                f"({exc}); available: {[str(d) for d in jax.devices()]}"
            ) from exc
    if name in ("numpy", "dask") and device not in ("cpu", default):
        raise ValueError(
            f"device={device!r} is not available on backend={name!r}, which runs on the "
            "host CPU only; pass device=None or device='cpu'"
        )
    if name in ("numpy", "dask"):
        return default
    return device


def is_torch_device_meta(device: Any) -> bool:
    """True for ``torch.device("meta")`` (torch loaded, the object one of its devices)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(device, torch.device) and device.type == "meta"


def check_has_values(name: str, a: Any) -> None:
    """Refuse an array that has a shape but no values (a torch tensor on the 'meta'
    device), naming it, before a copy or a read fails with torch's own message."""
    if array_api_compat.is_torch_array(a) and a.device.type == "meta":
        raise ValueError(
            f"{name} is a torch tensor on the 'meta' device, which holds shapes but no "
            f"values; create {name} with its data on a real device ('cpu' or 'cuda')"
        )


def picklable_device(device: Any) -> Any:
    """``device=`` as pickle can keep it: a JAX ``Device`` (which pickle refuses) as the
    ``"platform:index"`` string :func:`resolve_device` turns back into it; any other
    value as it is."""
    jax = sys.modules.get("jax")  # loaded if the device is JAX's
    if jax is not None and isinstance(device, jax.Device):
        return f"{device.platform}:{jax.devices(device.platform).index(device)}"
    return device


def picklable_backend(backend: Any) -> Any:
    """``backend=`` as pickle and ``copy.deepcopy`` can keep it: a namespace module
    (``torch``, ``array_api_compat.numpy``, ...), which they refuse, as its name
    (``"torch"``), which :func:`get_namespace` turns back into the same namespace; any
    other value (a name, None, a namespace of unknown kind) as it is."""
    if isinstance(backend, ModuleType):
        try:
            name = backend_name(get_namespace(backend))
        except (TypeError, ImportError):  # not an array library: left for fit to refuse
            return backend
        if name in BACKENDS:
            return name
    return backend


def resolve_dtype(xp: ModuleType, dtype: Any) -> Any:
    """Turn ``"float32"``/``"float64"`` or a dtype object into the namespace's dtype."""
    if isinstance(dtype, str):
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype={dtype!r} is not supported; use 'float32' or 'float64'")
        out = getattr(xp, dtype)
    else:
        try:
            name = np.dtype(dtype).name if not hasattr(dtype, "kind") else None
        except TypeError:
            name = None
        if name in ("float32", "float64"):
            out = getattr(xp, name)
        elif dtype in (xp.float32, xp.float64):
            out = dtype
        else:
            raise ValueError(
                f"dtype={dtype!r} is not supported; use 'float32' or 'float64' "
                "(or the backend's float32/float64 dtype object)"
            )
    if backend_name(xp) == "jax" and out == xp.float64:
        import jax

        if not jax.config.jax_enable_x64:
            raise ValueError(
                "dtype='float64' on backend='jax' needs 64-bit mode, which is off, so JAX "
                "would silently compute in float32; call "
                "jax.config.update('jax_enable_x64', True) first, or use dtype='float32'"
            )
    return out


def _same_library(x: Any, xp: ModuleType) -> bool:
    if not array_api_compat.is_array_api_obj(x):
        return False
    try:
        return array_api_compat.array_namespace(x) is xp
    except TypeError:
        return False


def to_backend(x: Any, xp: ModuleType, *, device: Any = None, dtype: Any = None) -> Any:
    """Place ``x`` (any array or nested sequence) on namespace ``xp`` and ``device``.

    Arrays already in ``xp`` are moved only if their device differs. Arrays of
    another library go through DLPack when both sides support it on the same
    device, and through a host NumPy copy otherwise (CPU <-> GPU).
    """
    if _same_library(x, xp):
        if device is not None and device_of(x) != device:
            x = array_api_compat.to_device(x, device)
        if dtype is not None and x.dtype != dtype:
            x = xp.astype(x, dtype)
        return x
    if not array_api_compat.is_array_api_obj(x):
        x = np.asarray(x)  # lists and scalars: NumPy's dtype rules (float64), not the backend's
    if not array_api_compat.is_numpy_array(x):
        if backend_name(xp) in ("torch", "jax", "cupy"):
            try:
                y = xp.from_dlpack(x)
                if device is None or device_of(y) == device:
                    return to_backend(y, xp, device=device, dtype=dtype)
            except Exception:  # noqa: BLE001 - any DLPack refusal falls back to the host copy
                pass
        x = to_numpy(x)
    if backend_name(xp) == "dask":
        import dask.array as da

        x = np.asarray(x)
        # Host data is chunked along the examples axis m only (2-D: one chunk spans all
        # n_x rows), the layout that fit() needs; see chunk_examples.
        chunks = {0: -1, 1: "auto"} if x.ndim == 2 else "auto"
        arr = da.from_array(x, chunks=chunks)
        return arr if dtype is None else xp.astype(arr, dtype)
    return xp.asarray(x, dtype=dtype, device=device)


def detached(x: Any) -> Any:
    """``x`` without autograd history: a torch tensor that requires grad comes back
    detached (the same storage); any other array as it is.

    A model computes its own gradients and never asks torch's autograd for them. A
    fit over an X, or from parameters, that require grad (an ``nn.Parameter``, say)
    would otherwise have autograd record every step: each update's result keeps the
    whole training history alive in its graph, so memory grows with the epochs.
    """
    if array_api_compat.is_torch_array(x) and x.requires_grad:
        return x.detach()
    return x


def to_numpy(x: Any) -> np.ndarray:
    """Copy any supported array to a host NumPy array (computing Dask graphs)."""
    if isinstance(x, np.ndarray):
        return x
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if array_api_compat.is_dask_array(x):
        return np.asarray(x.compute())
    if array_api_compat.is_array_api_strict_namespace(array_api_compat.array_namespace(x)):
        import array_api_strict

        return np.asarray(array_api_compat.to_device(x, array_api_strict.Device("CPU_DEVICE")))
    return np.asarray(x)


def check_same_namespace_and_device(
    arrays: dict[str, Any],
) -> tuple[ModuleType, Any]:
    """Namespace and device shared by named arrays, or an error naming the odd one out."""
    names = tuple(arrays)
    values = tuple(arrays.values())
    xp = namespace_of(*values, names=names)
    first_name, first = names[0], values[0]
    dev = device_of(first)
    for name, a in zip(names[1:], values[1:], strict=True):
        d = device_of(a)
        if d != dev:
            raise ValueError(
                f"{name} is on device {d!r} but {first_name} is on device {dev!r}; arrays in "
                "one call must share a device: move them with "
                "xpnet.to_backend(a, backend, device=...)"
            )
    return xp, dev


def synchronize(x: Any) -> None:
    """Block until the device work that produces ``x`` (an array or a dict/tuple of them) is done.

    Benchmarks call this before stopping a timer: CuPy, torch-CUDA and JAX return
    before the device has finished.
    """
    leaves = list(x.values()) if isinstance(x, dict) else x if isinstance(x, list | tuple) else [x]
    for leaf in leaves:
        if array_api_compat.is_cupy_array(leaf):
            import cupy

            cupy.cuda.get_current_stream().synchronize()
            return
        if array_api_compat.is_torch_array(leaf):
            if leaf.device.type == "cuda":
                import torch

                torch.cuda.synchronize(leaf.device)
            return
        if array_api_compat.is_jax_array(leaf):
            leaf.block_until_ready()


def examples_as_rows(X: Any, *, copy: bool) -> Any | None:
    """X (n_x, m) as an (m, n_x) array whose rows (one example each) are contiguous, or None.

    A mini-batch is a gather of examples. From this layout it copies whole rows
    (n_x contiguous values each); from the course's row-major (n_x, m) layout it
    reads one value per example in every one of the n_x rows, 2 to 6 times slower
    on the CPU (measured with NumPy and torch at 784 x 60,000).

    NumPy, CuPy and torch: ``X.T`` when X already lies that way (``data.T`` of
    samples-first ``data``, no copy); otherwise one transposed copy with ``copy``,
    and None without. None on JAX, Dask and array_api_strict, which do not expose
    a layout; their callers gather along axis 1 with ``xp.take``.
    """
    if array_api_compat.is_numpy_array(X) or array_api_compat.is_cupy_array(X):
        rows = X.T
        if rows.flags.c_contiguous:
            return rows
        return rows.copy(order="C") if copy else None
    if array_api_compat.is_torch_array(X):
        rows = X.T
        if rows.is_contiguous():
            return rows
        return rows.contiguous() if copy else None
    return None


def value_total(a: Any, xp: ModuleType) -> Any:
    """The sum of all of ``a``'s values (a 0-d array), read the fastest way this backend
    has. It exists for :func:`xpnet._validation.check_finite`: a finite total proves
    every value finite, so the library's fastest full pass is what matters.

    torch: its own multi-threaded reduction, which reads a (784, 60,000) float32 tensor in
    6.1 ms whatever its layout, against 10.0 ms for the product with a vector of ones on a
    transposed (``data.T``) tensor (2-core CPU). Elsewhere a matrix is summed as its
    product with ones, which the BLAS reads on every core: NumPy's single-threaded
    ``sum`` takes 11.6 ms on that matrix, the product 5.3-6.5 ms.
    """
    if a.ndim == 2 and a.shape[1] > 1 and not array_api_compat.is_torch_array(a):
        a = a @ xp.ones((a.shape[1],), dtype=a.dtype, device=device_of(a))
    return xp.sum(a)


def take_rows(rows: Any, index: Any) -> Any:
    """``rows[index]`` along axis 0: the examples of one mini-batch, from
    :func:`examples_as_rows` and a non-negative index array on the same device.

    torch: ``Tensor.index_select`` itself. array-api-compat's ``take`` first rewrites
    negative indices with a ``torch.where`` per call, which a permutation never has
    (about 30 µs of a 64-example Adam step on the CPU). Elsewhere ``xp.take``.
    """
    if array_api_compat.is_torch_array(rows):
        return rows.index_select(0, index)
    return array_api_compat.array_namespace(rows).take(rows, index, axis=0)
