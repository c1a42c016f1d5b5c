"""A scikit-learn estimator over :class:`xpnet.NeuralNetwork`.

:class:`NeuralNetworkClassifier` speaks scikit-learn's samples-first layout,
``X`` of shape ``(m, n_x)`` and ``y`` of shape ``(m,)``, and transposes at its
boundary to the course's ``(n_x, m)`` layout of the core, which does the
training. It works in ``Pipeline``, ``GridSearchCV``, ``cross_val_score``,
``clone`` and passes ``sklearn.utils.estimator_checks.check_estimator``.

Inputs are validated and returned as host NumPy arrays, as scikit-learn
expects; the computation itself runs on ``backend``/``device`` (NumPy, CuPy,
torch, JAX, Dask, array_api_strict), which are passed through to the core.

Requires scikit-learn (``pip install "xpnet[sklearn]"``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.class_weight import compute_sample_weight
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError('xpnet.sklearn needs scikit-learn: pip install "xpnet[sklearn]"') from exc

from . import _validation as v
from ._backend import (
    get_namespace,
    picklable_backend,
    picklable_device,
    resolve_device,
    to_backend,
    to_numpy,
)
from .model import NeuralNetwork, placed_state

__all__ = ["NeuralNetworkClassifier"]

#: scikit-learn's ``solver`` names -> the core's ``optimizer`` names.
SOLVERS = {"sgd": "gd", "momentum": "momentum", "rmsprop": "rmsprop", "adam": "adam"}

#: The state a warm start (or ``partial_fit``) carries from one core network to the
#: next (and copies of its generators); the compiled steps too, kept by configuration,
#: so an unchanged one is reused.
_CARRIED = ("params_", "opt_state_", "costs_", "n_iter_", "t_", "backend_", "_compiled")


class _WeightedNetwork(NeuralNetwork):
    """The core network; during a weighted ``fit``/``partial_fit`` each example's weight
    s(i) rides in its one-hot label column, Y = s ⊙ Y₀, which makes the cost
    (1/m) Σ_i s(i) ℓ(i) and the output error s ⊙ (A[L] - Y₀) (see :mod:`xpnet.losses`).
    The labels are validated as one-hot first, by the core."""

    _example_weights: np.ndarray | None = None

    def _prepare_Y(self, Y: Any, m: int, at: Any, **kw: Any) -> Any:
        Y = super()._prepare_Y(Y, m, at, **kw)
        s = self._example_weights
        if s is None:
            return Y
        return Y * to_backend(s.reshape(1, -1), at.xp, device=at.device, dtype=at.dtype)


class NeuralNetworkClassifier(ClassifierMixin, BaseEstimator):
    """Multi-class classifier: an xpnet L-layer network in scikit-learn's API.

    The network is ``[n_features, *hidden_layer_sizes, C]`` with
    ``hidden_activation`` on the hidden layers and a softmax over the C classes of
    ``y`` (also for C = 2, see Notes), trained on the cross-entropy cost by
    :class:`xpnet.NeuralNetwork`, which does the work.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default=(16,)
        Units per hidden layer; ``()`` is (multinomial) logistic regression.
    hidden_activation : str, default="relu"
        "relu", "tanh", "sigmoid", "leaky_relu" or "linear".
    solver : {"sgd", "momentum", "rmsprop", "adam"} or None, default=None
        scikit-learn's spelling of the core's ``optimizer``: "sgd" is plain
        (mini-batch) gradient descent, the core's "gd" (scikit-learn's "sgd" adds
        momentum 0.9: that is "momentum" here, with ``beta``). None uses
        ``optimizer``.
    optimizer : {"gd", "momentum", "rmsprop", "adam"} or None, default=None
        The course's name for the same choice; None means "gd". Giving both
        ``solver`` and ``optimizer`` with different meanings is an error.
    learning_rate, learning_rate_init : float or None, default=None
        α > 0: the course's name and scikit-learn's spelling of the same number
        (the core's ``learning_rate``). When neither is given, α = 0.0075; giving
        both with different values is an error.
    num_iterations : int, default=3000
        Epochs (passes over the training set; one gradient step each with full
        batch). The most epochs with ``early_stopping``.
    batch_size : int, "auto" or None, default=None
        None: full batch (the first course). An int: mini-batches of that size
        (the last one may be smaller). "auto": min(200, m), scikit-learn's default.
    beta, beta1, beta2, epsilon : float
        Momentum's β (0.9); Adam's β₁ (0.9), β₂ (0.999) and ε (1e-8); RMSprop uses
        β₂ and ε.
    shuffle : bool or "course", default=True
        Reshuffle the examples every epoch (mini-batches only).
    keep_prob : float or sequence of float, default=1.0
        Inverted dropout on the hidden layers: the probability of keeping a unit
        (1.0: no dropout).
    l2 : float, default=0.0
        λ >= 0, the L2 regularisation strength (scikit-learn's ``alpha``).
    class_weight : dict, "balanced" or None, default=None
        Weights per class label, multiplied into each example's weight; "balanced"
        is m / (C · m_k) for class k with m_k examples (as in scikit-learn).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified), score
        it after every epoch, stop when the score has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and keep the parameters of the best epoch.
    validation_fraction : float, default=0.1
        In (0, 1): the held-out share with ``early_stopping``.
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping stops.
    tol : float, default=1e-4
        The improvement of the validation accuracy that counts as one.
    warm_start : bool, default=False
        When True, ``fit`` continues from the fitted network (parameters, optimizer
        state, epoch count, ``loss_curve_``) instead of starting again; the classes
        and features must be the same. The continued run, like each ``partial_fit``,
        uses the settings as they are then (``set_params``); a changed ``backend``,
        ``device`` or ``dtype`` moves the fitted state there.
    init : {"he", "zeros", "random", "lecun", "xavier"}, default="he"
        Weight initialisation; ``init_scale`` is the multiplier of "random".
    init_scale : float, default=0.01
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffles, the dropout masks and the
        validation split. An int is used as xpnet's ``seed`` directly, so it gives
        the same weights as ``NeuralNetwork(seed=...)`` on every backend.
    backend, device, dtype, impl
        Passed through to :class:`xpnet.NeuralNetwork`: where (NumPy, CuPy and
        torch on a GPU, JAX, Dask, ...) and in which float dtype the computation
        runs. Inputs and outputs stay NumPy arrays. A namespace module as
        ``backend`` (``torch``) is cloned and pickled as its name; in a parameter
        grid, which scikit-learn deep-copies value by value, give names
        (``{"backend": ["numpy", "torch"]}``).

    Attributes
    ----------
    classes_ : ndarray of shape (C,)
        The labels seen in ``fit`` (or given to the first ``partial_fit``), sorted;
        class ``classes_[k]`` is output unit k of the network.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.
    network_ : xpnet.NeuralNetwork
        The fitted core model (course layout).
    n_iter_ : int
        Completed epochs (all of them, across warm starts and ``partial_fit``).
    loss_curve_ : list of float
        The training cost J of every epoch (see :mod:`xpnet.training` for its
        meaning with mini-batches), including the L2 term.
    costs_ : list of (int, float)
        The same, as (epoch, cost) pairs (the core's ``costs_``).
    validation_scores_ : list of float or None
        With ``early_stopping``: the accuracy on the held-out set after each epoch
        (weighted by the examples' weights); otherwise None.
    validation_loss_curve_ : list of float or None
        With ``early_stopping``: the mean cross-entropy of the held-out set after
        each epoch (without weights or L2 term); otherwise None.
    best_validation_score_ : float or None
        The best of ``validation_scores_``; its epoch's parameters are kept.

    Notes
    -----
    **Two classes.** The output is a softmax over C = 2 units rather than one
    sigmoid unit. The two are the same model (P(classes_[1] | x) = σ(z₁ - z₀)),
    the softmax has n[L-1] + 1 redundant parameters, and it lets class and sample
    weights ride in the label matrix (below), so every C takes one code path.

    **Weighted cost.** With s(i) = sample_weight(i) · class_weight[y(i)] (1 when
    neither is given) and ℓ(i) = -log a_{y(i)}[L](i), the cross-entropy of
    example i, ``fit`` minimises

        J = (1 / Σ_i s(i)) · [ Σ_i s(i) ℓ(i) + (λ/2) Σ_l ‖W[l]‖_F² ],

    the same normalisation as scikit-learn's MLP (its ``alpha`` is λ). Its output
    error is dZ[L] = s ⊙ (A[L] - Y) / mean(s). Integer weights give the same fit
    as repeating examples; multiplying every weight by c is the same as dividing
    λ by c (without L2 it changes nothing). It is computed by the core with the weights
    normalised to mean 1, s̃ = s · m / Σ s, placed in the one-hot labels
    (Y = s̃ ⊙ Y₀) and λ̃ = λ · m / Σ s: the core's (1/m) Σ_i s̃(i) ℓ(i) +
    (λ̃ / 2m) Σ‖W‖² is J. With mini-batches each step uses the same formula over
    its batch (the core's 1/m_t), with s̃ normalised over the whole training set.
    ``partial_fit`` normalises over the examples it is given.
    """

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (16,),
        *,
        hidden_activation: str = "relu",
        solver: str | None = None,
        optimizer: str | None = None,
        learning_rate: float | None = None,
        learning_rate_init: float | None = None,
        num_iterations: int = 3000,
        batch_size: int | str | None = None,
        beta: float = 0.9,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        shuffle: bool | str = True,
        keep_prob: float | Sequence[float] = 1.0,
        l2: float = 0.0,
        class_weight: dict[Any, float] | str | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        warm_start: bool = False,
        init: str = "he",
        init_scale: float = 0.01,
        random_state: Any = None,
        backend: Any = None,
        device: Any = None,
        dtype: Any = "float64",
        impl: str = "vectorized",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.hidden_activation = hidden_activation
        self.solver = solver
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.num_iterations = num_iterations
        self.batch_size = batch_size
        self.beta = beta
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.keep_prob = keep_prob
        self.l2 = l2
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.init = init
        self.init_scale = init_scale
        self.random_state = random_state
        self.backend = backend
        self.device = device
        self.dtype = dtype
        self.impl = impl

    # ------------------------------------------------------------------ settings

    def __getstate__(self) -> dict[str, Any]:
        """scikit-learn's state, with a JAX ``Device`` given as ``device=`` kept as its
        ``"platform:index"`` name and a namespace module given as ``backend=`` as its
        name (pickle refuses both objects; joblib's parallel search pickles estimators)."""
        state = dict(super().__getstate__())  # for a class outside sklearn, that is __dict__
        state["device"] = picklable_device(state.get("device"))
        state["backend"] = picklable_backend(state.get("backend"))
        return state

    def __sklearn_clone__(self) -> NeuralNetworkClassifier:
        """``clone`` deep-copies each parameter, which a module refuses: a namespace
        module given as ``backend=`` (``torch``) is cloned as its name (``"torch"``), the
        same backend; everything else as scikit-learn clones it."""
        named = picklable_backend(self.backend)
        if named is not self.backend:
            twin = copy.copy(self)
            twin.backend = named
            return twin.__sklearn_clone__()
        return super().__sklearn_clone__()

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

    def _optimizer(self) -> str:
        """The core's optimizer from ``solver`` (scikit-learn) and ``optimizer`` (course)."""
        if self.solver is None:
            return "gd" if self.optimizer is None else self.optimizer
        if self.solver not in SOLVERS:
            raise ValueError(
                f"solver={self.solver!r} is not known; expected one of {list(SOLVERS)} "
                "(scikit-learn's 'lbfgs' is not available: xpnet trains by gradient steps)"
            )
        mapped = SOLVERS[self.solver]
        if self.optimizer is not None and self.optimizer != mapped:
            raise ValueError(
                f"solver={self.solver!r} (optimizer {mapped!r}) and optimizer="
                f"{self.optimizer!r} disagree; they name the same setting, so give only one"
            )
        return mapped

    def _alpha(self) -> Any:
        """α from ``learning_rate`` (course) and ``learning_rate_init`` (scikit-learn)."""
        lr, lr_init = self.learning_rate, self.learning_rate_init
        if lr is not None and lr_init is not None and lr != lr_init:
            raise ValueError(
                f"learning_rate={lr!r} and learning_rate_init={lr_init!r} disagree; they "
                "name the same α (the course's and scikit-learn's spelling), so give only one"
            )
        if lr is None and lr_init is None:
            return 0.0075
        name, value = ("learning_rate", lr) if lr is not None else ("learning_rate_init", lr_init)
        return v.check_positive(name, value, example=0.001)

    def _batch_size(self, m: int) -> int | None:
        if self.batch_size == "auto":
            return min(200, m)
        if self.batch_size is None:
            return None
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, Integral):
            raise TypeError(
                f"batch_size must be None (full batch), a positive int or 'auto' (min(200, m)), "
                f"got {self.batch_size!r}"
            )
        return min(int(self.batch_size), m)  # the core checks that it is positive

    def _network(
        self, n_features: int, m: int, warm: NeuralNetwork | None, n_classes: int
    ) -> NeuralNetwork:
        """A core network for ``n_classes`` classes, built from the current settings; with
        ``warm`` (a fitted one) it carries on from its parameters, optimizer state, epoch
        count, costs and generators, moved to ``backend``/``device``/``dtype`` when
        ``set_params`` changed them (a dropout stream then starts anew there)."""
        net = _WeightedNetwork(
            [n_features, *self._hidden(), n_classes],
            hidden_activation=self.hidden_activation,
            output_activation="softmax",
            learning_rate=self._alpha(),
            num_iterations=self.num_iterations,
            init=self.init,
            init_scale=self.init_scale,
            seed=self._seed(),
            l2=self.l2,
            optimizer=self._optimizer(),
            beta=self.beta,
            beta1=self.beta1,
            beta2=self.beta2,
            epsilon=self.epsilon,
            batch_size=self._batch_size(m),
            shuffle=self.shuffle,
            keep_prob=self.keep_prob,
            warm_start=warm is not None,
            backend=self.backend or "numpy",  # named: a continued run moves to it (the core)
            device=self.device,
            dtype=self.dtype,
            impl=self.impl,
            record_every=1,
        )
        if warm is None:
            return net
        if warm.layer_dims != net.layer_dims:
            raise ValueError(
                f"the fitted network has layer_dims {warm.layer_dims} and this call needs "
                f"{net.layer_dims} (features, hidden_layer_sizes, classes), so it cannot "
                "continue (warm_start or partial_fit); set warm_start=False and call fit to "
                "start again"
            )
        for attr in _CARRIED:
            if hasattr(warm, attr):
                setattr(net, attr, getattr(warm, attr))
        net._rngs = _copied(getattr(warm, "_rngs", None))  # a call that fails leaves warm's
        return net

    def _placed(self, a: np.ndarray) -> Any:
        """Host data on the computation's backend and device, once (not every epoch)."""
        xp = get_namespace("numpy" if self.backend is None else self.backend)
        return to_backend(np.ascontiguousarray(a), xp, device=resolve_device(xp, self.device))

    # ------------------------------------------------------------------ weights

    def _weights(self, y: np.ndarray, sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
        """s(i) = sample_weight(i) · class_weight[y(i)], or None when every s(i) is 1."""
        if sample_weight is None and self.class_weight is None:
            return None
        s = np.ones(len(y), dtype=np.float64)
        if sample_weight is not None:
            s = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if self.class_weight is not None:
            if not (self.class_weight == "balanced" or isinstance(self.class_weight, dict)):
                raise ValueError(
                    f"class_weight={self.class_weight!r} is not valid; expected None, "
                    "'balanced' or a dict {label: weight}"
                )
            cw = compute_sample_weight(self.class_weight, y)
            if not (np.all(np.isfinite(cw)) and np.all(cw >= 0)):
                bad = np.unique(np.asarray(y)[~(np.isfinite(cw) & (cw >= 0))]).tolist()
                raise ValueError(
                    f"class_weight={self.class_weight!r} gives classes {bad} a negative or "
                    "non-finite weight; expected finite weights >= 0 (a negative weight makes "
                    "the cost unbounded below)"
                )
            s = s * cw
        if not np.any(s > 0):  # s >= 0 here; a sum of huge weights would overflow
            raise ValueError(
                "sample_weight (times class_weight) sums to 0: no example would count; give "
                "at least one example a positive weight"
            )
        return s

    # ------------------------------------------------------------------ training

    def _check_classes(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type not in ("binary", "multiclass"):
            raise ValueError(
                f"y is {y_type}; NeuralNetworkClassifier predicts one class per example "
                "(binary or multiclass targets, a 1-D y)"
            )
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y has 1 class ({classes[0]!r}); a classifier needs examples of at least 2 "
                "classes to learn to separate them"
            )
        return classes, y_idx

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "network_")

    def _fitted_state(self) -> dict[str, Any]:
        return {k: a for k, a in vars(self).items() if k.endswith("_") and not k.endswith("__")}

    def _restore(self, saved: dict[str, Any]) -> None:
        """The fitted attributes as they were before a call that raised: a fit that fails
        (bad settings, bad labels, divergence) leaves no half-updated model (new classes_
        over the old network, say)."""
        for k in self._fitted_state():
            delattr(self, k)
        vars(self).update(saved)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetworkClassifier:
        """Train on ``X`` of shape (m, n_features) and labels ``y`` of shape (m,).

        Internally X.T is the course's (n_x, m) and y, mapped to 0..C-1 by
        ``classes_``, becomes the one-hot Y of shape (C, m). A fit that raises (or is
        interrupted) leaves the estimator as it was before the call.

        Parameters
        ----------
        X : array-like of shape (m, n_features)
        y : array-like of shape (m,)
            Any C >= 2 class labels.
        sample_weight : array-like of shape (m,), optional
            Non-negative weights s(i) of the examples' losses (see Notes).
        """
        saved = self._fitted_state()
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:  # an interrupted fit never touched the previous network_
            self._restore(saved)
            raise

    def _fit(self, X: Any, y: Any, sample_weight: Any) -> NeuralNetworkClassifier:
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=False)
        for flag in ("early_stopping", "warm_start"):
            v.check_bool(flag, getattr(self, flag))
        classes, y_idx = self._check_classes(y)
        s = self._weights(y, sample_weight, X)
        warm = getattr(self, "network_", None) if self.warm_start else None
        if warm is not None and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True but y has classes {classes.tolist()} while the fitted model "
                f"has {self.classes_.tolist()}; set warm_start=False to start again"
            )
        m = X.shape[0]
        if not self.early_stopping:
            net = self._network(X.shape[1], m, warm, len(classes))
            _train(net, X.T, y_idx.reshape(1, -1), s)
            self.validation_scores_ = self.validation_loss_curve_ = None
            self.best_validation_score_ = None
            self._publish(net, classes)
            return self
        self._check_early_stopping()
        weights = np.ones(m) if s is None else s
        try:
            X_tr, X_val, y_tr, y_val, s_tr, s_val = train_test_split(
                X,
                y_idx,
                weights,
                test_size=self.validation_fraction,
                random_state=self._seed(),
                stratify=y_idx,
            )
        except ValueError as exc:  # too few examples for a stratified split
            raise ValueError(
                f"early_stopping: cannot hold out validation_fraction="
                f"{self.validation_fraction} of the {m} examples with every one of the "
                f"{len(classes)} classes on both sides ({exc}); give more examples, change "
                "validation_fraction, or set early_stopping=False"
            ) from exc
        for part, total in (("training", s_tr.sum()), ("validation", s_val.sum())):
            if not total > 0:
                raise ValueError(
                    f"early_stopping: every example of the {part} part (validation_fraction="
                    f"{self.validation_fraction}) has weight 0 in sample_weight (times "
                    "class_weight); give examples of every class a positive weight, or change "
                    "validation_fraction or random_state"
                )
        net = self._network(X.shape[1], len(y_tr), warm, len(classes))
        Xb, Yb, Xv = self._placed(X_tr.T), self._placed(y_tr.reshape(1, -1)), self._placed(X_val.T)
        keep = warm is not None
        scores = list(self.validation_scores_ or []) if keep else []
        losses = list(self.validation_loss_curve_ or []) if keep else []
        best, best_params, waited = -np.inf, None, 0
        if keep and self.best_validation_score_ is not None:  # the warm run's best stands
            # the warm run's parameters, where this run computes (set_params may have moved it)
            best_params = placed_state(net.params_, net._continued_placement())
            best = self.best_validation_score_
        for _ in range(self.num_iterations):
            _train(net, Xb, Yb, None if s is None else s_tr, one_epoch=True)
            P = to_numpy(net.predict_proba(Xv))  # (C, m_val): one read per epoch
            scores.append(float(np.average(P.argmax(axis=0) == y_val, weights=s_val)))
            p_true = P[y_val, np.arange(len(y_val))]
            losses.append(float(-np.mean(np.log(np.maximum(p_true, np.finfo(P.dtype).tiny)))))
            waited = waited + 1 if scores[-1] < best + self.tol else 0
            if scores[-1] > best:
                best, best_params = scores[-1], net.params_
            if waited >= self.n_iter_no_change:
                break
        net.params_ = best_params  # the best epoch's parameters, as scikit-learn keeps
        self.validation_scores_, self.validation_loss_curve_ = scores, losses
        self.best_validation_score_ = best
        self._publish(net, classes)
        return self

    def _check_early_stopping(self) -> None:
        vf, n_wait, tol = self.validation_fraction, self.n_iter_no_change, self.tol
        if isinstance(vf, bool) or not isinstance(vf, Real) or not 0 < vf < 1:
            raise ValueError(f"validation_fraction={vf!r} must be in (0, 1), e.g. 0.1")
        if isinstance(n_wait, bool) or not isinstance(n_wait, Integral) or n_wait < 1:
            raise ValueError(f"n_iter_no_change={n_wait!r} must be a positive integer, e.g. 10")
        if isinstance(tol, bool) or not isinstance(tol, Real) or not (0 <= tol < math.inf):
            raise ValueError(f"tol={tol!r} must be a finite number >= 0, e.g. 1e-4")

    def _publish(self, net: NeuralNetwork, classes: np.ndarray) -> None:
        self.classes_ = classes  # with network_: the two always describe the same model
        self.network_ = net
        self.n_iter_ = net.n_iter_
        self.t_ = net.t_
        self.costs_ = list(net.costs_)
        self.loss_curve_ = [c for _, c in net.costs_]

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> NeuralNetworkClassifier:
        """One epoch on (X, y), continuing the fitted network (parameters, optimizer
        state, epoch count) with the current settings, as a warm start does;
        ``early_stopping`` does not apply. A call that raises leaves
        the estimator's attributes as they were (an interrupt keeps the network's last
        completed step, as :meth:`xpnet.NeuralNetwork.fit` does).

        Parameters
        ----------
        X : array-like of shape (m, n_features)
        y : array-like of shape (m,)
        classes : array-like, required on the first call
            Every class label that ``y`` will ever hold (``classes_``), as in
            scikit-learn; later calls may omit it or repeat the same set.
        sample_weight : array-like of shape (m,), optional
        """
        saved = self._fitted_state()
        try:
            return self._partial_fit(X, y, classes, sample_weight)
        except Exception:
            self._restore(saved)
            raise

    def _partial_fit(
        self, X: Any, y: Any, classes: Any, sample_weight: Any
    ) -> NeuralNetworkClassifier:
        first = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        check_classification_targets(y)
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()} differs from classes_ "
                    f"{self.classes_.tolist()}, fixed by the first fit or partial_fit; "
                    "set warm_start=False and call fit, or make a new estimator, to change them"
                )
        elif first:
            raise ValueError(
                "classes must be given on the first call to partial_fit: every label y will "
                "hold, e.g. partial_fit(X, y, classes=np.unique(y_all))"
            )
        if first:
            if len(classes) < 2:
                raise ValueError(f"classes={classes.tolist()} has fewer than 2 labels")
        else:
            classes = self.classes_
        unseen = np.setdiff1d(y, classes)
        if unseen.size:
            raise ValueError(
                f"y holds labels {unseen[:5].tolist()} that are not in classes_ "
                f"{classes.tolist()}; pass every label in classes= on the first call"
            )
        s = self._weights(y, sample_weight, X)
        # the current settings (set_params), and batch_size of this call's m, as in fit
        net = self._network(X.shape[1], X.shape[0], getattr(self, "network_", None), len(classes))
        if first:
            self.validation_scores_ = self.validation_loss_curve_ = None
            self.best_validation_score_ = None
        try:
            _train(net, X.T, np.searchsorted(classes, y).reshape(1, -1), s, one_epoch=True)
        except KeyboardInterrupt:  # keep the completed steps, as the core's partial_fit does
            self._publish(net, classes)
            raise
        self._publish(net, classes)
        return self

    # ------------------------------------------------------------------ inference

    def predict_proba(self, X: Any) -> np.ndarray:
        """P(classes_[k] | x): shape (m, C), rows summing to 1."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return to_numpy(self.network_.predict_proba(X.T)).T

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row: ``classes_[argmax_k P(k | x)]``, shape (m,)."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _copied(rngs: Any) -> Any:
    """The (dropout, shuffle) generators for a continued network: copies, so that a call
    that raises leaves the fitted network's streams where they were (the same objects
    where a generator cannot be copied)."""
    try:
        return copy.deepcopy(rngs)
    except (TypeError, ValueError, RuntimeError):
        return rngs


def _train(net: Any, X: Any, Y: Any, s: np.ndarray | None, *, one_epoch: bool = False) -> None:
    """Train the core ``net`` on (X (n_x, m), Y (1, m) of class indices) with example
    weights s (m,): ``fit`` (its ``num_iterations`` epochs) or one ``partial_fit``
    epoch. The weights go in normalised to mean 1, s̃ = s · m / Σs, with λ̃ = λ · m / Σs
    (see the Notes of :class:`NeuralNetworkClassifier`)."""
    weights, l2 = None, net.l2
    if s is not None:  # via s / max(s): Σs of huge weights overflows, of tiny ones underflows
        top = float(np.max(s))
        scale = Y.shape[1] / float(np.sum(s / top))  # m / Σ(s / max s)
        weights, net.l2 = (s / top) * scale, l2 * scale / top  # s · m / Σs, λ · m / Σs
    net._example_weights = weights
    try:
        (net.partial_fit if one_epoch else net.fit)(X, Y)
    finally:
        net.l2, net._example_weights = l2, None
