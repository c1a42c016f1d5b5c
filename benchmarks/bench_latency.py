"""The launch-bound floor of the small network's step: the course's [20, 8, 1] at m = 128.

At this size a step does almost no arithmetic; on a GPU its time is the launch cost of its
kernels. The floor is defined, and measured on the same device in the same run, as

    floor = time of k back-to-back launches of a one-element kernel (x + x), then one
            synchronization,

where k is the number of device operations one xpnet step performs, counted with the
torch profiler around one warm step (on CUDA: every kernel, memcpy and memset that CUPTI
sees, CuPy's included; on the CPU: the top-level aten operators). A second floor replays
the same k launches as one CUDA graph, which removes the host's launch cost and leaves the
device's. The report divides the step's time (``bench_peers``'s xpnet cell of the same
size) by the floor, and sets it beside torch's ``nn`` step, eager and compiled.

Backends without an operation counter (NumPy, JAX) are skipped with that reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from _common import (
    base_info,
    get_backend,
    make_problem,
    make_step,
    options,
    parametrize,
    run_benchmark,
    sync_for,
)

DIMS, M = (20, 8, 1), 128


def count_device_ops(fn, backend: str) -> tuple[int, str]:
    """Device operations of one call of ``fn`` (warm), and how they were counted."""
    try:
        from torch.profiler import ProfilerActivity, profile
    except ImportError:
        pytest.skip(f"no operation counter for {backend!r}: the torch profiler is not installed")
    gpu = backend in ("cupy", "torch-cuda")
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if gpu else [])
    fn()
    with profile(activities=acts) as prof:
        fn()
    events = prof.events()
    if gpu:
        n = sum(1 for e in events if e.device_type.name == "CUDA")
        how = "torch.profiler (CUPTI): kernels, memcpy and memset of one step"
    else:
        n = sum(1 for e in events if e.cpu_parent is None and e.name.startswith("aten::"))
        how = "torch.profiler: top-level aten operators of one step (CPU)"
    if n == 0:
        pytest.skip(f"the profiler saw no device operations of the {backend} step")
    return n, how


def _tiny(backend: str, dtype: str) -> Any:
    be = get_backend(backend)
    xp = be.xp
    return xp.ones((1,), dtype=getattr(xp, dtype), device=be.device)


def _graph_floor(backend: str, x: Any, k: int) -> dict[str, Any]:
    """Replay time of a CUDA graph of k one-element launches (torch-CUDA, CuPy)."""
    import time

    try:
        if backend == "torch-cuda":
            import torch

            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                y = x + x  # warm the kernel outside the capture
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                y = x
                for _ in range(k):
                    y = y + x
            replay, sync = graph.replay, torch.cuda.synchronize
        elif backend == "cupy":
            import cupy

            stream = cupy.cuda.Stream(non_blocking=True)
            with stream:
                y = x + x
                stream.begin_capture()
                try:
                    for _ in range(k):
                        y = y + x
                finally:  # a failed capture must not leave the stream capturing
                    graph = stream.end_capture()
            replay, sync = (lambda: graph.launch(stream)), stream.synchronize
        else:
            return {}
        replay(), sync()
        best = float("inf")
        for _ in range(50):
            t0 = time.perf_counter()
            replay()
            sync()
            best = min(best, time.perf_counter() - t0)
        return {"graph_floor_s": best}
    except Exception as exc:  # noqa: BLE001 - recorded: the eager floor still stands
        return {"graph_floor_error": f"{type(exc).__name__}: {exc}"[:300]}


def pytest_generate_tests(metafunc):
    backends = options(metafunc.config).backends
    parametrize(metafunc, {"backend": backends, "dtype": ["float64", "float32"]})


def test_launch_floor(benchmark, opts, backend, dtype):
    if backend in ("numpy", "jax", "array_api_strict"):
        pytest.skip(f"no operation counter for {backend!r} (the floor needs the torch profiler)")
    p = make_problem(backend, DIMS, M, dtype, hidden="relu")
    k, how = count_device_ops(make_step(p), backend)
    x = _tiny(backend, dtype)
    sync = sync_for(backend)

    def launches():
        y = x
        for _ in range(k):
            y = y + x
        sync(y)
        return y

    base_info(
        benchmark,
        p.backend,
        opts,
        impl="launch_floor",
        dims=list(DIMS),
        m=M,
        n_x=DIMS[0],
        dtype=dtype,
        kernel_count=k,
        count_method=how,
    )
    y = run_benchmark(benchmark, launches, opts, backend=backend)
    benchmark.extra_info.update(_graph_floor(backend, x, k))
    assert tuple(y.shape) == (1,)
