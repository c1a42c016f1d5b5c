"""The training loop: epochs, mini-batches, recording, divergence and interrupts.

:class:`~xpnet.NeuralNetwork` holds hyperparameters and results and delegates
here. The loop is asynchronous: a step never turns a device value into a Python
number. The cost J stays on the device and is read once per *recording* epoch
(``epoch % record_every == 0``), which is also where divergence is detected.
On NumPy this saves the bookkeeping of every epoch; on a GPU it keeps the queue
full; under a compiler the step is one call with no host round trip.

A training step is a pure function of arrays (see :func:`make_step`)::

    step(params, opt_state, X, Y, lr, rng) -> (params, opt_state, J, rng)

with J the cost *before* the update (``None`` from a step built without cost),
``lr`` the learning rate (a 0-d array), and ``rng`` the backend's dropout
generator (:mod:`xpnet._random`; None without dropout).

What ``costs_`` records
-----------------------
Full batch (``batch_size=None``): at epoch e (one gradient step), the cost J of
the parameters before that step, as in the first course.

Mini-batches: the course's epoch cost, (1/m) Σ_t m_t J_t, where batch t has m_t
examples and J_t is its cost computed before its own update (its mean
cross-entropy, plus λ/(2 m_t) Σ‖W[l]‖² when λ > 0). Without L2 this is the sum of
the per-example losses of the epoch, each taken before its batch's update,
divided by m.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

from ._backend import examples_as_rows, get_namespace, is_lazy, take_rows
from ._dask import materialize_to_host, sum_over_blocks, to_single_chunks
from ._native import native_activations
from ._random import block_generator, draw_seed, dropout_masks, epoch_permutation
from .activations import Activation
from .losses import l2_gradient, l2_penalty
from .optimizers import optimizer_update
from .propagation import IMPLS, total_cost
from .schedules import rate_at

__all__ = ["DivergenceError", "TrainingConfig", "TrainingState", "make_step", "train"]

Array = Any
Step = Callable[..., tuple[Any, Any, Any, Any]]


class DivergenceError(FloatingPointError):
    """The cost became NaN or infinite during ``fit`` (learning rate too large?)."""


@dataclass(frozen=True)
class TrainingConfig:
    """Everything static about a run: closed over by the step, never an array."""

    activations: tuple[Activation, ...]
    l2: float = 0.0
    impl: str = "vectorized"
    optimizer: str = "gd"
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    keep_probs: tuple[float, ...] = ()  # one per layer, the output's 1.0
    batch_size: int | None = None
    shuffle: Any = True
    learning_rate: float = 0.0075
    learning_rate_decay: Any = None
    decay_rate: float = 1.0
    time_interval: int = 1000
    record_every: int = 100

    def alpha(self, epoch: int) -> float:
        """The learning rate of ``epoch`` under this run's decay schedule."""
        return rate_at(  # the settings were checked by NeuralNetwork / compile helpers
            epoch,
            self.learning_rate,
            self.learning_rate_decay,
            decay_rate=self.decay_rate,
            time_interval=self.time_interval,
        )

    @property
    def dropout(self) -> bool:
        return any(k < 1.0 for k in self.keep_probs)


@dataclass
class TrainingState:
    """What a run has reached; the model copies it back even after an interrupt.

    ``current`` is the pair (params, opt_state) after the last completed step,
    replaced as one object so the two always belong together.
    """

    current: tuple[dict[str, Array], dict[str, Array]]
    rng: Any = None
    shuffle_rng: np.random.Generator | np.random.RandomState | None = None
    epoch: int = 0  # completed epochs
    costs: list[tuple[int, float]] = field(default_factory=list)
    compiler: str | None = None  # what the last epoch ran with: "jax.jit", ...; None: eager


