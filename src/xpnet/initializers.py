"""Parameter initialisation: W{l} of shape (n[l], n[l-1]) and b{l} of shape (n[l], 1).

The standard has no random-number API, so every draw is made on the host with
``numpy.random.default_rng(seed)`` in float64, layer by layer (W1, W2, ...), and
then placed on the target namespace and device. One seed therefore gives the
same starting weights on every backend. Biases always start at zero.

=========  ====================================================  ===========================
init       W{l}                                                  used by
=========  ====================================================  ===========================
zeros      0                                                     logistic regression (wk 2)
random     randn(n[l], n[l-1]) · scale   (scale = 0.01)          the planar network (wk 3)
lecun      randn(n[l], n[l-1]) / √n[l-1]                         the deep application (wk 4)
he         randn(n[l], n[l-1]) · √(2 / n[l-1])                   ReLU networks
xavier     randn(n[l], n[l-1]) · √(2 / (n[l-1] + n[l]))          tanh networks (Glorot)
=========  ====================================================  ===========================
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from ._backend import get_namespace, resolve_device, resolve_dtype, to_backend
from ._validation import check_layer_dims, check_name, check_positive

__all__ = ["INITS", "initialize_parameters"]

INITS: tuple[str, ...] = ("zeros", "random", "lecun", "he", "xavier")


def _scale(init: str, n_prev: int, n_l: int, scale: float) -> float:
    if init == "random":
        return scale
    if init == "lecun":
        return 1.0 / np.sqrt(n_prev)
    if init == "he":
        return np.sqrt(2.0 / n_prev)
    return np.sqrt(2.0 / (n_prev + n_l))  # xavier


def initialize_parameters(
    layer_dims: Sequence[int],
    init: str = "he",
    *,
    seed: int | np.random.Generator | np.random.RandomState | None = 0,
    scale: float = 0.01,
    xp: ModuleType | None = None,
    device: Any = None,
    dtype: Any = None,
) -> dict[str, Any]:
    """Initial parameters {"W1", "b1", ..., "WL", "bL"} for ``layer_dims = [n_x, n[1], ..., n[L]]``.

    Parameters
    ----------
    layer_dims : sequence of int
        Layer sizes, input first: W{l} is (n[l], n[l-1]).
    init : {"zeros", "random", "lecun", "he", "xavier"}
        The scheme (see the module docstring for each formula).
    seed : int, numpy.random.Generator, numpy.random.RandomState or None
        Seed of the host generator; the same seed gives the same weights on every
        backend. A ``RandomState`` draws ``randn(n[l], n[l-1])`` for l = 1..L in
        order, exactly as the course's ``np.random.seed(s)`` followed by
        ``np.random.randn`` calls (pass ``numpy.random.RandomState(s)``).
    scale : float
        Multiplier of the ``"random"`` scheme (the course uses 0.01); a finite number
        > 0, checked for every scheme.
    xp, device, dtype
        Target namespace (default NumPy; a backend name such as ``"torch"`` or a module
        such as ``torch`` is taken too), device and floating dtype (default float64).
    """
    check_name("init", init, INITS)
    check_positive("scale", scale, example=0.01)
    dims = check_layer_dims(layer_dims)
    xp = get_namespace("numpy" if xp is None else xp, arg="xp")  # a name or module too
    device = resolve_device(xp, device)
    dtype = resolve_dtype(xp, "float64" if dtype is None else dtype)
    if isinstance(seed, np.random.RandomState):
        draw = seed.randn
    else:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        draw = lambda *shape: rng.standard_normal(shape)  # noqa: E731

    params: dict[str, Any] = {}
    for l in range(1, len(dims)):
        n_l, n_prev = dims[l], dims[l - 1]
        if init == "zeros":
            W = np.zeros((n_l, n_prev))
        else:
            W = draw(n_l, n_prev) * _scale(init, n_prev, n_l, scale)
        params[f"W{l}"] = to_backend(W, xp, device=device, dtype=dtype)
        params[f"b{l}"] = xp.zeros((n_l, 1), dtype=dtype, device=device)
    return params
