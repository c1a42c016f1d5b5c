"""Shared helpers of the xpnet benchmarks: the options, grids, backends, data, the timed step.

Every benchmark file imports from here, so a grid, a backend or the definition of
"one gradient step" exists in one place only.

The suite's command-line options (``benchmarks/conftest.py``: ``--xpnet-quick``,
``--xpnet-backends``, ``--xpnet-m``, ...) reach the benchmarks as one :class:`Options`,
read from pytest's config: each bench file's ``pytest_generate_tests`` builds its grid from
``options(metafunc.config)``, and a test reads the rest through the ``opts`` fixture.
Backends are named by the ids of ``xpnet._testing.Backend`` (the tests' ids too).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import xpnet
from xpnet._backend import BackendUnavailableError, synchronize, to_backend
from xpnet._native import native_activations
from xpnet._testing import Backend as BackendId
from xpnet.activations import get_activation
from xpnet.datasets import make_synthetic
from xpnet.initializers import initialize_parameters
from xpnet.propagation import IMPLS, total_cost, update_parameters

IMPL_NAMES = ("loops", "per_example", "vectorized")
LEARNING_RATE = 0.01
N_H = 16  # hidden units of the one-hidden-layer network

# ----------------------------------------------------------------------------- options


def _text(name: bytes | str) -> str:
    """A CUDA device name: bytes from CuPy's runtime (13), perhaps str in later CuPy."""
    return name.decode() if isinstance(name, bytes) else str(name)


@dataclass(frozen=True)
class Options:
    """The options of one run of the suite (``benchmarks/conftest.py`` declares them).

    ``None`` means the grid's own default: the quick or the full one.
    """

    quick: bool = False  # --xpnet-quick: the small grid that finishes in a few minutes
    backends: tuple[str, ...] = ("numpy",)  # --xpnet-backends: the backend grid
    m: tuple[int, ...] | None = None  # --xpnet-m: m of the vectorization grid
    n_x: tuple[int, ...] | None = None  # --xpnet-n-x: n_x of the vectorization grid
    impl: tuple[str, ...] = IMPL_NAMES  # --xpnet-impl: impls of the vectorization grid
    budget_s: float | None = None  # --xpnet-budget: seconds a CPU loop cell may take
    paired_s: float | None = None  # --xpnet-paired-s: seconds of one paired timing
    dask_m: tuple[int, ...] = (100_000, 1_000_000, 3_000_000, 10_000_000)  # --xpnet-dask-m
    dask_numpy_max: int = 3_000_000  # --xpnet-dask-numpy-max: largest m NumPy fits too
    data_dir: str | None = None  # --xpnet-data-dir: parent of the Dask data's temp dir

    @classmethod
    def from_config(cls, config: pytest.Config) -> Options:
        """The options as pytest parsed them; an option left out keeps the default."""
        given = {name: config.getoption(f"xpnet_{name}") for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in given.items() if v is not None})

    @property
    def paired_total_s(self) -> float:
        """Seconds of one interleaved (paired) timing: 2 (quick) or 12 (full) by default."""
        if self.paired_s is not None:
            return self.paired_s
        return 2.0 if self.quick else 12.0

    @property
    def slow_cell_s(self) -> float:
        """Seconds of the few rounds a slow cell (``benchmark.pedantic``) is timed for."""
        return 2.0 if self.quick else 10.0

    def loop_budget(self, backend: str) -> float:
        """Seconds a loop cell may take (estimated); a GPU's is far smaller (a kernel per op)."""
        cpu = self.budget_s if self.budget_s is not None else 1.5 if self.quick else 10.0
        return cpu / 20 if is_gpu(backend) else cpu


_OPTIONS = pytest.StashKey[Options]()


def options(config: pytest.Config) -> Options:
    """The run's :class:`Options`, built once from ``config`` and kept in its stash."""
    if _OPTIONS not in config.stash:
        config.stash[_OPTIONS] = Options.from_config(config)
    return config.stash[_OPTIONS]


# ----------------------------------------------------------------------------- grids


def vectorization_grid(opts: Options) -> dict[str, Sequence[Any]]:
    """backend, impl, m, n_x of the vectorization benchmark (issue: m 1..1e5, n_x 1..1e3)."""
    if opts.quick:
        m, n_x = [10, 100, 1000], [10, 100]
    else:
        m, n_x = [1, 10, 100, 1000, 10000, 100000], [1, 10, 100, 1000]
    return {"backend": opts.backends, "impl": opts.impl, "m": opts.m or m, "n_x": opts.n_x or n_x}