def make_gradients(
    config: TrainingConfig, *, xp: ModuleType, with_cost: bool = True, like: Any = None
) -> Callable[..., tuple[dict[str, Array], Any, Any]]:
    """Steps 1-3 of :func:`make_step`: ``gradients(params, X, Y, rng) -> (grads, J, rng)``."""
    forward, backward = IMPLS[config.impl]
    acts = native_activations(config.activations, xp, impl=config.impl)  # torch: its own kernels
    l2, keep = config.l2, config.keep_probs
    output = acts[-1].name
    dropout = config.dropout

    def gradients(params, X, Y, rng):
        masks = None
        if dropout:
            W1 = params["W1"]
            m = X.shape[1]
            shapes = [
                (params[f"W{l}"].shape[0], m) if k < 1.0 else None
                for l, k in enumerate(keep, start=1)
            ]
            masks, rng = dropout_masks(
                rng,
                shapes,
                keep,
                xp=xp,
                device=array_api_compat.device(W1),
                dtype=W1.dtype,
                like=like if like is not None else X,
            )
        AL, caches = forward(X, params, acts, xp=xp, masks=masks)
        J = total_cost(caches[-1].Z, Y, params, l2, output=output, xp=xp) if with_cost else None
        return backward(AL, Y, caches, l2, xp=xp), J, rng

    return gradients


def make_step(
    config: TrainingConfig, *, xp: ModuleType, with_cost: bool = True, like: Any = None
) -> Step:
    """The pure training step for ``config`` on namespace ``xp``.

    ``step(params, opt_state, X, Y, lr, rng) -> (params, opt_state, J, rng)``:

    1. masks D[l] / keep_prob[l] from ``rng`` (inverted dropout; hidden layers only);
    2. A[L], caches = forward(X);  J = cost (skipped, J = None, unless ``with_cost``);
    3. grads = backward(A[L], Y, caches);
    4. params, opt_state = the optimizer's update with learning rate ``lr``.

    The kernels are looked up in :data:`xpnet.propagation.IMPLS` now, so the step
    uses the implementation ``config.impl`` names at the time it is built. With
    ``impl="vectorized"`` on torch the activations run on torch's own one-pass
    kernels (``torch.relu``, ``threshold_backward``, ...; the same formulas, see
    :mod:`xpnet._native`).
    """
    gradients = make_gradients(config, xp=xp, with_cost=with_cost, like=like)
    update = _optimizer(config, xp)

    def step(params, opt_state, X, Y, lr, rng):
        grads, J, rng = gradients(params, X, Y, rng)
        params, opt_state = update(params, grads, opt_state, lr)
        return params, opt_state, J, rng

    return step


def _optimizer(config: TrainingConfig, xp: ModuleType) -> Callable[..., Any]:
    return optimizer_update(
        config.optimizer,
        beta=config.beta,
        beta1=config.beta1,
        beta2=config.beta2,
        epsilon=config.epsilon,
        xp=xp,
    )


def _epoch_order(
    X: Array, Y: Array, rows: Array | None, perm: np.ndarray | None, xp: ModuleType
) -> Callable[[int, int], tuple[Array, Array]]:
    """``batch(k, stop)``: the examples perm[k:stop] of this epoch as (X_t, Y_t).

    Without ``perm`` (no shuffle) a batch is a slice. With ``rows`` (X laid out
    example by example, :func:`examples_as_rows`) each batch gathers its own rows,
    so no shuffled copy of X is made. Otherwise X is gathered once for the epoch
    along axis 1 and the batches are slices of that copy. Y, (C, m) and small, is
    always gathered once for the epoch: one gather per epoch instead of one per step.
    """
    if perm is None:
        return lambda k, stop: (X[:, k:stop], Y[:, k:stop])
    order = xp.asarray(perm, device=array_api_compat.device(X))
    Ys = xp.take(Y, order, axis=1)
    if rows is not None:
        return lambda k, stop: (take_rows(rows, order[k:stop]).T, Ys[:, k:stop])
    Xs = xp.take(X, order, axis=1)
    return lambda k, stop: (Xs[:, k:stop], Ys[:, k:stop])


def _batches(
    state: TrainingState,
    batch: Callable[[int, int], tuple[Array, Array]],
    m: int,
    b: int,
    lr: Array,
    step: Step,
    record: bool,
) -> Array | None:
    """The steps over the epoch's batches ``batch(0, b)``, ``batch(b, 2b)``, ...; with
    ``record``, Σ_t m_t J_t over them (still on the device), else None."""
    params, opt_state = state.current
    rng = state.rng
    total = None
    for k in range(0, m, b):
        stop = min(k + b, m)  # the standard leaves out-of-bounds slice ends unspecified
        params, opt_state, J, rng = step(params, opt_state, *batch(k, stop), lr, rng)
        state.rng = rng
        state.current = (params, opt_state)
        if record:
            total = J * (stop - k) if total is None else total + J * (stop - k)
    return total


