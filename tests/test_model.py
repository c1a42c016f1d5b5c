"""NeuralNetwork: the course's planar result, training on every backend, predictions."""

from __future__ import annotations

import array_api_extra as xpx
import numpy as np
import pytest
from helpers import assert_on

import xpnet
from xpnet.datasets import make_synthetic, planar_flower

COURSE_COSTS = [0.693048, 0.288083, 0.254385, 0.233864, 0.226792, 0.222644, 0.219731]


def _course_initial_params() -> dict[str, np.ndarray]:
    """The planar assignment's start: np.random.seed(2), W1 then W2 = randn · 0.01."""
    state = np.random.get_state()
    try:
        np.random.seed(2)
        W1 = np.random.randn(4, 2) * 0.01
        W2 = np.random.randn(1, 4) * 0.01
    finally:
        np.random.set_state(state)
    return {"W1": W1, "b1": np.zeros((4, 1)), "W2": W2, "b2": np.zeros((1, 1))}


@pytest.mark.slow
def test_reproduces_the_course_planar_network():
    X, Y = planar_flower(seed=1)
    model = xpnet.NeuralNetwork(
        [2, 4, 1],
        hidden_activation="tanh",
        learning_rate=1.2,
        num_iterations=10000,
        record_every=1000,
    )
    model.fit(X, Y, initial_params=_course_initial_params())
    iterations = [i for i, _ in model.costs_]
    assert iterations == list(range(0, 10000, 1000))
    costs = [c for _, c in model.costs_[:7]]
    np.testing.assert_allclose(costs, COURSE_COSTS, rtol=0, atol=1e-6)
    accuracy = model.score(X, Y)
    assert abs(accuracy - 0.90) <= 0.01, accuracy


def test_fit_follows_the_input_library_and_device(xp, device):
    X, Y = make_synthetic(40, 3, seed=0)
    model = xpnet.NeuralNetwork([3, 5, 1], num_iterations=30, learning_rate=0.1, record_every=10)
    model.fit(
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(Y, dtype=xp.float64, device=device),
    )
    for p in model.params_.values():
        assert_on(p, xp, device)
    proba = model.predict_proba(xp.asarray(X, dtype=xp.float64, device=device))
    pred = model.predict(xp.asarray(X, dtype=xp.float64, device=device))
    assert_on(proba, xp, device)
    assert_on(pred, xp, device)
    assert tuple(pred.shape) == (1, 40)
    assert set(np.unique(xpnet.to_numpy(pred))) <= {0.0, 1.0}
    assert [i for i, _ in model.costs_] == [0, 10, 20]
    assert model.n_iter_ == 30

    reference = xpnet.NeuralNetwork([3, 5, 1], num_iterations=30, learning_rate=0.1).fit(X, Y)
    for k, p in reference.params_.items():
        xpx.testing.assert_close(
            model.params_[k], xp.asarray(p, dtype=xp.float64, device=device), rtol=1e-10, atol=1e-13
        )
    xpx.testing.assert_close(
        proba, xp.asarray(reference.predict_proba(X), dtype=xp.float64, device=device), rtol=1e-10
    )


@pytest.mark.parametrize("impl", ["per_example", "loops"])
def test_fit_with_loop_impls_matches_vectorized(impl):
    X, Y = make_synthetic(12, 3, seed=2)
    kw = dict(hidden_activation="tanh", num_iterations=5, learning_rate=0.5, record_every=1)
    vec = xpnet.NeuralNetwork([3, 4, 1], **kw).fit(X, Y)
    loop = xpnet.NeuralNetwork([3, 4, 1], impl=impl, **kw).fit(X, Y)
    np.testing.assert_allclose([c for _, c in loop.costs_], [c for _, c in vec.costs_], atol=1e-12)
    for k in vec.params_:
        np.testing.assert_allclose(loop.params_[k], vec.params_[k], rtol=1e-10, atol=1e-13)


def test_named_backend_moves_numpy_input(xp, backend, device):
    X, Y = make_synthetic(20, 2, seed=1)
    model = xpnet.NeuralNetwork(
        [2, 3, 1], num_iterations=3, backend=backend.library, device=device, record_every=1
    ).fit(X, Y)
    for p in model.params_.values():
        assert_on(p, xp, device)
    assert model.backend_ == backend.library


def test_cost_is_recorded_before_the_update():
    X, Y = make_synthetic(30, 4, seed=3)
    model = xpnet.NeuralNetwork([4, 1], init="zeros", num_iterations=3, record_every=1).fit(X, Y)
    # With zero weights every a = 0.5, so the first recorded cost is exactly log 2.
    assert model.costs_[0] == (0, pytest.approx(np.log(2), abs=1e-15))
    assert model.costs_[1][1] < model.costs_[0][1]


def test_float32_training_stays_float32(xp, device):
    X, Y = make_synthetic(25, 3, seed=4)
    model = xpnet.NeuralNetwork([3, 2, 1], dtype="float32", num_iterations=20, learning_rate=0.1)
    model.fit(
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(Y, dtype=xp.float64, device=device),
    )
    assert model.params_["W1"].dtype == xp.float32
    ref = xpnet.NeuralNetwork([3, 2, 1], num_iterations=20, learning_rate=0.1).fit(X, Y)
    for k, p in ref.params_.items():
        xpx.testing.assert_close(
            model.params_[k], xp.asarray(p, dtype=xp.float32, device=device), rtol=1e-4, atol=1e-5
        )


def test_verbose_fit_draws_a_progress_bar(capsys):
    X, Y = make_synthetic(10, 2, seed=0)
    xpnet.NeuralNetwork([2, 1], num_iterations=50, verbose=True, record_every=10).fit(X, Y)
    err = capsys.readouterr().err
    # tqdm's text bar: "fit: 100%|...| 50/50 [elapsed<left, rate, cost=...]"
    assert "fit:" in err and "50/50" in err and "cost=" in err and "<" in err


def test_quiet_fit_prints_nothing(capsys):
    X, Y = make_synthetic(10, 2, seed=0)
    xpnet.NeuralNetwork([2, 1], num_iterations=5).fit(X, Y)
    assert capsys.readouterr().err == ""


def test_score_is_accuracy():
    X, Y = make_synthetic(200, 2, noise=0.0, seed=5)
    model = xpnet.NeuralNetwork([2, 1], learning_rate=1.0, num_iterations=300).fit(X, Y)
    pred = model.predict(X)
    assert model.score(X, Y) == pytest.approx(float(np.mean(pred == Y)))
    assert model.score(X, Y) > 0.95


def test_predict_before_fit_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not fitted"):
        xpnet.NeuralNetwork([2, 1]).predict(np.zeros((2, 3)))