def roofline_grid(opts: Options) -> list[tuple[int, int, str]]:
    """(n, m, dtype) cells of the deep [n, n, n, 1] network."""
    if opts.quick:
        return [(256, 512, "float32"), (256, 512, "float64")]
    cells = [(256, 512), (512, 1024), (1024, 2048), (2048, 4096)]
    return [(n, m, dt) for n, m in cells for dt in ("float32", "float64")]


def abstraction_grid(opts: Options) -> list[tuple[tuple[int, ...], int, str]]:
    """(layer_dims, m, dtype): tiny (the course's [20, 8, 1]) to the roofline size."""
    cells: list[tuple[tuple[int, ...], int, str]] = [((20, 8, 1), 128, "float64")]
    if opts.quick:
        return cells + [((256, 256, 256, 1), 512, "float32")]
    return cells + [
        ((20, 8, 1), 128, "float32"),
        ((100, 32, 1), 1000, "float64"),
        ((256, 256, 256, 1), 512, "float32"),
        ((1024, 1024, 1024, 1), 2048, "float32"),
        ((2048, 2048, 2048, 1), 4096, "float32"),
    ]


def peer_grid(opts: Options) -> list[tuple[tuple[int, ...], int, str]]:
    """(layer_dims, m, dtype) of the peer comparison (same cells as the abstraction cost)."""
    return abstraction_grid(opts)


# ----------------------------------------------------------------------------- ids


def dims_id(dims: Sequence[int]) -> str:
    return "x".join(str(d) for d in dims)


IDS = {"m": lambda v: f"m{v}", "n_x": lambda v: f"nx{v}", "n": lambda v: f"n{v}"}

#: The mark of the placeholder cell of a grid that is empty in this run (for example the
#: compiled roofline without a compiling backend); benchmarks/conftest.py deselects it.
NOT_IN_GRID = pytest.mark.xpnet_not_in_grid


def parametrize(
    metafunc: pytest.Metafunc,
    grid: Mapping[str, Sequence[Any]],
    ids: Mapping[str, Callable[[Any], str]] | None = None,
) -> None:
    """Parametrize ``metafunc`` over ``grid`` in its order, so ids read
    ``backend-impl-m1000-nx100``; a key may name several arguments ("backend,impl").
    ``ids`` adds id functions to :data:`IDS`. An empty grid gives one placeholder
    cell marked :data:`NOT_IN_GRID` (left out of the run) instead of a skipped test."""
    idfns = {**IDS, **(ids or {})}
    if not all(grid.values()):
        names = ",".join(grid)
        placeholder = pytest.param(
            *[None] * (names.count(",") + 1), marks=NOT_IN_GRID, id="not-in-grid"
        )
        metafunc.parametrize(names, [placeholder])
        return
    for name, values in grid.items():
        metafunc.parametrize(name, list(values), ids=idfns.get(name, str))


# ----------------------------------------------------------------------------- backends


def is_gpu(backend: str) -> bool:
    return BackendId(backend).gpu


@dataclass(frozen=True)
class Backend:
    """A resolved backend: its namespace, device and a printable device name."""

    name: str
    xp: Any
    device: Any
    device_name: str


@functools.cache
def get_backend(name: str) -> Backend:
    """Resolve a benchmark backend id (a value of ``xpnet._testing.Backend``), or
    ``pytest.skip`` with the reason it is unusable."""
    bid = BackendId(name)
    lib = bid.library
    try:
        xp = xpnet.get_namespace(lib)
    except BackendUnavailableError as exc:
        pytest.skip(f"backend {name!r} unavailable: {exc}")
    if bid is BackendId.DASK:
        pytest.skip("backend 'dask' is benchmarked in bench_dask.py (lazy graph, fit loop)")
    device = None
    device_name = "cpu"  # the report names the CPU from pytest-benchmark's machine_info
    if lib == "torch":
        import torch

        if bid is BackendId.TORCH_CUDA:
            if not torch.cuda.is_available():
                pytest.skip("backend 'torch-cuda' unavailable: no CUDA device in this run")
            device = torch.device("cuda:0")
            device_name = torch.cuda.get_device_name(0)
        else:
            device = torch.device("cpu")
    elif lib == "cupy":
        import cupy

        device = cupy.cuda.Device(0)
        device_name = _text(cupy.cuda.runtime.getDeviceProperties(0)["name"])
    elif bid.device_spec is not None:  # array_api_strict-device1
        device = xpnet._backend.resolve_device(xp, bid.device_spec)
    if lib == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    return Backend(name, xp, device, device_name)


