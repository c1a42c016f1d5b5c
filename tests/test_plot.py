"""xpnet.plot: the drawn data agree with the model, on every backend (no pixel comparisons)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import xpnet  # noqa: E402
from xpnet.datasets import planar_flower  # noqa: E402
from xpnet.plot import plot_costs, plot_decision_boundary  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend_colours(ax):
    """{label text: RGBA} from the legend the plot drew, one entry per class."""
    legend = ax.get_legend()
    return {
        t.get_text(): np.asarray(matplotlib.colors.to_rgba(h.get_color()))
        for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }


def _cells(ax):
    """The regions' mesh: cell centres (2, n) and each cell's drawn RGBA (n, 4)."""
    mesh = ax.collections[0]
    assert isinstance(mesh, matplotlib.collections.QuadMesh)
    corners = np.asarray(mesh.get_coordinates())  # (R+1, R+1, 2) cell edges
    centres = (corners[:-1, :-1] + corners[1:, 1:] + corners[:-1, 1:] + corners[1:, :-1]) / 4
    values = np.asarray(mesh.get_array()).reshape(centres.shape[:2])
    rgba = mesh.cmap(mesh.norm(values))
    return centres.reshape(-1, 2).T, rgba.reshape(-1, 4)


def _numpy_predict(params, X):
    """Reference Ŷ of a tanh/sigmoid network from its parameters, in NumPy float64."""
    p = {k: xpnet.to_numpy(v).astype(np.float64) for k, v in params.items()}
    A1 = np.tanh(p["W1"] @ X + p["b1"])
    Z2 = p["W2"] @ A1 + p["b2"]
    return (1.0 / (1.0 + np.exp(-Z2)) > 0.5).astype(np.float64)


def _planar_model(**kw):
    hyper = {"learning_rate": 1.2, "num_iterations": 300, "seed": np.random.RandomState(2)}
    return xpnet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", init="random", **hyper | kw)


def test_regions_agree_with_predict_on_every_backend(xp, backend, device):
    X, Y = planar_flower(seed=1)
    trained = _planar_model().fit(X, Y)  # trained in NumPy, then one more step on the backend
    model = _planar_model(backend=backend.library, device=device, num_iterations=1)
    Xb = xp.asarray(X, dtype=xp.float64, device=device)
    Yb = xp.asarray(Y, dtype=xp.float64, device=device)
    model.fit(Xb, Yb, initial_params=trained.params_)
    assert xpnet.get_namespace(backend.library) is xp and model.backend_ == backend.library
    ax = plot_decision_boundary(model, Xb, Yb, resolution=60)
    centres, rgba = _cells(ax)
    assert centres.shape == (2, 3600)
    expected = _numpy_predict(model.params_, centres)[0]
    assert set(np.unique(expected)) == {0.0, 1.0}  # both classes appear on the grid
    colours = _legend_colours(ax)
    assert set(colours) == {"class 0", "class 1"}
    assert not np.allclose(colours["class 0"], colours["class 1"])
    want = np.stack([colours[f"class {c:g}"] for c in expected])
    np.testing.assert_allclose(rgba, want, atol=1e-12)
    # the grid spans the data plus the margin
    assert ax.get_xlim() == pytest.approx((X[0].min() - 1, X[0].max() + 1))
    assert ax.get_ylim() == pytest.approx((X[1].min() - 1, X[1].max() + 1))


def test_points_are_coloured_by_their_labels():
    X, Y = planar_flower(m=40, seed=3)
    model = _planar_model().fit(X, Y)
    ax = plot_decision_boundary(model, X, Y, resolution=20)
    points = ax.collections[1]
    np.testing.assert_allclose(points.get_offsets(), X.T)
    colours = _legend_colours(ax)
    want = np.stack([colours[f"class {c:g}"] for c in Y[0]])
    np.testing.assert_allclose(points.get_facecolors(), want, atol=1e-12)


class _SectorModel:
    """A fitted stand-in for a multi-class model: predict gives the angular sector's label."""

    layer_dims = [2, 3]
    params_: dict = {}

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def predict(self, X):
        sector = ((np.arctan2(X[1], X[0]) + np.pi) // (2 * np.pi / 3)).astype(int) % 3
        return self.labels[sector][None, :]


def test_multiclass_draws_one_region_per_class_label():
    model = _SectorModel([7, 2, 5])  # any integer labels, not 0..C-1 and not sorted
    X = np.array([[-1.0, 1.0, 0.5], [-1.0, 1.0, -0.5]])
    ax = plot_decision_boundary(model, X, resolution=41)
    centres, rgba = _cells(ax)
    expected = model.predict(centres)[0]
    colours = _legend_colours(ax)
    assert sorted(colours) == ["class 2", "class 5", "class 7"]
    distinct = np.unique(np.round(np.stack(list(colours.values())), 6), axis=0)
    assert len(distinct) == 3
    want = np.stack([colours[f"class {c}"] for c in expected])
    np.testing.assert_allclose(rgba, want, atol=1e-12)
    assert len(np.unique(np.round(rgba, 6), axis=0)) == 3


def _three_blobs(m_per_class=40, seed=0):
    """Three Gaussian blobs around the corners of a triangle: X (2, 3k), labels (1, 3k)."""
    rng = np.random.default_rng(seed)
    centres = 2.5 * np.array([[np.cos(a), np.sin(a)] for a in (0.3, 2.4, 4.5)])
    X = np.concatenate([c + 0.7 * rng.standard_normal((m_per_class, 2)) for c in centres]).T
    return X, np.repeat(np.arange(3), m_per_class)[None, :]


def test_softmax_model_draws_one_region_per_class_on_every_backend(xp, backend, device):
    X, labels = _three_blobs()
    hyper = {"hidden_activation": "tanh", "output_activation": "softmax", "learning_rate": 0.5}
    trained = xpnet.NeuralNetwork([2, 6, 3], num_iterations=300, **hyper).fit(X, labels)
    model = xpnet.NeuralNetwork([2, 6, 3], num_iterations=1, backend=backend.library, device=device,
                                **hyper)  # fmt: skip
    Xb = xp.asarray(X, dtype=xp.float64, device=device)
    model.fit(Xb, xp.asarray(labels, dtype=xp.int64, device=device),
              initial_params=trained.params_)  # fmt: skip
    one_hot = (np.arange(3)[:, None] == labels).astype(np.float64)  # (C, m) labels work too
    ax = plot_decision_boundary(
        model, Xb, xp.asarray(one_hot, dtype=xp.float64, device=device), resolution=50
    )
    centres, rgba = _cells(ax)
    p = {k: xpnet.to_numpy(v) for k, v in model.params_.items()}
    Z2 = p["W2"] @ np.tanh(p["W1"] @ centres + p["b1"]) + p["b2"]
    expected = np.argmax(Z2, axis=0)  # softmax is monotone: argmax of Z[L] = argmax of A[L]
    assert set(expected) == {0, 1, 2}
    colours = _legend_colours(ax)
    assert sorted(colours) == ["class 0", "class 1", "class 2"]
    np.testing.assert_allclose(rgba, np.stack([colours[f"class {c}"] for c in expected]))
    points = ax.collections[1].get_facecolors()
    np.testing.assert_allclose(points, np.stack([colours[f"class {c}"] for c in labels[0]]))


def test_cost_curve_data_labels_and_title():
    X, Y = planar_flower(seed=1)
    model = _planar_model(record_every=50).fit(X, Y)
    ax = plot_costs(model)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [i for i, _ in model.costs_])
    np.testing.assert_array_equal(line.get_ydata(), [c for _, c in model.costs_])
    assert ax.get_xlabel() == "iterations"
    assert ax.get_ylabel() == "cost"
    assert ax.get_title() == "Learning rate = 1.2"


