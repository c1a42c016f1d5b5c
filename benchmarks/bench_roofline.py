"""How close the vectorized step comes to the hardware: the deep [n, n, n, 1] ReLU network,
float32 and float64. The step's achieved GFLOP/s is compared with the same backend's
matmul throughput, measured in the same run on exactly the step's matmul shapes.

FLOPs are those actually performed: 2·rows·inner·cols for each matmul of the step. The
step skips dA[0] (the gradient with respect to X), so layer 1 does 2 matmuls and the other
layers 3; ``extra_info`` also stores the issue's nominal count (3 matmuls per layer).
The fraction of the roofline is t_matmuls / t_step (the FLOPs are the same).
"""

from __future__ import annotations

import numpy as np
import pytest
from _common import (
    base_info,
    get_backend,
    make_problem,
    make_step,
    make_training_step,
    matmul_flops,
    nominal_flops,
    options,
    paired_min,
    parametrize,
    roofline_grid,
    run_benchmark,
    step_matmul_shapes,
)

from xpnet._backend import resolve_dtype, synchronize, to_backend

# Backends with a compiler: their compiled step (``fit``'s step under
# ``xpnet.compile_step(mode=True)``) gets its own roofline cells.
COMPILING = ("jax", "torch", "torch-cuda")


def _cell_id(cell):
    n, m, dt = cell
    return f"n{n}-m{m}-{dt}"


def pytest_generate_tests(metafunc):
    opts = options(metafunc.config)
    backends = opts.backends
    if metafunc.definition.originalname == "test_roofline_compiled_step":
        backends = [b for b in backends if b in COMPILING]  # none: the test is left out
    grid = {"backend": backends, "cell": roofline_grid(opts)}
    parametrize(metafunc, grid, ids={"cell": _cell_id})


def _info(benchmark, be, opts, n, m, dtype, kind):
    dims = (n, n, n, 1)
    shapes = step_matmul_shapes(dims, m)
    base_info(
        benchmark,
        be,
        opts,
        kind=kind,
        n=n,
        m=m,
        dims=list(dims),
        dtype=dtype,
        flops=matmul_flops(shapes),
        nominal_flops=nominal_flops(dims, m),
        matmuls=len(shapes),
        matmul_shapes=[list(s) for s in shapes],
    )


def _matmuls(be, n, m, dtype):
    """The step's matmuls alone, same shapes and the same transposed operands; returns
    the function that runs them (synchronized) and their shapes."""
    xp = be.xp
    dt = resolve_dtype(xp, dtype)
    rng = np.random.default_rng(0)
    shapes = step_matmul_shapes((n, n, n, 1), m)

    def arr(*shape):
        return to_backend(rng.standard_normal(shape), xp, device=be.device, dtype=dt)

    # Operands as the step holds them: forward W @ A; dW = dZ @ A_prevᵀ (a transposed view);
    # dA = Wᵀ @ dZ (a transposed view).
    operands = []
    for kind, r, k, c in shapes:
        if kind == "fwd":
            operands.append((arr(r, k), arr(k, c)))
        elif kind == "dW":
            operands.append((arr(r, k), arr(c, k).T))
        else:
            operands.append((arr(k, r).T, arr(k, c)))

    def fn():
        outs = [xp.matmul(a, b) for a, b in operands]
        synchronize(outs)
        return outs

    return fn, shapes


def test_roofline_step(benchmark, opts, backend, cell):
    n, m, dtype = cell
    p = make_problem(backend, (n, n, n, 1), m, dtype, hidden="relu")
    _info(benchmark, p.backend, opts, n, m, dtype, "step")
    step = make_step(p)
    new, J = run_benchmark(benchmark, step, opts, backend=backend)
    assert new["W1"].dtype == p.params["W1"].dtype
    # The fraction the target is judged on: the step and its matmuls alone, timed
    # alternately in one loop (both synchronize on a GPU), so drift between two separate
    # cells does not enter it.
    matmuls, _ = _matmuls(p.backend, n, m, dtype)
    pair = paired_min(step, matmuls, names=("step", "matmul"), total_s=opts.paired_total_s)
    benchmark.extra_info["paired_matmul"] = {**pair, "fraction": 1 / pair["ratio"]}


def test_roofline_matmul(benchmark, opts, backend, cell):
    """The step's matmuls alone, same shapes and the same transposed operands."""
    n, m, dtype = cell
    be = get_backend(backend)
    fn, shapes = _matmuls(be, n, m, dtype)
    _info(benchmark, be, opts, n, m, dtype, "matmul")
    outs = run_benchmark(benchmark, fn, opts, backend=backend)
    assert [tuple(o.shape) for o in outs] == [(r, c) for _, r, _, c in shapes]


def test_roofline_compiled_step(benchmark, opts, backend, cell):
    """The compiled step against the same matmuls; the compile time is stored apart."""
    n, m, dtype = cell
    if backend == "torch" and opts.quick:
        pytest.skip("torch.compile takes 15-30 s per cell on a CPU: full grid only")
    p = make_problem(backend, (n, n, n, 1), m, dtype, hidden="relu")
    _info(benchmark, p.backend, opts, n, m, dtype, "compiled-step")
    step, compile_s = make_training_step(p, mode=True)
    benchmark.extra_info["compile_s"] = compile_s
    new, J = run_benchmark(benchmark, step, opts, backend=backend)
    assert new["W1"].dtype == p.params["W1"].dtype
    matmuls, _ = _matmuls(p.backend, n, m, dtype)
    pair = paired_min(step, matmuls, names=("step", "matmul"), total_s=opts.paired_total_s)
    benchmark.extra_info["paired_matmul"] = {**pair, "fraction": 1 / pair["ratio"]}
