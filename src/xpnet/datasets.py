"""Data sets of the course, as NumPy arrays in the course layout X (n_x, m), Y (1, m).

Nothing is downloaded: the planar data and the synthetic data are generated, and
the course's HDF5 image files are read from a path the user gives.
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = ["circles", "load_h5_images", "make_synthetic", "moons", "planar_flower"]


def planar_flower(m: int = 400, a: float = 4.0, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The week-3 planar "flower": two interleaved petals of classes 0 and 1.

    For class j in {0, 1}, with N = m / 2 points each:
    θ = linspace(3.12 j, 3.12 (j + 1), N) + 0.2·ε₁,  r = a sin(4θ) + 0.2·ε₂,
    x = (r sin θ, r cos θ), ε ~ N(0, 1).

    The noise is drawn from ``numpy.random.RandomState(seed)``, the stream behind
    NumPy's legacy global ``np.random.seed``, in the course's order (θ noise,
    then r noise, class 0 then class 1). ``seed=1`` reproduces the course's data.
    The global random state is not touched.

    Returns
    -------
    X : (2, m) float64
    Y : (1, m) float64, half 0 and half 1
    """
    m = _check_count("m", m, 2, "points, half per class")
    if m % 2:
        raise ValueError(f"m={m} must be an even number >= 2 (half the points per class)")
    rng = np.random.RandomState(_check_seed(seed))
    N = m // 2
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1))
    for j in range(2):
        rows = slice(N * j, N * (j + 1))
        theta = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rng.randn(N) * 0.2
        r = a * np.sin(4 * theta) + rng.randn(N) * 0.2
        X[rows, 0] = r * np.sin(theta)
        X[rows, 1] = r * np.cos(theta)
        Y[rows, 0] = j
    return X.T.copy(), Y.T.copy()


def _check_count(name: str, value: Any, minimum: int, why: str) -> int:
    """A count (``m``, ``n_x``): an integer >= ``minimum``; ``why`` says what it counts."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer >= {minimum} ({why}), got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}={value} must be >= {minimum} ({why})")
    return int(value)


def _check_seed(seed: Any) -> int:
    """The seed of ``numpy.random.RandomState``: an integer in [0, 2³² - 1]."""
    bad = isinstance(seed, bool) or not isinstance(seed, Integral)
    if bad or not 0 <= seed < 2**32:
        raise (TypeError if bad else ValueError)(
            f"seed must be an integer in [0, 2**32 - 1] (it seeds numpy.random.RandomState, "
            f"as the course's np.random.seed), got {seed!r}"
        )
    return int(seed)


def _check_noise(noise: Any) -> None:
    """``noise``, the standard deviation of the added N(0, noise²): a finite number >= 0."""
    if isinstance(noise, bool) or not isinstance(noise, Real):
        raise TypeError(f"noise must be a number >= 0 (a standard deviation), got {noise!r}")
    if not (noise >= 0 and math.isfinite(noise)):
        raise ValueError(
            f"noise={noise!r} must be finite and >= 0: it is the standard deviation of the "
            "Gaussian noise added to each coordinate; use e.g. noise=0.2, or 0 for none"
        )


def _shuffle_and_noise(
    points: np.ndarray, labels: np.ndarray, noise: float, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle the rows with ``rng.shuffle(arange(m))``, then add N(0, noise²) to every
    coordinate; return the course layout X (2, m), Y (1, m)."""
    order = np.arange(points.shape[0])
    rng.shuffle(order)
    points, labels = points[order], labels[order]
    points = points + rng.normal(scale=noise, size=points.shape)
    return points.T.copy(), labels.reshape(1, -1).astype(np.float64)


