"""``xpnet.sklearn.NeuralNetworkClassifier`` against scikit-learn's own test suite (issue 4)."""

from __future__ import annotations

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import xpnet  # noqa: E402
from xpnet.sklearn import NeuralNetworkClassifier  # noqa: E402

# Small but sufficient settings: the checks fit dozens of times on tiny standardised data.
FAST = {"hidden_layer_sizes": (8,), "num_iterations": 200, "learning_rate": 0.5}


@parametrize_with_checks([NeuralNetworkClassifier(**FAST)])
def test_check_estimator(estimator, check):
    check(estimator)


def _data(m=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 4))
    y = np.where(X[:, 0] - X[:, 2] > 0, "spam", "ham")
    return X, y


def test_samples_first_layout_and_label_mapping():
    X, y = _data()
    clf = NeuralNetworkClassifier(**FAST, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["ham", "spam"])
    assert clf.n_features_in_ == 4 and clf.n_iter_ == 200
    proba = clf.predict_proba(X)
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    pred = clf.predict(X)
    assert pred.shape == (80,) and set(pred) <= {"ham", "spam"}
    np.testing.assert_array_equal(pred, clf.classes_[np.argmax(proba, axis=1)])
    assert clf.score(X, y) > 0.9
    # It is the core on the transposed data: same seed, same network, same probabilities.
    core = xpnet.NeuralNetwork([4, 8, 1], num_iterations=200, learning_rate=0.5, seed=0)
    core.fit(X.T, (y == "spam").astype(float).reshape(1, -1))
    np.testing.assert_array_equal(proba[:, 1], xpnet.to_numpy(core.predict_proba(X.T))[0])


def test_more_than_two_classes_is_a_clear_error():
    X, _ = _data()
    y = np.arange(80) % 3
    with pytest.raises(ValueError, match="Only binary classification is supported") as info:
        NeuralNetworkClassifier(**FAST).fit(X, y)
    assert "multiclass" in str(info.value) and "OneVsRestClassifier" in str(info.value)


def test_one_class_is_a_clear_error():
    X, _ = _data()
    with pytest.raises(ValueError, match="1 class"):
        NeuralNetworkClassifier(**FAST).fit(X, np.ones(80))


def test_params_round_trip_and_validation_in_fit():
    clf = NeuralNetworkClassifier(hidden_layer_sizes=(5, 3), l2=0.1, backend="numpy")
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (5, 3) and params["l2"] == 0.1
    assert params["backend"] == "numpy"
    clf.set_params(learning_rate=-1.0)  # accepted here (sklearn convention) ...
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        clf.fit(*_data())  # ... and refused in fit, by the core's check
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        NeuralNetworkClassifier(hidden_layer_sizes=(4, 0)).fit(*_data())


def test_pipeline_and_grid_search():
    X, y = _data(m=120, seed=1)
    X = X * 50 + 10  # badly scaled: the scaler in the pipeline matters
    pipe = make_pipeline(StandardScaler(), NeuralNetworkClassifier(**FAST, random_state=0))
    grid = GridSearchCV(
        pipe,
        {
            "neuralnetworkclassifier__hidden_layer_sizes": [(), (4,)],
            "neuralnetworkclassifier__l2": [0.0, 1.0],
        },
        cv=3,
    )
    grid.fit(X, y)
    assert set(grid.best_params_) == {
        "neuralnetworkclassifier__hidden_layer_sizes",
        "neuralnetworkclassifier__l2",
    }
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert grid.score(X, y) > 0.9
    assert grid.predict_proba(X).shape == (120, 2)
    assert isinstance(clone(grid.best_estimator_), type(pipe))


def test_backend_options_pass_through(xp):
    X, y = _data()
    clf = NeuralNetworkClassifier(**FAST, random_state=0, backend=xp.name, device=xp.device)
    clf.fit(X, y)
    assert clf.network_.backend_ == xp.name
    W1 = clf.network_.params_["W1"]
    from helpers import assert_on

    assert_on(xp, W1)
    ref = NeuralNetworkClassifier(**FAST, random_state=0).fit(X, y)
    assert isinstance(clf.predict_proba(X), np.ndarray)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), ref.predict(X))
