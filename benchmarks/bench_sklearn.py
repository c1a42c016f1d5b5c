"""``xpnet.sklearn.NeuralNetworkClassifier`` against scikit-learn's ``MLPClassifier``: the
whole ``fit`` on the digits data (issue 10).

Both fit the same problem: scikit-learn's bundled digits, X/16 in [0, 1], the
stratified 75% training split (1347 x 64, 10 classes); one hidden layer of 64 ReLU units
and a softmax output; the same solver, mini-batch size, learning rate and number of
epochs; no L2; every epoch run (MLPClassifier's tolerance-based stop is switched off).
What differs is what each library draws: initial weights and shuffles.

The figure is a same-run ratio, xpnet's fit time / MLPClassifier's, from
``paired_min`` (the two fits alternated in one loop, minimum per call), stored in
``extra_info["paired_sklearn"]``; the issue's target is <= 1.0 on NumPy.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _common import base_info, get_backend, paired_min, run_benchmark

SOLVERS = {  # solver -> (batch size, learning rate)
    "sgd": (32, 0.05),
    "adam": (200, 1e-3),
}


def _digits():
    datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn is not installed")
    from sklearn.model_selection import train_test_split

    X, y = datasets.load_digits(return_X_y=True)
    X_tr, _, y_tr, _ = train_test_split(X / 16, y, test_size=0.25, random_state=0, stratify=y)
    return np.ascontiguousarray(X_tr), y_tr


def _fits(solver: str, epochs: int):
    from sklearn.neural_network import MLPClassifier

    from xpnet.sklearn import NeuralNetworkClassifier

    X, y = _digits()
    batch, lr = SOLVERS[solver]
    same = dict(solver=solver, batch_size=batch, learning_rate_init=lr, random_state=0)

    def fit_xpnet():
        return NeuralNetworkClassifier((64,), num_iterations=epochs, **same).fit(X, y)

    def fit_sklearn():
        plain = dict(momentum=0.0, nesterovs_momentum=False, alpha=0.0, tol=0.0)
        clf = MLPClassifier((64,), max_iter=epochs, n_iter_no_change=epochs + 1, **plain, **same)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is meant to be hit
            clf.fit(X, y)
        assert clf.n_iter_ == epochs
        return clf

    return fit_xpnet, fit_sklearn, X.shape


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("backend", ["numpy"])
def test_fit_against_mlpclassifier(benchmark, opts, backend, solver):
    epochs = 5 if opts.quick else 30
    fit_xpnet, fit_sklearn, (m, n_x) = _fits(solver, epochs)
    import sklearn

    base_info(
        benchmark,
        get_backend(backend),
        opts,
        impl="vectorized",
        m=m,
        n_x=n_x,
        solver=solver,
        batch_size=SOLVERS[solver][0],
        epochs=epochs,
        sklearn_version=sklearn.__version__,
    )
    out = run_benchmark(benchmark, fit_xpnet, opts, backend=backend)
    assert out.n_iter_ == epochs
    pair_s = opts.paired_total_s
    paired = paired_min(fit_xpnet, fit_sklearn, names=("xpnet", "sklearn"), total_s=pair_s)
    benchmark.extra_info["paired_sklearn"] = paired
    assert paired["xpnet_s"] > 0 and paired["sklearn_s"] > 0
