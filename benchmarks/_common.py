"""Shared helpers of the xpnet benchmarks: the grids, backends, data, the timed step.

Every benchmark file imports from here, so a grid, a backend or the definition of
"one gradient step" exists in one place only.

Configuration comes from environment variables, which ``benchmarks/conftest.py``
sets from its command-line options before collection (``--xpnet-quick``,
``--xpnet-backends``, ``--xpnet-m``, ``--xpnet-n-x``, ``--xpnet-impl``,
``--xpnet-budget``):

=========================  ==========================================================
XPNET_BENCH_QUICK          "1": the small grid that finishes in a few minutes
XPNET_BENCH_BACKENDS       comma list of backends for the vectorization grid, by the
                           ids of ``xpnet._testing.Backend`` (the tests' ids too)
XPNET_BENCH_M / _N_X       comma lists overriding the m / n_x grid
XPNET_BENCH_IMPL           comma list of impls (loops, per_example, vectorized)
XPNET_BENCH_BUDGET         seconds a loop cell may take on the CPU (estimated)
XPNET_BENCH_PAIRED_S       seconds of one interleaved (paired) timing; default 2 (quick)
                           or 12 (full); ci/gpu/run.sh sets 2
=========================  ==========================================================
"""

from __future__ import annotations

import functools
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import xpnet
from xpnet._backend import BackendUnavailableError, synchronize, to_backend
from xpnet._testing import Backend as BackendId
from xpnet._testing import parse_backends
from xpnet.activations import get_activation
from xpnet.datasets import make_synthetic
from xpnet.initializers import initialize_parameters
from xpnet.propagation import IMPLS, total_cost, update_parameters

IMPL_NAMES = ("loops", "per_example", "vectorized")
LEARNING_RATE = 0.01
N_H = 16  # hidden units of the one-hidden-layer network


def _env_list(name: str, default: Sequence[Any], cast: Callable[[str], Any] = str) -> list[Any]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return list(default)
    return [cast(s.strip()) for s in raw.split(",") if s.strip()]


def quick() -> bool:
    """True when the quick grid was asked for (``--xpnet-quick`` / XPNET_BENCH_QUICK=1)."""
    return os.environ.get("XPNET_BENCH_QUICK", "") not in ("", "0")


# ----------------------------------------------------------------------------- grids


def _backend_ids() -> list[str]:
    """The ids ``XPNET_BENCH_BACKENDS`` names (checked against ``xpnet._testing.Backend``,
    in the order given), or ["numpy"]."""
    raw = os.environ.get("XPNET_BENCH_BACKENDS", "")
    ids = [s.strip() for s in raw.split(",") if s.strip()]
    parse_backends(raw, source="XPNET_BENCH_BACKENDS / --xpnet-backends")  # unknown ids fail
    return ids or ["numpy"]


def vectorization_grid() -> dict[str, list[Any]]:
    """backend, impl, m, n_x of the vectorization benchmark (issue: m 1..1e5, n_x 1..1e3)."""
    if quick():
        m, n_x = [10, 100, 1000], [10, 100]
    else:
        m, n_x = [1, 10, 100, 1000, 10000, 100000], [1, 10, 100, 1000]
    return {
        "backend": _backend_ids(),
        "impl": _env_list("XPNET_BENCH_IMPL", IMPL_NAMES),
        "m": _env_list("XPNET_BENCH_M", m, int),
        "n_x": _env_list("XPNET_BENCH_N_X", n_x, int),
    }


def roofline_grid() -> list[tuple[int, int, str]]:
    """(n, m, dtype) cells of the deep [n, n, n, 1] network."""
    if quick():
        return [(256, 512, "float32"), (256, 512, "float64")]
    cells = [(256, 512), (512, 1024), (1024, 2048), (2048, 4096)]
    return [(n, m, dt) for n, m in cells for dt in ("float32", "float64")]


def abstraction_grid() -> list[tuple[tuple[int, ...], int, str]]:
    """(layer_dims, m, dtype): tiny (the course's [20, 8, 1]) to the roofline size."""
    cells: list[tuple[tuple[int, ...], int, str]] = [((20, 8, 1), 128, "float64")]
    if quick():
        return cells + [((256, 256, 256, 1), 512, "float32")]
    return cells + [
        ((20, 8, 1), 128, "float32"),
        ((100, 32, 1), 1000, "float64"),
        ((256, 256, 256, 1), 512, "float32"),
        ((1024, 1024, 1024, 1), 2048, "float32"),
        ((2048, 2048, 2048, 1), 4096, "float32"),
    ]