def _stream_epoch(
    state: TrainingState,
    X: Array,
    Y: Array,
    config: TrainingConfig,
    epoch: int,
    alpha: float,
    record: bool,
) -> Any:
    """One mini-batch epoch over a Dask X that reads each block of X (and Y) once.

    The blocks along m are visited in a shuffled order (kept when there is one
    block); each is computed to host memory, its examples are shuffled, and its
    batches run on NumPy; batches never span two blocks, so the last batch of each
    block may be smaller. The parameters (small) travel to the host at the start of
    the epoch and back to single-chunk Dask arrays at its end, also after an
    interrupt. Returns the epoch cost (a host number), or None without ``record``.
    """
    import dask

    xp_host = get_namespace("numpy")
    bounds = np.cumsum((0, *X.chunks[1]))
    blocks = list(zip(bounds[:-1], bounds[1:], strict=True))
    order = range(len(blocks))
    if config.shuffle is True and len(blocks) > 1:
        order = state.shuffle_rng.permutation(len(blocks))
    params, opt_state = materialize_to_host(state.current)
    dtype = params["W1"].dtype
    state.current = (params, opt_state)
    step = make_step(config, xp=xp_host, with_cost=record)
    lr = xp_host.asarray(alpha, dtype=dtype)
    total = 0.0
    try:
        for k in order:
            start, stop = blocks[k]
            Xk, Yk = dask.compute(X[:, start:stop], Y[:, start:stop])
            perm = epoch_permutation(stop - start, epoch, config.shuffle, state.shuffle_rng)
            rows = examples_as_rows(Xk, copy=False)
            batch = _epoch_order(Xk, Yk, rows, perm, xp_host)
            part = _batches(state, batch, stop - start, config.batch_size, lr, step, record)
            if record:
                total += float(part)
    finally:
        state.current = to_single_chunks(state.current)
    return total / X.shape[1] if record else None


def check_run(X: Array, config: TrainingConfig, xp: ModuleType) -> None:
    """What a run of ``config`` over this X needs of X's layout, checked before the model
    changes (a fit refused at its first epoch had already replaced the fitted model):
    ``shuffle='course'`` permutes all m examples at once, which a Dask X streaming
    several blocks along m per mini-batch epoch cannot do. Blocks narrower than
    ``batch_size`` (the last one aside) are warned of: batches never span two blocks, so
    theirs would silently be smaller than asked."""
    if config.batch_size is None or not is_lazy(xp):
        return
    blocks = len(X.chunks[1])
    if config.shuffle == "course" and blocks > 1:
        raise ValueError(
            f"shuffle='course' permutes all m examples at once, but this Dask X streams "
            f"{blocks} blocks along m, and a mini-batch epoch reads each block once; "
            "pass X with one chunk along m (X.rechunk({1: -1})), or use shuffle=True"
        )
    narrow = min(X.chunks[1][:-1], default=config.batch_size)
    if narrow < config.batch_size:
        b = config.batch_size
        warnings.warn(
            f"X's blocks along m hold as few as {narrow} examples, fewer than batch_size={b}; "
            f"a mini-batch never spans two blocks, so those blocks' batches hold {narrow} "
            f"examples, not {b}. Rechunk X along m to a multiple of the batch size, e.g. "
            f"X.rechunk({{1: {b * max(1, -(-max(X.chunks[1]) // b))}}}) (and Y alike)",
            UserWarning,
            stacklevel=4,
        )


def _all_finite(arrays: Mapping[str, Array], xp: ModuleType) -> bool:
    """One device read: whether every array is free of NaN and inf."""
    flags = [xp.all(xp.isfinite(a)) for a in arrays.values()]
    ok = flags[0]
    for f in flags[1:]:
        ok = ok & f
    return bool(ok)


def _check_final_parameters(
    state: TrainingState, good: Any, num_epochs: int, config: TrainingConfig, xp: ModuleType
) -> None:
    """The last update's parameters have no cost yet: check them once, in one read."""
    if num_epochs and not _all_finite(state.current[0], xp):
        final = state.epoch - 1
        _restore(state, good)
        unit = _unit(config)
        raise DivergenceError(
            f"the parameters became NaN or infinite by the last update ({unit} {final}, "
            f"learning_rate={config.learning_rate}); params_ keeps the parameters after "
            f"{state.epoch} {unit}s, the last with a finite cost. Lower learning_rate "
            "(e.g. by 10x) or standardise X"
        )


