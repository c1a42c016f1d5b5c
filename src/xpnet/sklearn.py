"""A scikit-learn estimator over :class:`xpnet.NeuralNetwork`.

:class:`NeuralNetworkClassifier` speaks scikit-learn's samples-first layout,
``X`` of shape ``(m, n_x)`` and ``y`` of shape ``(m,)``, and transposes at its
boundary to the course's ``(n_x, m)`` / ``(1, m)`` layout of the core, which does
the training. It works in ``Pipeline``, ``GridSearchCV``, ``clone`` and passes
``sklearn.utils.estimator_checks.check_estimator``.

Inputs are validated and returned as host NumPy arrays, as scikit-learn
expects; the computation itself runs on ``backend``/``device`` (NumPy, CuPy,
torch, JAX, Dask, array_api_strict), which are passed through to the core.

Requires scikit-learn (``pip install "xpnet[sklearn]"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError('xpnet.sklearn needs scikit-learn: pip install "xpnet[sklearn]"') from exc

from ._backend import to_numpy
from .model import NeuralNetwork

__all__ = ["NeuralNetworkClassifier"]


class NeuralNetworkClassifier(ClassifierMixin, BaseEstimator):
    """Binary classifier: an xpnet L-layer network in scikit-learn's API.

    The network is ``[n_features, *hidden_layer_sizes, 1]`` with
    ``hidden_activation`` on the hidden layers and a sigmoid output unit,
    trained by full-batch gradient descent on the cross-entropy cost (see
    :class:`xpnet.NeuralNetwork`, which does the work).

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default=(16,)
        Units per hidden layer; ``()`` is logistic regression.
    hidden_activation : str, default="relu"
        "relu", "tanh", "sigmoid", "leaky_relu" or "linear".
    learning_rate : float, default=0.0075
        α > 0.
    num_iterations : int, default=3000
        Gradient-descent steps.
    init : {"he", "zeros", "random", "lecun", "xavier"}, default="he"
        Weight initialisation; ``init_scale`` is the multiplier of "random".
    init_scale : float, default=0.01
    l2 : float, default=0.0
        λ >= 0, the L2 regularisation strength.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights. An int is used as xpnet's ``seed`` directly, so
        it gives the same weights as ``NeuralNetwork(seed=...)`` on every backend.
    backend, device, dtype, impl
        Passed through to :class:`xpnet.NeuralNetwork`: where and in which float
        dtype the computation runs. Inputs and outputs stay NumPy arrays.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels seen in ``fit``; ``classes_[1]`` is the positive class
        (Y = 1 in the core).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.
    network_ : xpnet.NeuralNetwork
        The fitted core model (course layout).
    n_iter_ : int
        Completed gradient steps.
    costs_ : list of (int, float)
        Recorded (iteration, cost) pairs.

    Notes
    -----
    Binary only: the core has one sigmoid output unit. ``fit`` on three or more
    classes raises ``ValueError("Only binary classification is supported...")``
    (wrap it in ``sklearn.multiclass.OneVsRestClassifier`` for more classes).
    """

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (16,),
        *,
        hidden_activation: str = "relu",
        learning_rate: float = 0.0075,
        num_iterations: int = 3000,
        init: str = "he",
        init_scale: float = 0.01,
        l2: float = 0.0,
        random_state: Any = None,
        backend: Any = None,
        device: Any = None,
        dtype: Any = "float64",
        impl: str = "vectorized",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.hidden_activation = hidden_activation
        self.learning_rate = learning_rate
        self.num_iterations = num_iterations
        self.init = init
        self.init_scale = init_scale
        self.l2 = l2
        self.random_state = random_state
        self.backend = backend
        self.device = device
        self.dtype = dtype
        self.impl = impl

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        # One sigmoid output unit: fit raises "Only binary classification is supported."
        # on 3+ classes, which check_classifier_not_supporting_multiclass verifies.
        tags.classifier_tags.multi_class = False
        return tags

    def _hidden(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        try:
            sizes = list(sizes)
        except TypeError:
            raise TypeError(
                f"hidden_layer_sizes must be a sequence of layer sizes like (16,) or (20, 7), "
                f"got {self.hidden_layer_sizes!r}"
            ) from None
        if not all(isinstance(n, Integral) and not isinstance(n, bool) and n > 0 for n in sizes):
            raise ValueError(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} must hold positive integers, "
                "e.g. (16,) or (20, 7, 5); use () for logistic regression"
            )
        return [int(n) for n in sizes]

    def _seed(self) -> Any:
        rs = self.random_state
        if rs is None or (isinstance(rs, Integral) and not isinstance(rs, bool)):
            return rs
        return int(check_random_state(rs).randint(np.iinfo(np.int32).max))

    def fit(self, X: Any, y: Any) -> NeuralNetworkClassifier:
        """Train on ``X`` of shape (m, n_features) and binary labels ``y`` of shape (m,).

        Internally X.T is the course's (n_x, m) and y, mapped to 0/1 by
        ``classes_``, is Y of shape (1, m).
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=False)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{y_type} ({len(np.unique(y))} classes); xpnet's network has one sigmoid "
                "output unit. For more classes wrap it: "
                "sklearn.multiclass.OneVsRestClassifier(NeuralNetworkClassifier())"
            )
        classes, y01 = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y has 1 class ({classes[0]!r}); a binary classifier needs examples of 2 "
                "classes to learn to separate them"
            )
        net = NeuralNetwork(
            [X.shape[1], *self._hidden(), 1],
            hidden_activation=self.hidden_activation,
            learning_rate=self.learning_rate,
            num_iterations=self.num_iterations,
            init=self.init,
            init_scale=self.init_scale,
            seed=self._seed(),
            l2=self.l2,
            backend=self.backend,
            device=self.device,
            dtype=self.dtype,
            impl=self.impl,
        )
        net.fit(X.T, y01.reshape(1, -1).astype(X.dtype))  # course layout (n_x, m), (1, m)
        self.classes_ = classes
        self.network_ = net
        self.n_iter_ = net.n_iter_
        self.costs_ = list(net.costs_)
        return self

    def _proba_positive(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return to_numpy(self.network_.predict_proba(X.T)).reshape(-1)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of ``classes_``: shape (m, 2), columns [P(classes_[0]), P(classes_[1])]."""
        p = self._proba_positive(X)
        return np.stack([1.0 - p, p], axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[1]`` where P(classes_[1] | x) > 0.5, else ``classes_[0]``: shape (m,)."""
        p = self._proba_positive(X)
        return self.classes_[(p > 0.5).astype(np.intp)]