def moons(m: int = 300, noise: float = 0.2, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, the second course's optimization data ("moons").

    With t = linspace(0, π, N) for each half (N = m // 2 outer, m - N inner):
    outer points (cos t, sin t) have label 0, inner points
    (1 - cos t, 1 - sin t - 0.5) label 1. The rows are shuffled with
    ``rng.shuffle(arange(m))`` and then ``rng.normal(scale=noise, size=(m, 2))`` is
    added, with ``rng = numpy.random.RandomState(seed)``; the defaults (300 points,
    noise 0.2, seed 3) give the assignment's data. The global random state is not
    touched.

    Returns
    -------
    X : (2, m) float64
    Y : (1, m) float64
    """
    m = _check_count("m", m, 2, "points, at least one per half circle")
    seed = _check_seed(seed)
    _check_noise(noise)
    n_out = m // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, m - n_out)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1)
    labels = np.concatenate([np.zeros(n_out), np.ones(m - n_out)])
    return _shuffle_and_noise(
        np.concatenate([outer, inner]), labels, noise, np.random.RandomState(seed)
    )


def circles(
    m: int = 300, noise: float = 0.05, factor: float = 0.8, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles, the data of the second course's initialization assignment.

    N = m // 2 points at angles linspace(0, 2π, N, endpoint=False) on the unit circle
    (label 0) and m - N on the circle of radius ``factor`` (label 1); the rows are
    shuffled and N(0, noise²) is added to each coordinate, all from
    ``numpy.random.RandomState(seed)``. A network must learn a non-linear boundary
    (the inner disc), which a zero initialisation never does.

    Returns
    -------
    X : (2, m) float64
    Y : (1, m) float64
    """
    m = _check_count("m", m, 2, "points, at least one per circle")
    seed = _check_seed(seed)
    if not 0 < factor < 1:
        raise ValueError(f"factor={factor} must be in (0, 1): the inner circle's radius")
    _check_noise(noise)
    n_out = m // 2
    a_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    a_in = np.linspace(0, 2 * np.pi, m - n_out, endpoint=False)
    outer = np.stack([np.cos(a_out), np.sin(a_out)], axis=1)
    inner = factor * np.stack([np.cos(a_in), np.sin(a_in)], axis=1)
    labels = np.concatenate([np.zeros(n_out), np.ones(m - n_out)])
    return _shuffle_and_noise(
        np.concatenate([outer, inner]), labels, noise, np.random.RandomState(seed)
    )


def make_synthetic(
    m: int = 1000, n_x: int = 10, *, noise: float = 0.5, seed: int = 0, dtype: Any = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """Linearly separable data plus label noise: X ~ N(0, 1) of shape (n_x, m),
    y = 1 where wᵀx / √n_x + noise·ε > 0 for a random unit-scale w.

    Returns X (n_x, m) and Y (1, m) in ``dtype``.
    """
    m = _check_count("m", m, 1, "examples")
    n_x = _check_count("n_x", n_x, 1, "features")
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((1, n_x))
    X = rng.standard_normal((n_x, m))
    logits = w @ X / np.sqrt(n_x) + noise * rng.standard_normal((1, m))
    return X.astype(dtype), (logits > 0).astype(dtype)


def _pick_key(keys: list[str], suffix: str, given: str | None, path: str) -> str:
    if given is not None:
        if given not in keys:
            raise KeyError(f"{path} has no dataset {given!r}; it holds {keys}")
        return given
    found = [k for k in keys if k.endswith(suffix)]
    if len(found) != 1:
        raise KeyError(
            f"{path}: cannot tell which dataset holds the {suffix[1:]} values among {keys}; "
            f"pass {'x_key' if suffix == '_x' else 'y_key'}=..."
        )
    return found[0]


def load_h5_images(
    path: str | os.PathLike[str], *, x_key: str | None = None, y_key: str | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read one of the course's HDF5 image files (e.g. ``train_catvnoncat.h5``).

    The images (m, height, width, channels) are flattened to columns and scaled
    by 255: X = images.reshape(m, -1).T / 255, shape (n_x, m) = (h·w·c, m).
    Labels become Y of shape (1, m). Keys default to the single dataset whose
    name ends in ``_x`` / ``_y`` (``train_set_x``, ``train_set_y``);
    ``list_classes``, when present, is returned decoded.

    Needs h5py: ``pip install "xpnet[hdf5]"``.
    """
    try:
        import h5py
    except ImportError as exc:
        raise ImportError('load_h5_images needs h5py: pip install "xpnet[hdf5]"') from exc
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{path} does not exist; xpnet ships no data: download the course's .h5 files "
            "and pass their path"
        )
    with h5py.File(path, "r") as f:
        keys = sorted(f.keys())
        images = np.asarray(f[_pick_key(keys, "_x", x_key, path)])
        labels = np.asarray(f[_pick_key(keys, "_y", y_key, path)])
        classes = (
            [c.decode() if isinstance(c, bytes) else str(c) for c in f["list_classes"][:]]
            if "list_classes" in f
            else []
        )
    if images.ndim < 2:
        raise ValueError(f"{path}: images have shape {images.shape}; expected (m, ...)")
    m = images.shape[0]
    if labels.size != m:
        raise ValueError(f"{path}: {m} images but {labels.size} labels")
    X = images.reshape(m, -1).T.astype(np.float64) / 255.0
    Y = labels.reshape(1, m).astype(np.float64)
    return X, Y, classes