def _unit(config: TrainingConfig) -> str:
    """What ``n_iter_`` counts: iterations (full-batch steps) or epochs of mini-batches."""
    return "iteration" if config.batch_size is None else "epoch"


def _restore(state: TrainingState, good: Any) -> None:
    """Back to ``good``, the (parameters, optimizer state) at the start of an epoch and
    that epoch's number: the costs recorded from that epoch on go too, as they belong
    to the run being undone (a continued fit records that epoch again)."""
    state.current, state.epoch = good
    state.costs[:] = [(e, c) for e, c in state.costs if e < state.epoch]


def _divergence(
    cost: float, epoch: int, last_good: int | None, config: TrainingConfig, kept: int
) -> DivergenceError:
    """``kept``: the epoch count the parameters were restored to (a continued run that
    recorded no finite cost goes back to where it started, not to 0)."""
    unit = _unit(config)
    seen = (
        f"; the last finite cost was recorded at {unit} {last_good}"
        if last_good is not None
        else ""
    )
    return DivergenceError(
        f"the cost became {cost} at {unit} {epoch} (costs are read at the recording "
        f"{unit}s){seen}; params_ keeps the parameters after {kept} {unit}s, the last "
        f"with a finite cost (learning_rate={config.learning_rate}). Lower learning_rate "
        "(e.g. by 10x) or standardise X"
    )


class _Recorder:
    """Reads and records the cost of a recording epoch, and keeps the parameters (with
    their optimizer state) whose cost was last seen finite, to restore on divergence."""

    def __init__(self, state: TrainingState, config: TrainingConfig, progress: Any) -> None:
        self.state, self.config, self.progress = state, config, progress
        self.good = (state.current, state.epoch)
        self.last_good: int | None = None

    def record(self, epoch: int, cost_array: Any, start: Any) -> None:
        """``cost_array`` is the cost of ``epoch``, whose parameters were ``start``."""
        cost = float(cost_array)
        if not math.isfinite(cost):
            _restore(self.state, self.good)
            raise _divergence(cost, epoch, self.last_good, self.config, self.state.epoch)
        self.good, self.last_good = (start, epoch), epoch
        self.state.costs.append((epoch, cost))
        if self.progress is not None:
            self.progress.update(0, f"cost={cost:.6f}")


def train(
    state: TrainingState,
    X: Array,
    Y: Array,
    config: TrainingConfig,
    num_epochs: int,
    *,
    xp: ModuleType,
    step: Step | None = None,
    step_without_cost: Step | None = None,
    run: Step | None = None,
    tier_up: Any = None,
    progress: Any = None,
    checked: bool = False,
) -> TrainingState:
    """Run ``num_epochs`` epochs from ``state`` (updated in place as the run goes).

    X's layout is checked for the run (``check_run``) unless ``checked`` says the
    caller did so already (``NeuralNetwork`` does, before its fitted state changes).

    ``run`` (full batch only, from :func:`xpnet.compile_steps`) replaces the
    epoch-by-epoch loop by runs of epochs, each ending just before a recording
    epoch, so the epochs between two cost reads are one compiled call (JAX: one
    ``lax.scan``); costs, divergence and the restored parameters are the same.
    An interrupt then leaves the parameters of the last completed run.

    ``tier_up`` (``compile="auto"`` on torch CPU, a ``TierUp`` of ``xpnet._compile``)
    times the eager epochs and, once the rest of the run is projected to be long,
    switches to its compiled step for the remaining epochs (same math, so the same
    costs to rounding). ``state.compiler`` says what the last epoch ran with.

    Raises
    ------
    DivergenceError
        When a recorded cost is NaN or infinite, or the parameters after the last
        update are. ``state.current`` is then reset to the parameters (and optimizer
        state) at the start of the last recorded epoch whose cost was finite, and
        ``state.epoch`` to that epoch.
    KeyboardInterrupt
        Propagates; ``state`` holds the last completed step (mid-epoch too) and
        ``state.epoch`` the last completed epoch, unless that step's parameters are
        NaN or infinite (a diverging run, stopped before its cost was read): then, as
        for a ``DivergenceError``, those of the last recorded epoch whose cost was
        finite, and the exception gets a note saying so.
    """
    if not checked:
        check_run(X, config, xp)
    recorder = _Recorder(state, config, progress)
    if config.batch_size is None and is_lazy(xp):  # handles its own interrupts (host state)
        return _train_blockwise(state, X, Y, config, num_epochs, recorder)
    try:
        if run is not None and config.batch_size is None:
            return _train_in_runs(state, X, Y, config, num_epochs, recorder, xp=xp, run=run)
        return _train_epochs(
            state, X, Y, config, num_epochs, recorder, xp, step, step_without_cost, tier_up
        )
    except KeyboardInterrupt as exc:
        _keep_finite(state, recorder, exc)
        raise


