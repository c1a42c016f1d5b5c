"""The course's two pictures: the cost curve and the decision boundary of a 2-D problem.

Needs matplotlib (``pip install "xpnet[plot]"``); it is imported when a function is
called, so ``import xpnet.plot`` works without it. The model may live on any backend:
the grid is built in NumPy, classified by ``model.predict`` on the model's backend and
device, and brought back with :func:`xpnet.to_numpy` for drawing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import to_numpy

__all__ = ["plot_costs", "plot_decision_boundary"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            'xpnet.plot needs matplotlib, which is not installed: pip install "xpnet[plot]"'
        ) from exc
    return plt


def _axes(ax: Any) -> Any:
    return _pyplot().subplots()[1] if ax is None else ax


def _costs_of(model_or_costs: Any) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(model_or_costs, "layer_dims") or hasattr(model_or_costs, "costs_"):
        costs = getattr(model_or_costs, "costs_", None)
        if costs is None:
            raise RuntimeError(
                f"{type(model_or_costs).__name__} has no costs_: it is not fitted yet; call "
                "fit(X, Y) before plot_costs(model)"
            )
    else:
        costs = model_or_costs
    try:
        pairs = np.asarray(list(costs), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "plot_costs expects a fitted model or its costs_, a sequence of "
            f"(iteration, cost) pairs; got {type(model_or_costs).__name__}"
        ) from exc
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] == 0:
        raise ValueError(
            f"costs has shape {pairs.shape}; expected a non-empty sequence of "
            "(iteration, cost) pairs, like model.costs_"
        )
    return pairs[:, 0], pairs[:, 1]


def plot_costs(
    model_or_costs: Any,
    ax: Any = None,
    *,
    xlabel: str | None = None,
    title: str | None = None,
    **line_kwargs: Any,
) -> Any:
    """Draw the learning curve: the recorded cost J against the iteration (or epoch).

    The cost J = -(1/m) Σ [y log a + (1-y) log(1-a)] (plus the L2 term) is the one
    ``fit`` recorded in ``costs_`` every ``record_every`` iterations, before each update.

    Parameters
    ----------
    model_or_costs : NeuralNetwork or sequence of (int, float)
        A fitted model, or its ``costs_`` list of (iteration, cost) pairs.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default: a new figure.
    xlabel : str, optional
        Default "iterations" (full batch, one step per pass) or "epochs" (a model
        trained with ``batch_size``).
    title : str, optional
        Default "Learning rate = α" when the model's learning rate is known.
    **line_kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    iterations, costs = _costs_of(model_or_costs)
    ax = _axes(ax)
    ax.plot(iterations, costs, **line_kwargs)
    if xlabel is None:
        batched = getattr(model_or_costs, "batch_size", None) is not None
        xlabel = "epochs" if batched else "iterations"
    ax.set_xlabel(xlabel)
    ax.set_ylabel("cost")
    rate = getattr(model_or_costs, "learning_rate", None)
    if title is None and rate is not None:
        title = f"Learning rate = {rate}"
    if title is not None:
        ax.set_title(title)
    return ax


def _check_points(X: Any) -> np.ndarray:
    X = to_numpy(X)
    if X.ndim != 2 or X.shape[0] != 2:
        hint = "; pass X.T" if X.ndim == 2 and X.shape[1] == 2 else "; plot only 2-D problems"
        raise ValueError(
            f"X has shape {X.shape}; plot_decision_boundary needs the course layout of a "
            f"2-D problem, X of shape (2, m) with one column per example{hint}"
        )
    if X.shape[1] == 0 or not np.all(np.isfinite(X)):
        raise ValueError(
            f"X of shape {X.shape} must hold at least one point and only finite values"
        )
    return X


def _check_labels(Y: Any, m: int) -> np.ndarray:
    Y = to_numpy(Y)
    one_hot = (
        Y.ndim == 2
        and Y.shape[0] > 1
        and Y.shape[1] == m
        and bool(np.all((Y == 0) | (Y == 1)))
        and bool(np.all(Y.sum(axis=0) == 1))
    )
    if one_hot:  # (C, m) one-hot columns, as a softmax model accepts: class k = argmax
        return np.argmax(Y, axis=0)
    if Y.shape != (1, m):
        raise ValueError(
            f"Y has shape {Y.shape}; expected one row of labels (1, {m}) matching X's "
            f"m columns, or one-hot columns (C, {m}) (reshape a rank-1 y with "
            "y.reshape(1, -1))"
        )
    return Y[0]