def peer_grid() -> list[tuple[tuple[int, ...], int, str]]:
    """(layer_dims, m, dtype) of the peer comparison (same cells as the abstraction cost)."""
    return abstraction_grid()


def loop_budget(backend: str) -> float:
    """Seconds a loop cell may take (estimated); a GPU's is far smaller (a kernel per op)."""
    cpu = float(os.environ.get("XPNET_BENCH_BUDGET", "1.5" if quick() else "10"))
    return cpu / 20 if is_gpu(backend) else cpu


# ----------------------------------------------------------------------------- ids


def dims_id(dims: Sequence[int]) -> str:
    return "x".join(str(d) for d in dims)


IDS = {"m": lambda v: f"m{v}", "n_x": lambda v: f"nx{v}", "n": lambda v: f"n{v}"}


def parametrize_grid(grid: dict[str, list[Any]]) -> Callable[[Callable[..., Any]], Any]:
    """Stack ``pytest.mark.parametrize`` so ids read ``backend-impl-m1000-nx100``."""

    def deco(fn: Callable[..., Any]) -> Any:
        for name in list(grid):
            fn = pytest.mark.parametrize(name, grid[name], ids=IDS.get(name, str))(fn)
        return fn

    return deco


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
    device_name = cpu_name()
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
        device_name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    elif bid.device_spec is not None:  # array_api_strict-device1
        device = xpnet._backend.resolve_device(xp, bid.device_spec)
    if lib == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    return Backend(name, xp, device, device_name)


@functools.cache
def cpu_name() -> str:
    try:
        import cpuinfo

        return cpuinfo.get_cpu_info().get("brand_raw") or platform.processor() or "cpu"
    except Exception:  # noqa: BLE001 - py-cpuinfo is optional; the name is decoration
        return platform.processor() or platform.machine() or "cpu"


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
    total_s: float | None = None,
) -> dict[str, float]:
    """Interleaved timing of two steps: rounds of (a block of a, a block of b).

    A ratio of two separately benchmarked cells drifts with whatever else the shared
    machine does between them; alternating the two inside one loop exposes both to the
    same conditions. Each block is a few calls lasting >= ~20 ms, timed call by call,
    and the minimum per call is kept: the first call after a switch can meet the other
    library's thread pool still spinning (OpenBLAS and torch's OpenMP threads busy-wait
    for a while after their work), the later calls of the block do not. Returns the
    minimum per-call time of each as ``{name}_s`` (``names``), their ratio a / b and
    the number of rounds: the record a benchmark stores in ``extra_info``.
    """
    fa(), fb()  # warm both
    t = max(timed_once(fa), timed_once(fb), 1e-7)
    calls = max(2, int(2e-2 / t))
    default = float(os.environ.get("XPNET_BENCH_PAIRED_S", "2" if quick() else "12"))
    budget = total_s if total_s is not None else default
    rounds = int(min(40, max(3, budget / (2 * calls * t))))
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
    ``benchmark.pedantic`` with a few rounds, so a 10 s loop cell is not repeated for
    minutes. ``warm=False`` skips the warm-up (a loop cell whose calibration already
    warmed its code path) and uses ``expected_s`` instead. GPU cells also store
    device-event times in ``extra_info``.
    """
    if warm:
        fn()
        t = timed_once(fn)
    else:
        t = expected_s if expected_s is not None else 0.0
    if t > slow_after_s:
        total = 2.0 if quick() else 10.0
        rounds = max(3 if t < 0.5 else 1, min(5, int(total / t)))
        result = benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=0)
    else:
        result = benchmark(fn)
    # device events over about a second at most: a GPU loop cell can take 0.5 s a call
    n_events = int(max(2, min(10, 1.0 / max(t, 1e-6))))
    benchmark.extra_info.update(gpu_event_times(fn, backend, n_repeat=n_events))
    return result


def base_info(benchmark: Any, be: Backend, **info: Any) -> None:
    """Common ``extra_info``: backend, device name, thread count and the cell's parameters."""
    benchmark.extra_info.update(
        backend=be.name, device=be.device_name, threads=os.cpu_count(), quick=quick(), **info
    )