def test_cost_curve_of_a_costs_list_and_of_a_mini_batch_model():
    fig, ax = plt.subplots()
    assert plot_costs([(0, 0.7), (10, 0.5), (20, 0.4)], ax=ax, color="red") is ax
    assert list(ax.get_lines()[0].get_ydata()) == [0.7, 0.5, 0.4]
    assert ax.get_xlabel() == "iterations" and ax.get_title() == ""
    X, Y = planar_flower(m=40, seed=3)
    model = xpnet.NeuralNetwork([2, 1], num_iterations=4, batch_size=16, record_every=1)
    ax = plot_costs(model.fit(X, Y))
    assert ax.get_xlabel() == "epochs"
    assert list(ax.get_lines()[0].get_xdata()) == [0, 1, 2, 3]


def test_decision_boundary_labels_and_title():
    X, Y = planar_flower(m=40, seed=3)
    ax = plot_decision_boundary(_planar_model().fit(X, Y), X, Y, resolution=10)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")
    assert ax.get_title() == "Decision boundary, layer_dims=[2, 4, 1]"


def test_figures_are_written_with_savefig(tmp_path):
    X, Y = planar_flower(m=40, seed=3)
    model = _planar_model(record_every=10).fit(X, Y)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    plot_costs(model, ax=left)
    plot_decision_boundary(model, X, Y, ax=right, resolution=30)
    for name in ("both.png", "both.svg"):
        fig.savefig(tmp_path / name)
    png = (tmp_path / "both.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(tmp_path / "both.png")
    assert image.shape[:2] == (300, 800)  # 8 x 3 inches at 100 dpi
    assert "<svg" in (tmp_path / "both.svg").read_text()


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.zeros((3, 5)), r"X has shape \(3, 5\).*\(2, m\).*only 2-D problems"),
        (np.zeros((5, 2)), r"X has shape \(5, 2\).*pass X\.T"),
        (np.zeros(4), r"X has shape \(4,\)"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), "only finite values"),
    ],
)
def test_bad_points_are_clear_errors(X, match):
    model = _planar_model(num_iterations=2)
    model.fit(*planar_flower(m=20, seed=0))
    with pytest.raises(ValueError, match=match):
        plot_decision_boundary(model, X)