def _keep_finite(state: TrainingState, recorder: _Recorder, exc: BaseException) -> None:
    """After an interrupt: parameters that became NaN/inf go back to the last recorded
    finite epoch (one read; the run was stopping anyway)."""
    params = state.current[0]
    if _all_finite(params, array_api_compat.array_namespace(*params.values())):
        return
    _restore(state, recorder.good)
    if hasattr(exc, "add_note"):  # Python >= 3.11
        exc.add_note(
            "xpnet: the interrupted run's parameters had become NaN or infinite (lower "
            f"learning_rate?); params_ holds those of {_unit(recorder.config)} "
            f"{state.epoch}, the last whose cost was finite"
        )


def _train_epochs(
    state: TrainingState,
    X: Array,
    Y: Array,
    config: TrainingConfig,
    num_epochs: int,
    recorder: _Recorder,
    xp: ModuleType,
    step: Step | None,
    step_without_cost: Step | None,
    tier_up: Any,
) -> TrainingState:
    """:func:`train`'s epoch-by-epoch loop (full batch, mini-batches, Dask streaming)."""
    progress = recorder.progress
    step = step or make_step(config, xp=xp)
    step_without_cost = step_without_cost or make_step(config, xp=xp, with_cost=False)
    state.compiler = getattr(step, "compiler", None)
    clock = None if tier_up is None else tier_up.watch()
    W1 = state.current[0]["W1"]
    device, dtype = array_api_compat.device(W1), W1.dtype
    lr_cache: dict[float, Array] = {}
    lazy = is_lazy(xp)
    m = X.shape[1]
    b = config.batch_size
    # Mini-batches gather examples; from an example-per-row layout that copies whole rows.
    # A row-major X is transposed once per call, also for one epoch (partial_fit): its
    # batches then have the same layout as in a longer fit, and the BLAS rounds them the
    # same (gathered along axis 1 instead, fit(5) and fit(3) + 2 partial_fit differed in
    # the last bit: torch with MKL on AMD, NumPy with OpenBLAS).
    rows = None if b is None or lazy else examples_as_rows(X, copy=True)
    end = state.epoch + num_epochs
    for e in range(state.epoch, end):
        alpha = config.alpha(e)
        lr = lr_cache.get(alpha)
        if lr is None:
            lr = lr_cache[alpha] = xp.asarray(alpha, dtype=dtype, device=device)
        record = e % config.record_every == 0
        start = state.current
        params, opt_state = start
        rng = state.rng
        if b is None:
            params, opt_state, J, rng = (step if record else step_without_cost)(
                params, opt_state, X, Y, lr, rng
            )
            state.rng = rng
            state.current = (params, opt_state)
            epoch_cost = J
        elif lazy:
            epoch_cost = _stream_epoch(state, X, Y, config, e, alpha, record)
        else:
            perm = epoch_permutation(m, e, config.shuffle, state.shuffle_rng)
            batch = _epoch_order(X, Y, rows, perm, xp)
            run = step if record else step_without_cost
            epoch_cost = _batches(state, batch, m, b, lr, run, record)
            if record:
                epoch_cost = epoch_cost / m
        if record:
            recorder.record(e, epoch_cost, start)  # the one device read of this epoch
        state.epoch = e + 1
        if progress is not None:
            progress.update(1)
        if clock is not None:
            switch = clock.after_epoch(epochs_left=end - state.epoch)
            if switch is not None:
                clock = None
                if switch:
                    step = step_without_cost = tier_up.step
                    if progress is not None:  # the next step compiles: seconds of silence
                        progress.update(0, f"compiling the step ({tier_up.step.compiler})")
        state.compiler = getattr(step, "compiler", None)
    _check_final_parameters(state, recorder.good, num_epochs, config, xp)
    return state


