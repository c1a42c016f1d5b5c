"""xpnet: the neural networks of "Neural Networks and Deep Learning", written once
against the Python Array API standard, so the same code runs on NumPy, CuPy,
PyTorch, JAX, Dask and array_api_strict.

Course layout throughout: X is (n_x, m), Y is (1, m), W[l] is (n[l], n[l-1]),
b[l] is (n[l], 1).
"""

from importlib.metadata import PackageNotFoundError, version

from . import activations, datasets, initializers, losses
from ._backend import (
    BACKENDS,
    BackendUnavailableError,
    get_namespace,
    synchronize,
    to_numpy,
)
from ._backend import to_backend as _to_backend
from .activations import ACTIVATIONS, Activation, leaky_relu
from ._compile import compile_step, compile_steps
from .cache import LayerCache
from .initializers import INITS, initialize_parameters
from .io import ModelFileError, load
from .model import DivergenceError, NeuralNetwork
from .propagation import IMPLS, backward, cost, forward, update

try:
    __version__ = version("xpnet")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"


def to_backend(x, backend, *, device=None, dtype=None):
    """Copy ``x`` (an array of any supported library, or nested lists) to ``backend``
    ("numpy", "cupy", "torch", "jax", "dask", "array_api_strict" or a namespace) on
    ``device``, optionally casting to ``dtype`` ("float32"/"float64")."""
    from ._backend import resolve_device, resolve_dtype

    xp = get_namespace(backend)
    return _to_backend(
        x,
        xp,
        device=resolve_device(xp, device),
        dtype=None if dtype is None else resolve_dtype(xp, dtype),
    )


__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "IMPLS",
    "INITS",
    "Activation",
    "BackendUnavailableError",
    "DivergenceError",
    "LayerCache",
    "ModelFileError",
    "NeuralNetwork",
    "__version__",
    "activations",
    "backward",
    "compile_step",
    "compile_steps",
    "cost",
    "datasets",
    "forward",
    "get_namespace",
    "initialize_parameters",
    "initializers",
    "leaky_relu",
    "load",
    "losses",
    "synchronize",
    "to_backend",
    "to_numpy",
    "update",
]