def test_other_bad_input_is_clear():
    X, Y = planar_flower(m=20, seed=0)
    with pytest.raises(RuntimeError, match=r"not fitted yet; call fit\(X, Y\)"):
        plot_decision_boundary(_planar_model(), X, Y)
    with pytest.raises(RuntimeError, match="not fitted yet"):
        plot_costs(_planar_model())
    model = _planar_model(num_iterations=2).fit(X, Y)
    with pytest.raises(ValueError, match=r"Y has shape \(20,\).*\(1, 20\).*one-hot"):
        plot_decision_boundary(model, X, Y[0])
    with pytest.raises(ValueError, match=r"Y has shape \(2, 20\)"):  # two rows, not one-hot
        plot_decision_boundary(model, X, np.vstack([Y, Y]))
    with pytest.raises(ValueError, match="resolution=1"):
        plot_decision_boundary(model, X, resolution=1)
    wide = xpnet.NeuralNetwork([3, 1], num_iterations=1).fit(np.ones((3, 4)), np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"layer_dims\[0\] = 3 .*only for a 2-D problem"):
        plot_decision_boundary(wide, X)
    with pytest.raises(ValueError, match=r"costs has shape \(0,\)"):
        plot_costs([])
    with pytest.raises(ValueError, match=r"costs has shape \(3,\)"):
        plot_costs([0.7, 0.5, 0.4])


def test_missing_matplotlib_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r'pip install "xpnet\[plot\]"'):
        plot_costs([(0, 0.7)])
    X, Y = planar_flower(m=20, seed=0)
    model = _planar_model(num_iterations=2).fit(X, Y)
    with pytest.raises(ImportError, match=r"xpnet\[plot\]"):
        plot_decision_boundary(model, X, Y)