def _train_in_runs(
    state: TrainingState,
    X: Array,
    Y: Array,
    config: TrainingConfig,
    num_epochs: int,
    recorder: _Recorder,
    *,
    xp: ModuleType,
    run: Step,
) -> TrainingState:
    """:func:`train` for full batch with a compiled run of steps: epochs [e, e + n)
    are one call ``run(params, opt_state, X, Y, lrs, rng) -> (..., costs, rng)``,
    with n reaching the next recording epoch; ``costs[0]`` is read when e records."""
    W1 = state.current[0]["W1"]
    device, dtype = array_api_compat.device(W1), W1.dtype
    every = config.record_every
    progress = recorder.progress
    state.compiler = getattr(run, "compiler", None)
    e, end = state.epoch, state.epoch + num_epochs
    while e < end:
        n = min(end, (e // every + 1) * every) - e
        alphas = [config.alpha(k) for k in range(e, e + n)]
        lrs = xp.asarray(alphas, dtype=dtype, device=device)
        start = state.current
        params, opt_state, costs, state.rng = run(*start, X, Y, lrs, state.rng)
        state.current = (params, opt_state)
        if e % every == 0:
            recorder.record(e, costs[0], start)  # the one device read of this run
        e += n
        state.epoch = e
        if progress is not None:
            progress.update(n)
    _check_final_parameters(state, recorder.good, num_epochs, config, xp)
    return state


def _block_sums(
    Xk: np.ndarray, Yk: np.ndarray, k: int, gradients: Any, params: Any, seed: int | None
) -> dict[str, np.ndarray]:
    """Σ over block k's m_k examples of the loss (key "J", when computed) and of each
    gradient: m_k times the block's mean-form values. Dropout masks come from a
    generator seeded by (the step's seed, k)."""
    grads, J, _ = gradients(params, Xk, Yk, block_generator(seed, k))
    m_k = Xk.shape[1]
    sums = {key: g * m_k for key, g in grads.items()}
    if J is not None:
        sums["J"] = J * m_k
    return sums


def _train_blockwise(
    state: TrainingState,
    X: Array,
    Y: Array,
    config: TrainingConfig,
    num_epochs: int,
    recorder: _Recorder,
) -> TrainingState:
    """:func:`train` for full batch on Dask: each step is one small graph.

    Every block of examples runs the NumPy kernels on its worker and returns its
    sums of the loss and of the gradients (:func:`xpnet._dask.sum_over_blocks`);
    the sums come back to the host, where the L2 terms are added, the means taken
    (over all m) and the optimizer updates the parameters, which stay host NumPy
    arrays during the run and become single-chunk Dask arrays again at its end
    (after an interrupt or a divergence too). The gradients and costs are those of
    the whole-X formulas up to the order of the sums; dropout masks are drawn per
    block (seeded from the model's generator, the step and the block).
    """
    xp_host = get_namespace("numpy")
    m = X.shape[1]
    l2 = config.l2
    # The blocks sum the data terms; the L2 terms belong to the whole m: added once here.
    per_block = {
        record: make_gradients(replace(config, l2=0.0), xp=xp_host, with_cost=record)
        for record in (True, False)
    }
    update = _optimizer(config, xp_host)
    state.current = materialize_to_host(state.current)
    dtype = state.current[0]["W1"].dtype
    recorder.good = (state.current, state.epoch)  # on the host, as the run keeps it
    progress = recorder.progress
    try:
        for e in range(state.epoch, state.epoch + num_epochs):
            record = e % config.record_every == 0
            start = state.current
            params, opt_state = start
            seed = draw_seed(state.rng) if config.dropout else None
            sums = sum_over_blocks(_block_sums, X, Y, per_block[record], params, seed)
            J = sums.pop("J", None)
            grads = {key: g / m for key, g in sums.items()}
            if l2:  # dW[l] += (λ/m) W[l]
                grads |= {f"d{k}": grads[f"d{k}"] + l2_gradient(W, m, l2)
                          for k, W in params.items() if k.startswith("W")}  # fmt: skip
            lr = xp_host.asarray(config.alpha(e), dtype=dtype)
            state.current = update(params, grads, opt_state, lr)
            if record:
                J = J / m + (l2_penalty(params, m, l2, xp=xp_host) if l2 else 0.0)
                recorder.record(e, J, start)
            state.epoch = e + 1
            if progress is not None:
                progress.update(1)
        _check_final_parameters(state, recorder.good, num_epochs, config, xp_host)
    except KeyboardInterrupt as exc:
        _keep_finite(state, recorder, exc)
        raise
    finally:
        state.current = to_single_chunks(state.current)
    return state