# ----------------------------------------------------------------------------- data and step


@functools.lru_cache(maxsize=2)
def host_data(m: int, n_x: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic (X, Y) in float64 on the host, cached across the impls of one cell."""
    return make_synthetic(m, n_x, seed=0)


def activations_for(dims: Sequence[int], hidden: str) -> list[Any]:
    return [get_activation(hidden)] * (len(dims) - 2) + [get_activation("sigmoid")]


@dataclass
class Problem:
    """Data, parameters and activations of one benchmark cell, on one backend."""

    backend: Backend
    dims: tuple[int, ...]
    m: int
    dtype: str
    X: Any
    Y: Any
    params: dict[str, Any]
    acts: list[Any]

    @property
    def xp(self) -> Any:
        return self.backend.xp


def make_problem(
    backend: str, dims: Sequence[int], m: int, dtype: str = "float64", hidden: str = "relu"
) -> Problem:
    """Synthetic data and He-initialised parameters of ``dims`` on ``backend``."""
    be = get_backend(backend)
    X, Y = host_data(m, dims[0])
    dt = xpnet._backend.resolve_dtype(be.xp, dtype)
    Xb = to_backend(X, be.xp, device=be.device, dtype=dt)
    Yb = to_backend(Y, be.xp, device=be.device, dtype=dt)
    params = initialize_parameters(list(dims), "he", seed=1, xp=be.xp, device=be.device, dtype=dt)
    return Problem(be, tuple(dims), m, dtype, Xb, Yb, params, activations_for(dims, hidden))


def _no_sync(arrays: Any) -> None:
    return None


def sync_for(backend: str) -> Callable[[Any], None]:
    """``xpnet.synchronize`` where results arrive asynchronously (CuPy, torch-CUDA, JAX);
    a no-op for the synchronous CPU libraries, so the timed step carries no dispatch cost
    that ``fit`` does not have."""
    bid = BackendId(backend)
    return synchronize if bid.gpu or bid is BackendId.JAX else _no_sync


def make_step(p: Problem, impl: str = "vectorized") -> Callable[[], Any]:
    """One gradient step as ``fit`` runs it: forward, cost, backward, update, with ``xp``
    resolved once (the unchecked kernels). It synchronizes the device before returning."""
    fwd, bwd = IMPLS[impl]
    X, Y, params, acts, xp = p.X, p.Y, p.params, p.acts, p.xp
    acts = native_activations(acts, xp, impl=impl)  # as fit's step (torch's own kernels)
    sync = sync_for(p.backend.name)
    output = acts[-1].name

    def step() -> Any:
        AL, caches = fwd(X, params, acts, xp=xp)
        J = total_cost(caches[-1].Z, Y, params, 0.0, output=output, xp=xp)
        grads = bwd(AL, Y, caches, 0.0, xp=xp)
        new = update_parameters(params, grads, LEARNING_RATE)
        sync([J, *new.values()])
        return new, J

    return step


def make_training_step(p: Problem, mode: Any = False) -> tuple[Callable[[], Any], float]:
    """``fit``'s own step (``xpnet.training.make_step``, full-batch gradient descent)
    compiled by ``xpnet.compile_step(mode=...)`` with donated buffers, chained: each call
    continues from the parameters of the previous one, as in ``fit``. Returns the
    synchronizing step and the time of its first call (the compile time when compiled)."""
    from xpnet._compile import compile_step, traceable_namespace
    from xpnet.optimizers import initialize_optimizer_state
    from xpnet.training import TrainingConfig
    from xpnet.training import make_step as training_step

    xp, device = p.xp, p.backend.device
    config = TrainingConfig(activations=tuple(p.acts), learning_rate=LEARNING_RATE)
    built_on = traceable_namespace(xp) if mode else xp  # what NeuralNetwork(compile=) does
    step = compile_step(training_step(config, xp=built_on), xp, mode=mode, device=device)
    params = {k: xp.asarray(v, copy=True) for k, v in p.params.items()}  # donated below
    state = [params, initialize_optimizer_state("gd", params, xp=xp)]
    lr = xp.asarray(LEARNING_RATE, dtype=p.params["W1"].dtype, device=device)
    X, Y, sync = p.X, p.Y, sync_for(p.backend.name)

    def fn() -> Any:
        params, opt_state, J, _ = step(state[0], state[1], X, Y, lr, None)
        state[:] = [params, opt_state]
        sync([J, *params.values()])
        return params, J

    return fn, timed_once(fn)


def make_jax_jit_step(p: Problem) -> tuple[Callable[[], Any], float]:
    """The hand-written jitted ``jax.numpy`` step (``_handwritten.jax_step``), donated
    buffers, chained from a copy of ``p``'s parameters; returns it and its first call's
    time (the compile)."""
    from _handwritten import jax_step

    step = jax_step(p.acts[0].name)
    xp = p.xp
    state = [{k: xp.asarray(v, copy=True) for k, v in p.params.items()}]
    lr = xp.asarray(LEARNING_RATE, dtype=p.params["W1"].dtype)

    def fn() -> Any:
        params, J = step(state[0], p.X, p.Y, lr)
        state[0] = params
        J.block_until_ready()
        return params, J

    return fn, timed_once(fn)


def make_public_step(p: Problem, impl: str = "vectorized") -> Callable[[], Any]:
    """The same step through the validating public API (xpnet.forward/cost/backward/update)."""
    X, Y, params = p.X, p.Y, p.params
    names = [a.name for a in p.acts]
    sync = sync_for(p.backend.name)

    def step() -> Any:
        AL, caches = xpnet.forward(X, params, names, impl=impl)
        J = xpnet.cost(AL, Y, logits=caches[-1].Z)
        grads = xpnet.backward(AL, Y, caches, impl=impl)
        new = xpnet.update(params, grads, LEARNING_RATE)
        sync([J, *new.values()])
        return new, J

    return step


# ----------------------------------------------------------------------------- FLOPs


def step_matmul_shapes(dims: Sequence[int], m: int) -> list[tuple[str, int, int, int]]:
    """(kind, rows, inner, cols) of every matmul the vectorized step performs.

    Per layer l: forward Z = W A_prev ("fwd": n_l, n_prev, m); backward dW = dZ A_prevᵀ
    ("dW": n_l, m, n_prev); and dA_prev = Wᵀ dZ ("dA": n_prev, n_l, m) for layer > 1 only: the
    gradient with respect to X (dA[0]) is never computed, so layer 1 does 2 matmuls.
    """
    shapes = []
    for layer in range(1, len(dims)):
        n_l, n_prev = dims[layer], dims[layer - 1]
        shapes.append(("fwd", n_l, n_prev, m))
        shapes.append(("dW", n_l, m, n_prev))
        if layer > 1:
            shapes.append(("dA", n_prev, n_l, m))
    return shapes


def matmul_flops(shapes: Sequence[tuple[str, int, int, int]]) -> int:
    """2 · rows · inner · cols per matmul."""
    return sum(2 * r * k * c for _, r, k, c in shapes)


def nominal_flops(dims: Sequence[int], m: int) -> int:
    """The issue's convention: 3 matmuls per layer, 2 · n_l · n_prev · m each."""
    return sum(3 * 2 * dims[layer] * dims[layer - 1] * m for layer in range(1, len(dims)))


# ----------------------------------------------------------------------------- timing


def gpu_event_times(fn: Callable[[], Any], backend: str, n_repeat: int = 10) -> dict[str, float]:
    """Device-event times of ``fn``: ``cupyx.profiler.benchmark`` for CuPy, CUDA events for
    torch-CUDA, after warm-up (``run_benchmark`` ran it) and with ``fn`` synchronizing.
    Empty on CPU backends."""
    if backend == "cupy":
        from cupyx.profiler import benchmark as cupy_benchmark

        res = cupy_benchmark(fn, n_repeat=n_repeat, n_warmup=2)
        gpu = np.asarray(res.gpu_times).ravel()
        return {"gpu_time_min_s": float(gpu.min()), "gpu_time_mean_s": float(gpu.mean())}
    if backend == "torch-cuda":
        import torch

        times = []
        for _ in range(n_repeat):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        return {"gpu_time_min_s": min(times), "gpu_time_mean_s": float(np.mean(times))}
    return {}


def paired_min(
    fa: Callable[[], Any],
    fb: Callable[[], Any],
    *,
    names: tuple[str, str] = ("a", "b"),
    total_s: float,
) -> dict[str, float]:
    """Interleaved timing of two steps: rounds of (a block of a, a block of b).

    A ratio of two separately benchmarked cells drifts with whatever else the shared
    machine does between them; alternating the two inside one loop exposes both to the
    same conditions. Each block is a few calls lasting >= ~20 ms, timed call by call,
    and the minimum per call is kept: the first call after a switch can meet the other
    library's thread pool still spinning (OpenBLAS and torch's OpenMP threads busy-wait
    for a while after their work), the later calls of the block do not. Returns the
    minimum per-call time of each as ``{name}_s`` (``names``), their ratio a / b and
    the number of rounds: the record a benchmark stores in ``extra_info``. ``total_s``
    bounds the seconds spent (``Options.paired_total_s`` unless a cell sets its own).
    """
    fa(), fb()  # warm both
    t = max(timed_once(fa), timed_once(fb), 1e-7)
    calls = max(2, int(2e-2 / t))
    rounds = int(min(40, max(3, total_s / (2 * calls * t))))
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for which, f in enumerate((fa, fb)):
            for _ in range(calls):
                t0 = time.perf_counter()
                f()
                best[which] = min(best[which], time.perf_counter() - t0)
    a, b = names
    return {f"{a}_s": best[0], f"{b}_s": best[1], "ratio": best[0] / best[1], "rounds": rounds}


def timed_once(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_benchmark(
    benchmark: Any,
    fn: Callable[[], Any],
    opts: Options,
    *,
    backend: str = "numpy",
    warm: bool = True,
    expected_s: float | None = None,
    slow_after_s: float = 0.25,
) -> Any:
    """Time ``fn`` with pytest-benchmark, warmed up first.

    Two warm-up calls (the first pays for lazy initialisation: thread pools, kernel
    compilation, the memory pool); the second's time decides the mode. Fast calls go
    through the calibrated ``benchmark(fn)``; calls slower than ``slow_after_s`` through
    ``benchmark.pedantic`` with a few rounds (``opts.slow_cell_s`` in all), so a 10 s loop
    cell is not repeated for minutes. ``warm=False`` skips the warm-up (a loop cell whose
    calibration already warmed its code path) and uses ``expected_s`` instead. GPU cells also store
    device-event times in ``extra_info``.
    """
    if warm:
        fn()
        t = timed_once(fn)
    else:
        t = expected_s if expected_s is not None else 0.0
    if t > slow_after_s:
        rounds = max(3 if t < 0.5 else 1, min(5, int(opts.slow_cell_s / t)))
        result = benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=0)
    else:
        result = benchmark(fn)
    # device events over about a second at most: a GPU loop cell can take 0.5 s a call
    n_events = int(max(2, min(10, 1.0 / max(t, 1e-6))))
    benchmark.extra_info.update(gpu_event_times(fn, backend, n_repeat=n_events))
    return result


#: extra_info keys that tell apart the cells compared with each other (or are measured
#: per cell), left out of the pytest-benchmark group.
_COMPARED = {"impl", "peer", "kind", "estimated_s", "budget_s", "compile_s", "steps_per_call"}


def base_info(benchmark: Any, be: Backend, opts: Options, **info: Any) -> None:
    """Common ``extra_info``: backend, device name, thread count, the grid (quick or full)
    and the cell's parameters.

    It also sets pytest-benchmark's ``group``: the bench file and the cell's parameters
    without the backend, impl, peer or kind, so pytest-benchmark's own table puts the
    implementations, backends and peers of one cell together, with its relative columns
    (times / the group's fastest)."""
    benchmark.extra_info.update(
        backend=be.name, device=be.device_name, threads=os.cpu_count(), quick=opts.quick, **info
    )
    cell = " ".join(f"{k}={v}" for k, v in info.items() if k not in _COMPARED)
    benchmark.group = f"{Path(benchmark.fullname.split('::')[0]).stem} {cell}"