def plot_decision_boundary(
    model: Any,
    X: Any,
    Y: Any = None,
    ax: Any = None,
    *,
    resolution: int = 200,
    margin: float = 1.0,
    cmap: Any = "Spectral",
    alpha: float = 0.5,
    title: str | None = None,
) -> Any:
    """Colour the plane by the class ``model.predict`` gives, and draw the points on it.

    A grid of ``resolution`` × ``resolution`` points spans X's range plus ``margin``
    on each side; its columns form X_grid of shape (2, resolution²), and
    Ŷ = ``model.predict(X_grid)`` is computed on the model's backend and device. Each
    class label predict returns (0/1 for the sigmoid output, any integer class index
    for a multi-class model) gets one colour, and each grid cell shows its Ŷ
    (a ``pcolormesh``); the boundary is where the colour changes. The points of X,
    coloured by Y when given, are drawn on top in the same colours.

    Parameters
    ----------
    model : NeuralNetwork
        A fitted model with two input features (``layer_dims[0] == 2``) on any
        backend; anything with ``params_`` and ``predict(X) -> (1, m)`` works.
    X : array of shape (2, m)
        The points, on any backend (moved to NumPy for drawing).
    Y : array of shape (1, m) or (C, m), optional
        Their labels: one row of class labels, or one-hot columns (softmax models).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default: a new figure.
    resolution : int
        Grid points per axis (>= 2).
    margin : float
        Padding around X's range, in X's units (>= 0).
    cmap : str or matplotlib colormap
        The colours of the classes are spread evenly over it.
    alpha : float
        Opacity of the regions.
    title : str, optional
        Default "Decision boundary, layer_dims=[...]".

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; ``ax.collections[0]`` is the regions' mesh, whose array
        holds each cell's class index into the sorted class labels.

    Raises
    ------
    ValueError
        When X is not (2, m), Y neither (1, m) nor one-hot (C, m), the model has
        another number of inputs,
        or ``resolution``/``margin`` are out of range.
    RuntimeError
        When the model is not fitted.
    ImportError
        When matplotlib is missing.
    """
    if getattr(model, "params_", None) is None:
        raise RuntimeError(
            f"{type(model).__name__} is not fitted yet; call fit(X, Y) before "
            "plot_decision_boundary(model, X, Y)"
        )
    n_x = getattr(model, "layer_dims", [2])[0]
    if n_x != 2:
        raise ValueError(
            f"the model has layer_dims[0] = {n_x} input features; a decision boundary can "
            "be drawn only for a 2-D problem (layer_dims[0] == 2)"
        )
    if int(resolution) != resolution or resolution < 2:
        raise ValueError(f"resolution={resolution!r} must be an integer >= 2")
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin={margin!r} must be finite and >= 0")
    Xh = _check_points(X)
    y = None if Y is None else _check_labels(Y, Xh.shape[1])
    plt = _pyplot()
    from matplotlib.colors import BoundaryNorm, ListedColormap

    axis_1 = np.linspace(Xh[0].min() - margin, Xh[0].max() + margin, int(resolution))
    axis_2 = np.linspace(Xh[1].min() - margin, Xh[1].max() + margin, int(resolution))
    g1, g2 = np.meshgrid(axis_1, axis_2)
    grid = np.stack([g1.ravel(), g2.ravel()])  # (2, resolution²), the course layout
    predicted = to_numpy(model.predict(grid))
    if predicted.shape != (1, grid.shape[1]):
        raise ValueError(
            f"model.predict returned shape {predicted.shape} for {grid.shape[1]} points; "
            f"expected one row of class labels (1, {grid.shape[1]})"
        )
    classes = np.unique(predicted if y is None else np.concatenate([predicted[0], y]))
    index = np.searchsorted(classes, predicted[0]).reshape(g1.shape)
    k = len(classes)
    base = plt.get_cmap(cmap) if isinstance(cmap, str) else cmap
    colours = base(np.linspace(0.0, 1.0, k)) if k > 1 else base(np.array([0.0]))
    listed = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(k + 1) - 0.5, k)
    ax = _axes(ax)
    ax.pcolormesh(g1, g2, index, cmap=listed, norm=norm, shading="nearest", alpha=alpha)
    if y is not None:
        ax.scatter(
            Xh[0],
            Xh[1],
            c=colours[np.searchsorted(classes, y)],
            edgecolors="black",
            linewidths=0.5,
            s=20,
        )
    ax.set_xlim(axis_1[0], axis_1[-1])
    ax.set_ylim(axis_2[0], axis_2[-1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title is None:
        dims = getattr(model, "layer_dims", None)
        title = "Decision boundary" + ("" if dims is None else f", layer_dims={list(dims)}")
    ax.set_title(title)
    handles = [
        plt.Line2D([], [], marker="s", linestyle="", color=colours[i], label=f"class {c:g}")
        for i, c in enumerate(classes)
    ]
    ax.legend(handles=handles, loc="upper right", fontsize="small")
    return ax
