"""xpnet: the neural networks of "Neural Networks and Deep Learning", written once
against the Python Array API standard, so the same code runs on NumPy, CuPy,
PyTorch, JAX, Dask and array_api_strict.

Course layout throughout: X is (n_x, m), Y is (1, m), W[l] is (n[l], n[l-1]),
b[l] is (n[l], 1).
"""

from importlib.metadata import PackageNotFoundError, version

from . import activations, datasets, initializers, losses, optimizers, plot, schedules, training
from ._backend import (
    BACKENDS,
    BackendUnavailableError,
    get_namespace,
    synchronize,
    to_numpy,
)
from ._backend import to_backend as _to_backend
from ._compile import compile_step, compile_steps, traceable_namespace
from .activations import ACTIVATIONS, Activation, leaky_relu
from .cache import LayerCache
from .gradcheck import gradient_check
from .initializers import INITS, initialize_parameters
from .io import ModelFileError
from .model import NeuralNetwork, load
from .optimizers import OPTIMIZERS
from .propagation import (
    IMPLS,
    backward,
    cost,
    forward,
    linear_activation_backward,
    linear_activation_forward,
    linear_backward,
    linear_forward,
    update,
)
from .training import DivergenceError

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


def dropout_masks(params, m, keep_prob, *, seed=0):
    """Inverted-dropout factors D[l] / keep_prob[l] for :func:`forward`, one per layer.

    ``params`` gives the layer sizes, library, device and dtype; ``m`` the number of
    examples; ``keep_prob`` one number for every hidden layer or one per hidden layer,
    in (0, 1]. The masks are drawn by the backend's own generator seeded by ``seed``
    (see :mod:`xpnet._random`); the output layer, and layers with keep_prob = 1, get None.
    """
    import array_api_compat

    from . import _validation as v
    from ._backend import check_same_namespace_and_device
    from ._random import dropout_masks as _draw
    from ._random import make_dropout_rng

    xp, device = check_same_namespace_and_device(dict(params))
    L = v.check_params(params)
    v.check_positive("m", m, integer=True)
    keep = (*v.check_keep_prob(keep_prob, L - 1), 1.0)
    shapes = [(params[f"W{l}"].shape[0], m) if k < 1 else None for l, k in enumerate(keep, 1)]
    rng = make_dropout_rng(xp, device, seed)
    W1 = params["W1"]
    masks, _ = _draw(rng, shapes, keep, xp=xp, device=array_api_compat.device(W1), dtype=W1.dtype)
    return masks


__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "IMPLS",
    "INITS",
    "OPTIMIZERS",
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
    "dropout_masks",
    "forward",
    "get_namespace",
    "gradient_check",
    "initialize_parameters",
    "initializers",
    "leaky_relu",
    "linear_activation_backward",
    "linear_activation_forward",
    "linear_backward",
    "linear_forward",
    "load",
    "losses",
    "plot",
    "optimizers",
    "schedules",
    "synchronize",
    "to_backend",
    "to_numpy",
    "traceable_namespace",
    "training",
    "update",
]
