"""``NeuralNetwork``: an L-layer binary classifier trained by full-batch gradient descent."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from . import _validation as v
from ._backend import (
    backend_name,
    detached,
    get_namespace,
    namespace_of,
    picklable_backend,
    picklable_device,
    resolve_device,
    resolve_dtype,
    to_backend,
    to_numpy,
)
from ._compile import check_mode, training_steps
from ._inputs import Placement, placement_for, placement_of, prepare_X, prepare_Y
from ._progress import ProgressBar
from ._random import generator_state, make_dropout_rng, restore_generator, shuffle_generator
from .activations import Activation, get_activation
from .initializers import INITS, initialize_parameters
from .io import bad_file, read_model_file, write_model_file
from .optimizers import OPTIMIZERS, initialize_optimizer_state, optimizer_state_keys
from .propagation import IMPLS, predict_vectorized
from .schedules import SCHEDULES
from .training import (
    DivergenceError,
    TrainingConfig,
    TrainingState,
    check_run,
    make_step,
    train,
)

__all__ = ["DivergenceError", "NeuralNetwork", "load"]

Array = Any


def _is_array(x: Any) -> bool:
    import array_api_compat

    return array_api_compat.is_array_api_obj(x)


class NeuralNetwork:
    """An L-layer network for binary or multi-class classification, in the course's notation.

    Layers 1..L-1 use ``hidden_activation``; layer L uses ``output_activation``
    (sigmoid with one unit, or softmax with one unit per class). Training
    minimises the cross-entropy cost J (plus
    λ/(2m) Σ‖W[l]‖² when ``l2 > 0``) by gradient descent, full batch or in
    mini-batches, with momentum, RMSprop or Adam, learning-rate decay and inverted
    dropout (the second course). The loop itself lives in :mod:`xpnet.training`.

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_x, n[1], ..., n[L]]`` with n[L] = 1 for a sigmoid output and
        n[L] = C >= 2 for a softmax over C classes. ``[n_x, 1]`` is logistic
        regression; ``[2, 4, 1]`` is the planar network; ``[64, 32, 10]`` a
        10-class softmax network.
    hidden_activation : str or Activation
        "relu" (default), "tanh", "sigmoid", "leaky_relu", "linear", or
        ``xpnet.activations.leaky_relu(slope)``.
    output_activation : {"sigmoid", "softmax"}
        "sigmoid" (binary cross-entropy, Y of 0/1 labels (1, m)) or "softmax"
        (categorical cross-entropy, Y of integer classes 0..C-1 (1, m) or
        one-hot (C, m)).
    learning_rate : float
        α₀ > 0, the learning rate (of epoch 0 when it decays).
    num_iterations : int
        Number of epochs, passes over the training set (> 0). With full batch
        (``batch_size=None``) an epoch is one gradient step, the first course's
        "iteration".
    init : {"zeros", "random", "lecun", "he", "xavier"}
        Initial weights (see :mod:`xpnet.initializers`); ``init_scale`` is the
        multiplier of "random" (the course's 0.01).
    seed : int, numpy.random.Generator, numpy.random.RandomState or None
        Seeds the initial weights, the shuffles and the dropout masks. An int
        seeds independent streams for each. A ``RandomState`` is the course's
        legacy mode: the weights are drawn exactly as ``np.random.seed(s)`` then
        ``np.random.randn(n[l], n[l-1])`` for l = 1..L, and dropout masks continue
        that stream with ``rand`` (NumPy backend only).
    l2 : float
        λ >= 0, the L2 regularisation strength.
    optimizer : {"gd", "momentum", "rmsprop", "adam"}
        The update rule (see :mod:`xpnet.optimizers` for each formula).
    beta : float
        β in [0, 1) of momentum (0.9).
    beta1, beta2, epsilon : float
        Adam's β₁ (0.9) and β₂ (0.999) in [0, 1) and ε > 0 (1e-8); RMSprop uses
        β₂ and ε.
    batch_size : int or None
        Mini-batch size; None is full-batch gradient descent. The last batch of an
        epoch may be smaller.
    shuffle : bool or "course"
        With mini-batches: True shuffles the examples every epoch from a host
        generator seeded by ``seed``; False keeps their order; "course" is the
        optimization assignment's rule, epoch e shuffling with
        ``numpy.random.RandomState(11 + e).permutation(m)`` (a reproduction mode).
    learning_rate_decay : None, "inverse_time", "scheduled" or callable
        None keeps α₀. "inverse_time": α = α₀ / (1 + decay_rate · e);
        "scheduled": α = α₀ / (1 + decay_rate · ⌊e / time_interval⌋); a callable
        ``(α₀, e) -> α``. Epoch 0 uses α₀ and epoch e + 1 uses the decay at e, as
        in the course's assignment.
    decay_rate : float
        > 0, for the two named schedules (1.0).
    time_interval : int
        > 0, epochs per step of the "scheduled" decay (1000).
    keep_prob : float or sequence of float
        Inverted dropout: the probability of keeping each hidden unit, one number
        for every hidden layer or one per hidden layer, in (0, 1]. 1.0 (the
        default) disables dropout. The output layer and prediction never drop.
    warm_start : bool
        When True, ``fit`` continues from ``params_`` and ``opt_state_`` of a
        previous fit (the epoch count, decay schedule and ``costs_`` go on)
        instead of initialising again.
    backend : str, module or None
        "numpy", "cupy", "torch", "jax", "dask", "array_api_strict" or a namespace.
        ``None`` follows the library of the X passed to ``fit`` (NumPy for lists).
        With a named backend, ``fit`` and ``predict`` move their inputs to it.
    device : optional
        Device on the backend (``"cuda:0"``, ``"device1"``...); default: X's device
        when ``backend`` is None, else the backend's default device.
    dtype : "float64" (default), "float32" or a dtype object
        Floating dtype of parameters and computation. Integer or boolean X is
        converted to it by value.
    impl : {"vectorized", "per_example", "loops"}
        Propagation implementation (the loop versions exist for benchmarks).
    record_every : int
        Record the cost at epochs e with ``e % record_every == 0`` in ``costs_``
        (see :mod:`xpnet.training` for what the cost of a mini-batch epoch is).
        Costs are read from the device only at these epochs.
    verbose : bool
        Show a progress bar on stderr.
    compile : "auto" (default), True, False, "jit" or a torch.compile mode
        Compile the training step with the backend's own compiler
        (:func:`xpnet.compile_step`). "auto": ``jax.jit`` on JAX, where full-batch
        epochs between two recordings also run as one ``lax.scan``. On torch CPU,
        "auto" starts eagerly and switches to ``torch.compile`` once the rest of
        the fit is projected to take 300 s or more eagerly (the compile costs
        10-30 s; course-sized fits stay eager; not with dropout; a failed compile
        warns and stays eager). Eager everywhere else. True: ``jax.jit`` on JAX,
        ``torch.compile`` on torch (CUDA graphs on CUDA), and eager where there is
        nothing to compile (NumPy, Dask, array_api_strict, CuPy). Results equal the
        eager step's to rounding; ``compiler_`` says what ran.

    Attributes
    ----------
    params_ : dict
        Learned {"W1", "b1", ...} on the model's backend and device.
    opt_state_ : dict
        The optimizer's state ({"vdW1", ..., "sdW1", ..., "t"}), saved with the model
        and continued by ``warm_start`` and ``partial_fit``.
    costs_ : list of (int, float)
        Recorded (epoch, cost) pairs.
    n_iter_ : int
        Completed epochs.
    t_ : int
        Optimizer steps taken (Adam's t).
    compiler_ : str or None
        What the last epoch of the last ``fit`` ran with: ``"jax.jit"``,
        ``"jax.jit+scan"``, ``"torch.compile:<mode>"``, or None (eager).
    """

    def __init__(
        self,
        layer_dims: Sequence[int],
        *,
        hidden_activation: str | Activation = "relu",
        output_activation: str | Activation = "sigmoid",
        learning_rate: float = 0.0075,
        num_iterations: int = 3000,
        init: str = "he",
        init_scale: float = 0.01,
        seed: Any = 0,
        l2: float = 0.0,
        optimizer: str = "gd",
        beta: float = 0.9,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size: int | None = None,
        shuffle: bool | str = True,
        learning_rate_decay: str | Callable[[float, int], float] | None = None,
        decay_rate: float = 1.0,
        time_interval: int = 1000,
        keep_prob: float | Sequence[float] = 1.0,
        warm_start: bool = False,
        backend: Any = None,
        device: Any = None,
        dtype: Any = "float64",
        impl: str = "vectorized",
        record_every: int = 100,
        verbose: bool = False,
        compile: Any = "auto",
    ) -> None:
        self.layer_dims = layer_dims
        self.hidden_activation = hidden_activation
        self.output_activation = output_activation
        self.learning_rate = learning_rate
        self.num_iterations = num_iterations
        self.init = init
        self.init_scale = init_scale
        self.seed = seed
        self.l2 = l2
        self.optimizer = optimizer
        self.beta = beta
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.learning_rate_decay = learning_rate_decay
        self.decay_rate = decay_rate
        self.time_interval = time_interval
        self.keep_prob = keep_prob
        self.warm_start = warm_start
        self.backend = backend
        self.device = device
        self.dtype = dtype
        self.impl = impl
        self.record_every = record_every
        self.verbose = verbose
        self.compile = compile
        self._check_settings()

    def _check_settings(self) -> None:
        """Validate the settings and derive ``activations`` and ``keep_probs`` from them:
        at construction and again at every ``fit``/``partial_fit``, so an attribute set
        afterwards (``net.keep_prob = 0.5``) takes effect and is checked like an argument
        (it was ignored, or trained unchecked: a negative learning_rate ascended)."""
        self.layer_dims = v.check_layer_dims(self.layer_dims)
        self.hidden_activation = get_activation(self.hidden_activation)
        self.output_activation = get_activation(self.output_activation)
        self.activations = v.check_activations(
            [self.hidden_activation] * (len(self.layer_dims) - 2) + [self.output_activation],
            len(self.layer_dims) - 1,
        )
        v.check_output_units(self.output_activation, self.layer_dims[-1])
        self.learning_rate = v.check_positive("learning_rate", self.learning_rate)
        self.num_iterations = v.check_positive(
            "num_iterations", self.num_iterations, integer=True, example=2500
        )
        self.init = v.check_name("init", self.init, INITS)
        self.init_scale = v.check_positive("init_scale", self.init_scale)
        if not (
            self.seed is None
            or isinstance(self.seed, np.random.Generator | np.random.RandomState)
            or (isinstance(self.seed, Integral) and not isinstance(self.seed, bool))
        ):
            raise TypeError(
                f"seed must be an int, None, a numpy.random.Generator or a "
                f"numpy.random.RandomState (the course's legacy draws), got {self.seed!r}"
            )
        if isinstance(self.seed, Integral) and self.seed < 0:
            raise ValueError(f"seed={self.seed!r} is negative; expected an integer >= 0")
        self.l2 = v.check_nonnegative("l2", self.l2)
        self.optimizer = v.check_name("optimizer", self.optimizer, tuple(OPTIMIZERS))
        self.beta = v.check_unit_interval("beta", self.beta, low_open=False, high_open=True)
        self.beta1 = v.check_unit_interval("beta1", self.beta1, low_open=False, high_open=True)
        self.beta2 = v.check_unit_interval("beta2", self.beta2, low_open=False, high_open=True)
        self.epsilon = v.check_positive("epsilon", self.epsilon, example=1e-8)
        if self.batch_size is not None:
            v.check_positive("batch_size", self.batch_size, integer=True, example=64)
        if isinstance(self.shuffle, bool | np.bool_):
            self.shuffle = bool(self.shuffle)  # np.True_ is not `True`, which the loop tests
        elif not (isinstance(self.shuffle, str) and self.shuffle == "course"):
            raise ValueError(
                f"shuffle={self.shuffle!r} is not valid; expected True (seeded shuffles), False "
                "(keep the order) or 'course' (RandomState(11 + epoch), the assignment's rule)"
            )
        if callable(self.learning_rate_decay):
            v.check_decay_signature(self.learning_rate_decay)
        elif self.learning_rate_decay is not None:
            v.check_name("learning_rate_decay", self.learning_rate_decay, SCHEDULES)
        self.decay_rate = v.check_positive("decay_rate", self.decay_rate, example=1.0)
        self.time_interval = v.check_positive(
            "time_interval", self.time_interval, integer=True, example=1000
        )
        self.keep_probs = v.check_keep_prob(self.keep_prob, len(self.layer_dims) - 2)
        self.warm_start = v.check_bool("warm_start", self.warm_start)
        self.impl = v.check_name("impl", self.impl, tuple(IMPLS))
        self.record_every = v.check_positive("record_every", self.record_every, integer=True)
        self.compile = check_mode(self.compile)
        if self.backend is not None:
            xp = get_namespace(self.backend)  # fails now, clearly, if the backend is unusable
            resolve_dtype(xp, self.dtype)
            resolve_device(xp, self.device)
            if (
                isinstance(self.seed, np.random.RandomState)
                and self.keep_probs
                and min(self.keep_probs) < 1
            ):
                make_dropout_rng(xp, None, self.seed)  # refuses a RandomState off NumPy

    @classmethod
    def from_params(
        cls,
        params: Mapping[str, Any],
        *,
        hidden_activation: str | Activation = "relu",
        output_activation: str | Activation = "sigmoid",
        backend: Any = None,
        device: Any = None,
        **hyperparameters: Any,
    ) -> NeuralNetwork:
        """A model built from given parameters {"W1", "b1", ..., "WL", "bL"}, ready to predict.

        ``layer_dims`` and the dtype come from the parameters; they are placed on
        ``backend``/``device`` (default: their own library and device). Other
        keyword arguments are the constructor's, used by a later ``fit`` with
        ``warm_start=True`` or ``partial_fit`` (the optimizer state then starts at
        zero). Torch tensors that require grad (``nn.Parameter``) are used detached:
        the model computes its own gradients and never extends their autograd graph.
        The model holds copies: changing the given arrays in place afterwards does not
        change it.
        """
        for k, how in (("layer_dims", "their shapes"), ("dtype", "cast them first to change it")):
            if k in hyperparameters:
                raise TypeError(
                    f"from_params takes {k} from the parameters ({how}); leave {k}= out"
                )
        if isinstance(params, Mapping):  # nested lists too, as NumPy arrays
            params = {k: p if _is_array(p) else np.asarray(p) for k, p in params.items()}
        L = v.check_params(params)
        dims = [int(params["W1"].shape[1])] + [
            int(params[f"W{l}"].shape[0]) for l in range(1, L + 1)
        ]
        first = params["W1"]
        if _is_array(first):
            ns = namespace_of(first)
            dtype = "float32" if first.dtype == ns.float32 else "float64"
        else:
            dtype = "float64"
        model = cls(
            dims,
            hidden_activation=hidden_activation,
            output_activation=output_activation,
            backend=backend,
            device=device,
            dtype=dtype,
            **hyperparameters,
        )
        at = model._placement({"W1": first} if _is_array(first) else {})
        xp = at.xp
        placed = {  # detached: torch nn.Parameters would make autograd record every fit;
            # copied: the caller's arrays, changed in place later, must not change the model
            k: xp.asarray(detached(to_backend(p, xp, device=at.device, dtype=at.dtype)), copy=True)
            for k, p in params.items()
        }
        v.check_params(placed, dims)
        try:
            v.check_finite(placed, xp)
        except ValueError as exc:
            raise ValueError(
                f"from_params: {exc.args[0].split(';')[0]}; a model cannot start from NaN or "
                "infinite weights: check where the parameters came from (a diverged run?)"
            ) from None
        model.params_ = placed
        model.opt_state_ = initialize_optimizer_state(model.optimizer, placed, xp=xp)
        model.costs_, model.n_iter_, model.t_ = [], 0, 0
        model.backend_ = backend_name(xp)
        return model

    # ------------------------------------------------------------------ placement

    def _placement(self, arrays: Mapping[str, Any]) -> Placement:
        """Where a call computes: the model's backend, or the inputs' library."""
        return placement_for(self.backend, self.device, self.dtype, arrays)

    def _prepare_X(self, X: Any, at: Placement, *, training: bool = False) -> Array:
        """X checked and on the model's backend (see :func:`xpnet._inputs.prepare_X`)."""
        return prepare_X(X, at, self.layer_dims[0], training=training)

    def _prepare_Y(self, Y: Any, m: int, at: Placement, *, like: Any = None) -> Array:
        """Y checked and on the model's backend; a softmax model's integer labels (1, m)
        become one-hot (C, m) (see :func:`xpnet._inputs.prepare_Y`)."""
        return prepare_Y(Y, at, m, self.layer_dims[-1], like=like)

    def _continued_placement(self) -> Placement:
        """Where a continued fit (warm_start, partial_fit) runs: on the fitted parameters'
        library and device, or on the backend and device named now when ``backend`` is
        set, in the dtype named now; settings changed since the fit take effect."""
        was = self._model_placement()
        if self.backend is None:
            xp, device = was.xp, was.device
        else:
            xp = get_namespace(self.backend)
            device = resolve_device(xp, self.device)
        return Placement(xp, device, resolve_dtype(xp, self.dtype))

    def _model_placement(self) -> Placement:
        if not hasattr(self, "params_"):
            raise RuntimeError(
                "this NeuralNetwork is not fitted yet; call fit(X, Y) before predicting"
            )
        return placement_of(self.params_)

    # ------------------------------------------------------------------ training

    def _config(self) -> TrainingConfig:
        return TrainingConfig(
            activations=tuple(self.activations),
            l2=self.l2,
            impl=self.impl,
            optimizer=self.optimizer,
            beta=self.beta,
            beta1=self.beta1,
            beta2=self.beta2,
            epsilon=self.epsilon,
            keep_probs=(*self.keep_probs, 1.0),
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            learning_rate=self.learning_rate,
            learning_rate_decay=self.learning_rate_decay,
            decay_rate=self.decay_rate,
            time_interval=self.time_interval,
            record_every=self.record_every,
        )

    def fit(self, X: Any, Y: Any, initial_params: Mapping[str, Any] | None = None) -> NeuralNetwork:
        """Train for ``num_iterations`` epochs.

        Each step: masks (dropout) -> A[L], caches = forward(X_batch) -> J (at
        recording epochs, before the update) -> grads = backward -> the
        optimizer's update. See :mod:`xpnet.training` for the loop and for what
        ``costs_`` records with mini-batches.

        Parameters
        ----------
        X : array (n_x, m)
        Y : array (1, m) or (C, m)
            Labels 0/1 for a sigmoid output; for softmax, integer classes 0..C-1
            (1, m) or one-hot (C, m).
        initial_params : dict, optional
            Starting {"W1", "b1", ...} as NumPy or backend arrays (copied to the
            model's backend, device and dtype); default: drawn by ``init``/``seed``,
            or, with ``warm_start``, the fitted ``params_``.

        Raises
        ------
        DivergenceError
            When a recorded cost, or the parameters after the last update, are NaN
            or inf. Costs are read only at recording epochs, so the error names the
            epoch where it was seen and the last one whose cost was finite;
            ``params_`` and ``opt_state_`` are restored to the start of that last
            finite epoch and ``n_iter_`` to its number; ``costs_`` keeps the epochs
            before it (a continued fit records that epoch again).
        KeyboardInterrupt
            Re-raised after ``params_``/``opt_state_`` are set to the last completed
            step (mid-epoch too) and ``costs_``/``n_iter_`` to the last completed
            epoch, so the model stays usable; if that step's parameters are NaN or
            infinite (a diverging run stopped before a cost read saw it), to those a
            ``DivergenceError`` would keep.
        """
        continuing = self.warm_start and hasattr(self, "params_") and initial_params is None
        return self._train(X, Y, self.num_iterations, initial_params, continuing)

    def partial_fit(self, X: Any, Y: Any) -> NeuralNetwork:
        """One more epoch on (X, Y), continuing ``params_`` and ``opt_state_`` (the first
        call initialises them as ``fit`` does)."""
        return self._train(X, Y, 1, None, hasattr(self, "params_"))

    def _train(
        self, X: Any, Y: Any, epochs: int, initial_params: Any, continuing: bool
    ) -> NeuralNetwork:
        self._check_settings()  # attributes set since construction, checked and in effect
        at = self._continued_placement() if continuing else self._placement({"X": X, "Y": Y})
        xp, device, dtype = at.xp, at.device, at.dtype
        X = self._prepare_X(X, at, training=True)
        Y = self._prepare_Y(Y, X.shape[1], at, like=X)
        config = self._config()
        check_run(X, config, xp)  # before anything of the fitted model changes
        if continuing:
            params = self.params_
            try:
                v.check_params(params, self.layer_dims)
            except ValueError as exc:
                raise ValueError(
                    f"layer_dims={self.layer_dims} no longer matches the fitted params_ "
                    f"({exc}); a continued fit (warm_start, partial_fit) keeps the "
                    "architecture: set warm_start=False to start again, or make a new model"
                ) from None
            opt_state = getattr(self, "opt_state_", None)
            was = placement_of(params)
            if was != at:  # backend, device or dtype set since the fit: the state moves there
                params, opt_state = placed_state(params, at), placed_state(opt_state, at)
                if (was.xp, was.device) != (xp, device) and getattr(self, "_rngs", None):
                    self._rngs = (None, self._rngs[1])  # masks are drawn on the new device
            if opt_state is None or set(opt_state) != optimizer_state_keys(self.optimizer, params):
                # none yet (from_params), or another optimizer's: start this one at zero
                opt_state = initialize_optimizer_state(self.optimizer, params, xp=xp)
            costs, epoch = list(self.costs_), self.n_iter_
        else:
            if initial_params is None:
                params = initialize_parameters(
                    self.layer_dims,
                    self.init,
                    seed=self.seed,
                    scale=self.init_scale,
                    xp=xp,
                    device=device,
                    dtype=dtype,
                )
            else:
                v.check_params(initial_params, self.layer_dims)
                params = {
                    k: to_backend(p, xp, device=device, dtype=dtype)
                    for k, p in initial_params.items()
                }
                v.check_finite(params, xp)
            opt_state = initialize_optimizer_state(self.optimizer, params, xp=xp)
            costs, epoch = [], 0
            self._rngs = None
        dropout_rng, shuffle_rng = getattr(self, "_rngs", None) or (None, None)
        if dropout_rng is None and min(self.keep_probs, default=1.0) < 1:
            # also when a run without dropout goes on with it (a warm start, set_params)
            dropout_rng = make_dropout_rng(xp, device, self.seed)
        if shuffle_rng is None:
            shuffle_rng = shuffle_generator(self.seed)
        self._rngs = (dropout_rng, shuffle_rng)
        state = TrainingState(
            current=(params, opt_state),
            rng=self._rngs[0],
            shuffle_rng=self._rngs[1],
            epoch=epoch,
            costs=costs,
        )
        self.backend_ = backend_name(xp)
        self._publish(state)
        steps = self._compiled_steps(config, xp, device)
        unit = "it" if self.batch_size is None else "epoch"  # full batch: one step per epoch
        with ProgressBar(epochs, "fit", enabled=self.verbose, unit=unit) as bar:
            try:
                progress = bar if self.verbose else None
                train(state, X, Y, config, epochs, xp=xp, progress=progress, checked=True, **steps)
            except KeyboardInterrupt:
                bar.update(0, f"interrupted after {state.epoch} epochs")
                raise
            finally:
                self._publish(state)
                self._rngs = (state.rng, self._rngs[1])
        return self

    def _compiled_steps(self, config: TrainingConfig, xp: Any, device: Any) -> dict[str, Any]:
        """The compiled step (and JAX run of steps) for ``compile=``, kept across ``fit``
        and ``partial_fit`` calls with the same configuration, so they compile once."""
        key = (config, backend_name(xp), device, self.compile)
        cached = getattr(self, "_compiled", None)
        if cached is None or cached[0] != key:
            cached = self._compiled = (
                key,
                training_steps(make_step, config, xp, mode=self.compile, device=device),
            )
        return cached[1]

    def _publish(self, state: TrainingState) -> None:
        """Copy a run's state onto the model (also after an error or an interrupt)."""
        self.params_, self.opt_state_ = state.current
        self.costs_ = state.costs
        self.n_iter_ = state.epoch
        self.t_ = _steps(state.current[1])
        self.compiler_ = state.compiler

    # ------------------------------------------------------------------ inference

    def predict_proba(self, X: Any) -> Array:
        """A[L] for each column of X, on the model's backend: P(y = 1 | x), shape (1, m),
        for a sigmoid output; P(y = k | x) for k = 0..C-1, shape (C, m), for softmax.

        On Dask the result is a lazy Dask array chunked like X along m: nothing is
        computed here, and NaN/inf in X raise ``ValueError`` when it is computed.
        """
        at = self._model_placement()
        X = self._prepare_X(X, at)
        xp = at.xp
        return predict_vectorized(X, self.params_, self.activations, xp=xp)

    def predict(self, X: Any) -> Array:
        """Sigmoid: Ŷ = 1 where A[L] > 0.5, else 0, shape (1, m), in the model's float dtype.
        Softmax: the class index ŷ(i) = argmax_k a_k[L](i), shape (1, m), an integer array."""
        AL = self.predict_proba(X)
        xp = namespace_of(AL)
        if self.output_activation.name == "softmax":
            return xp.argmax(AL, axis=0, keepdims=True)
        return xp.astype(AL > 0.5, AL.dtype)

    def score(self, X: Any, Y: Any) -> float:
        """Accuracy: the fraction of the m examples where Ŷ equals Y (for softmax, the
        predicted class equals Y's class, given as integers (1, m) or one-hot (C, m))."""
        at = self._model_placement()
        xp, dtype = at.xp, at.dtype
        Y_hat = self.predict(X)
        Y = self._prepare_Y(Y, Y_hat.shape[1], at, like=Y_hat)
        if self.output_activation.name == "softmax":
            Y = xp.argmax(Y, axis=0, keepdims=True)  # one-hot (C, m) -> class indices
        return float(xp.mean(xp.astype(Y_hat == Y, dtype)))

    # ------------------------------------------------------------------ persistence

    def save(self, path: Any) -> None:
        """Save the fitted model to ``path`` (one ``.npz``, written atomically).

        Parameters, the optimizer state, activations, dtype, hyperparameters,
        ``costs_``, ``n_iter_`` and the state of the run's shuffle and dropout
        generators are stored; :func:`xpnet.load` restores them bit for bit on any
        backend, so ``partial_fit`` after loading continues the run exactly (dropout
        masks on the same kind of backend; elsewhere they start a new stream). See
        :mod:`xpnet.io` for the format.

        Raises
        ------
        RuntimeError
            When the model is not fitted.
        ValueError
            When an activation is a custom :class:`~xpnet.Activation` that cannot be
            rebuilt by name on load, or ``learning_rate_decay`` is a callable
            (loading never runs code from a file).
        """
        arrays, meta = self._to_state()
        write_model_file(path, arrays, meta)

    def _to_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The model as host arrays (parameters, ``opt.*`` optimizer state) and JSON metadata."""
        if not hasattr(self, "params_"):
            raise RuntimeError("this NeuralNetwork is not fitted yet; call fit(X, Y) before save")
        acts = {}
        for role in ("hidden_activation", "output_activation"):
            act = getattr(self, role)
            spec = act.to_spec()
            try:
                same = get_activation(spec) == act
            except ValueError:
                same = False
            if not same:
                raise ValueError(
                    f"{role}={act!r} is a custom Activation that load() could not rebuild by "
                    "name; only xpnet.ACTIVATIONS entries and xpnet.activations.leaky_relu(slope)"
                    " can be saved (loading never runs code from a file)"
                )
            acts[role] = spec
        hyper = {k: _plain(getattr(self, k)) for k in _HYPERPARAMETERS}
        if not (hyper["seed"] is None or isinstance(hyper["seed"], int)):
            hyper["seed"] = None  # a generator object has no JSON form; its draw is in params_
        if callable(hyper["learning_rate_decay"]):
            raise ValueError(
                "learning_rate_decay is a Python callable, which a model file cannot hold "
                "(loading never runs code from a file); use 'inverse_time' or 'scheduled', or "
                "set model.learning_rate_decay = None before saving and set it again after loading"
            )
        if not isinstance(hyper["keep_prob"], int | float):
            hyper["keep_prob"] = [float(k) for k in hyper["keep_prob"]]
        arrays = {k: np.ascontiguousarray(to_numpy(p)) for k, p in self.params_.items()}
        for k, a in (getattr(self, "opt_state_", None) or {}).items():
            arrays[_OPT_PREFIX + k] = np.array(to_numpy(a), order="C")  # keeps t 0-d
        meta = {
            "layer_dims": list(self.layer_dims),
            **acts,
            "dtype": arrays["W1"].dtype.name,
            "hyperparameters": hyper,
            "trained_on": {"backend": getattr(self, "backend_", None)},
            "costs": [[int(i), float(c)] for i, c in self.costs_],
            "n_iter": int(self.n_iter_),
        }
        rngs = getattr(self, "_rngs", None)
        if rngs is not None:  # where the run's shuffles and dropout masks have got to
            meta["rng"] = {"dropout": generator_state(rngs[0]), "shuffle": generator_state(rngs[1])}
            if rngs[0] is rngs[1]:  # one RandomState (seed=) draws both, interleaved
                meta["rng"]["shared"] = True
        return arrays, meta

    def __getstate__(self) -> dict[str, Any]:
        """What pickle and ``copy.deepcopy`` keep: everything but the compiled-step cache,
        which holds compiled functions and device objects and is rebuilt by the next
        ``fit`` or ``partial_fit``; a JAX ``Device`` given as ``device=`` and a namespace
        module given as ``backend=``, which pickle refuses, are kept as their names."""
        state = dict(self.__dict__)
        state.pop("_compiled", None)
        state["device"] = picklable_device(state.get("device"))
        state["backend"] = picklable_backend(state.get("backend"))
        return state

    def __repr__(self) -> str:
        acts = [a.to_spec() for a in (self.hidden_activation, self.output_activation)]
        return (
            f"NeuralNetwork(layer_dims={self.layer_dims}, activations={acts}, "
            f"learning_rate={self.learning_rate}, num_iterations={self.num_iterations}, "
            f"init={self.init!r}, l2={self.l2}, backend={self.backend!r}, dtype={self.dtype!r},"
            f" impl={self.impl!r})"
        )


def placed_state(arrays: Mapping[str, Any] | None, at: Placement) -> dict[str, Any] | None:
    """Fitted arrays (parameters, optimizer state) on ``at``'s library, device and dtype:
    where a continued fit runs after ``backend``/``device``/``dtype`` changed."""
    if arrays is None:
        return None
    return {k: to_backend(a, at.xp, device=at.device, dtype=at.dtype) for k, a in arrays.items()}


def _plain(value: Any) -> Any:
    """A setting as JSON writes it: NumPy scalars (np.int64(3), np.float32(0.1)) as Python
    ints and floats, sequences as lists; anything else as it is (json refused the NumPy
    ones, and an np.int64 seed was written as None)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(x) for x in value]
    return value


def _steps(opt_state: Mapping[str, Any]) -> int:
    """The optimizer's step count t as a Python int (one small read)."""
    t = opt_state.get("t")
    return 0 if t is None else int(to_numpy(t))


# ---------------------------------------------------------------------------- loading

_OPT_PREFIX = "opt."
#: Constructor arguments stored in a model file (format 1 had the first nine).
_HYPERPARAMETERS = (
    "learning_rate",
    "num_iterations",
    "init",
    "init_scale",
    "seed",
    "l2",
    "impl",
    "record_every",
    "verbose",
    "optimizer",
    "beta",
    "beta1",
    "beta2",
    "epsilon",
    "batch_size",
    "shuffle",
    "learning_rate_decay",
    "decay_rate",
    "time_interval",
    "keep_prob",
    "warm_start",
)


def load(path: Any, *, backend: Any = None, device: Any = None) -> NeuralNetwork:
    """Load a model saved with :meth:`NeuralNetwork.save`, on any backend and device.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    backend : str, module or None
        Where the parameters go: "numpy", "torch", "cupy", "jax", "dask",
        "array_api_strict" or a namespace. ``None``: NumPy, and the model's
        ``backend`` stays ``None`` (a later ``fit`` follows its data's library).
    device : optional
        Device on that backend ("cuda:0", "device1", ...); default: its default.

    Returns
    -------
    NeuralNetwork
        Fitted: ``params_`` (and ``opt_state_``) equal bit for bit to the saved ones
        (in the saved dtype), ``costs_``, ``n_iter_`` and all hyperparameters restored.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ModelFileError (a ValueError)
        Truncated, corrupted or foreign file, a pickled object inside, or a format
        version newer than this xpnet reads.
    BackendUnavailableError
        When ``backend`` cannot be used on this machine.
    """
    import os

    path = os.fspath(path)
    meta, arrays = read_model_file(path)
    _check_contents(path, meta, arrays)
    hyper = dict(meta["hyperparameters"])
    unknown = sorted(set(hyper) - set(_HYPERPARAMETERS))
    if unknown:
        raise bad_file(path, f"unknown hyperparameters {unknown}")
    # the caller's backend and device, and whether this machine can hold the file's dtype
    # there (JAX without 64-bit mode), are checked first: their errors are not the file's
    xp = get_namespace("numpy" if backend is None else backend)
    dev = resolve_device(xp, device)
    dtype = resolve_dtype(xp, meta["dtype"])  # the file's dtype: checked by _check_contents
    try:
        model = NeuralNetwork(
            meta["layer_dims"],
            hidden_activation=get_activation(meta["hidden_activation"]),
            output_activation=get_activation(meta["output_activation"]),
            backend=backend,
            device=device,
            dtype=meta["dtype"],
            **hyper,
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ImportError):  # BackendUnavailableError: the caller's choice
            raise
        raise bad_file(path, f"its settings are invalid ({exc})") from exc
    model.params_ = {
        k: to_backend(arrays[k], xp, device=dev, dtype=dtype)
        for k in sorted(arrays, key=_param_order)
        if not k.startswith(_OPT_PREFIX)
    }
    opt = {
        k[len(_OPT_PREFIX) :]: to_backend(a, xp, device=dev, dtype=dtype)
        for k, a in arrays.items()
        if k.startswith(_OPT_PREFIX)
    }
    if set(opt) != optimizer_state_keys(model.optimizer, model.params_):
        opt = initialize_optimizer_state(model.optimizer, model.params_, xp=xp)  # format 1
    model.opt_state_ = opt
    model.t_ = int(arrays[_OPT_PREFIX + "t"]) if _OPT_PREFIX + "t" in arrays else 0
    model.costs_ = list(meta["costs"])
    model.n_iter_ = meta["n_iter"]
    model.backend_ = backend_name(xp)
    model.compiler_ = None  # nothing has run since loading
    model._rngs = _restored_rngs(path, meta.get("rng"), model, xp, dev)
    return model


def _restored_rngs(path: str, saved: Any, model: NeuralNetwork, xp: Any, device: Any) -> Any:
    """The (dropout, shuffle) generators a saved run had reached, so that ``partial_fit``
    and ``warm_start`` after loading draw what the run would have drawn next; None (the
    next fit seeds them afresh from ``seed``) for files without them (format 2 before
    they were written). A dropout stream saved on another kind of backend starts anew."""
    if not isinstance(saved, dict):
        return None
    try:
        shuffle = restore_generator(saved.get("shuffle"))
        dropout = None
        if saved.get("shared") is True:  # one generator drew both streams: one again
            dropout = shuffle if min(model.keep_probs, default=1.0) < 1 else None
        elif min(model.keep_probs, default=1.0) < 1:
            dropout = restore_generator(saved.get("dropout"), xp, device)
            if dropout is None:
                dropout = make_dropout_rng(xp, device, model.seed)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise bad_file(path, f"its generator states are invalid ({exc!r})") from exc
    return None if shuffle is None else (dropout, shuffle)


def _check_contents(path: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    try:
        dims = [int(n) for n in meta["layer_dims"]]
        dtype = meta["dtype"]
        meta["hyperparameters"]["learning_rate"]  # noqa: B018 - presence check
        costs = [(int(i), float(c)) for i, c in meta["costs"]]
        n_iter = int(meta["n_iter"])
        meta["hidden_activation"], meta["output_activation"]  # noqa: B018
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_file(path, f"its metadata lacks or mangles a field ({exc!r})") from exc
    if dtype not in ("float32", "float64"):
        raise bad_file(path, f"dtype={dtype!r}; expected 'float32' or 'float64'")
    L = len(dims) - 1
    expected = {f"{p}{k}" for k in range(1, L + 1) for p in "Wb"}
    opt = {k for k in arrays if k.startswith(_OPT_PREFIX)}
    for k in opt:
        name = k[len(_OPT_PREFIX) :]
        want = () if name == "t" else (arrays[name[2:]].shape if name[2:] in arrays else None)
        if want is None or (name != "t" and name[:2] not in ("vd", "sd")):
            raise bad_file(path, f"it holds an unknown optimizer entry {k!r}")
        if arrays[k].shape != want or arrays[k].dtype.name != dtype:
            raise bad_file(
                path, f"{k} is {arrays[k].dtype.name} {arrays[k].shape}; expected {want}"
            )
    if set(arrays) - opt != expected:
        raise bad_file(
            path,
            f"it holds arrays {sorted(arrays)} but layer_dims={dims} needs {sorted(expected)}",
        )
    for k in range(1, L + 1):
        for name, shape in ((f"W{k}", (dims[k], dims[k - 1])), (f"b{k}", (dims[k], 1))):
            a = arrays[name]
            if a.shape != shape or a.dtype.name != dtype:
                raise bad_file(
                    path,
                    f"{name} is {a.dtype.name} {a.shape}; layer_dims={dims} and dtype={dtype!r} "
                    f"give {dtype} {shape}",
                )
    meta["costs"], meta["n_iter"] = costs, n_iter
    if any(not math.isfinite(c) for _, c in costs) or n_iter < 0:
        raise bad_file(path, "its cost history or n_iter is invalid")


def _param_order(key: str) -> tuple[int, str]:
    """W1, b1, W2, b2, ... (the order of initialize_parameters)."""
    m = re.fullmatch(r"([Wb])(\d+)", key)
    return (int(m.group(2)), m.group(1)) if m else (0, key)
