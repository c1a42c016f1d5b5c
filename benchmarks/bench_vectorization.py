"""What vectorization buys: one gradient step of logistic regression and of the
one-hidden-layer tanh network (n_h = 16), for impl ∈ {loops, per_example, vectorized}
over m × n_x, on every requested backend.

A loop cell whose estimated time exceeds the budget is skipped with the reason
"skipped (budget): estimated X s > budget Y s"; the estimate times the same impl on a
small calibration cell and scales it by the operation count. Nothing is extrapolated
into the results: the report lists skipped cells as skipped.
"""

from __future__ import annotations

import pytest
from _common import (
    N_H,
    Options,
    base_info,
    make_problem,
    make_step,
    options,
    parametrize,
    run_benchmark,
    timed_once,
    vectorization_grid,
)

MODELS = {"logreg": ((1,), "sigmoid"), "shallow": ((N_H, 1), "tanh")}

# The cell a performance target names (vectorized vs loops at m = 1000, n_x = 1000 on
# NumPy) is always measured in the full grid, with this budget instead of the default.
TARGET_CELLS = {("numpy", 1000, 1000)}
TARGET_BUDGET_S = 120.0


def _dims(model: str, n_x: int) -> tuple[int, ...]:
    return (n_x, *MODELS[model][0])


def _loop_ops(dims: tuple[int, ...], m: int) -> float:
    """Scalar operations of the ``loops`` impl: per example, a multiply-add per weight in
    forward and in dW (and dA for layer > 1), plus a few per unit (bias, g, g', db)."""
    per_example = 0
    for layer in range(1, len(dims)):
        per_example += (3 if layer > 1 else 2) * dims[layer] * dims[layer - 1] + 5 * dims[layer]
    return m * per_example


def estimate_seconds(backend: str, model: str, impl: str, m: int, n_x: int) -> float:
    """Time ``impl`` on a small cell of the same model and scale it to (m, n_x)."""
    if impl == "vectorized":
        return 0.0
    hidden = MODELS[model][1]
    if impl == "loops":
        m_cal, nx_cal = min(m, 2), min(n_x, 16)
    else:  # per_example: linear in m, n_x enters through small matmuls
        m_cal, nx_cal = min(m, 16), n_x
    dims_cal = _dims(model, nx_cal)
    step = make_step(make_problem(backend, dims_cal, m_cal, hidden=hidden), impl)
    step()  # warm-up
    t_cal = min(timed_once(step) for _ in range(2))
    return t_cal * _loop_ops(_dims(model, n_x), m) / _loop_ops(dims_cal, m_cal)


def _bench_step(
    benchmark, opts: Options, model: str, backend: str, impl: str, m: int, n_x: int
) -> None:
    budget = opts.loop_budget(backend)
    if not opts.quick and (backend, m, n_x) in TARGET_CELLS:
        budget = max(budget, TARGET_BUDGET_S)
    est = estimate_seconds(backend, model, impl, m, n_x)
    if est > budget:
        pytest.skip(f"skipped (budget): estimated {est:.3g} s > budget {budget:.3g} s")
    dims = _dims(model, n_x)
    p = make_problem(backend, dims, m, hidden=MODELS[model][1])
    step = make_step(p, impl)
    base_info(
        benchmark,
        p.backend,
        opts,
        model=model,
        impl=impl,
        m=m,
        n_x=n_x,
        dims=list(dims),
        dtype="float64",
        estimated_s=est,
        budget_s=budget,
    )
    # A loop cell's calibration already warmed its code path; do not run it twice.
    warm = impl == "vectorized" or est < 1
    new, J = run_benchmark(benchmark, step, opts, backend=backend, warm=warm, expected_s=est)
    assert new["W1"].shape == p.params["W1"].shape
    assert float(J) == float(J)  # the cost is not NaN


def pytest_generate_tests(metafunc):
    parametrize(metafunc, vectorization_grid(options(metafunc.config)))


def test_step_logreg(benchmark, opts, backend, impl, m, n_x):
    _bench_step(benchmark, opts, "logreg", backend, impl, m, n_x)


def test_step_shallow(benchmark, opts, backend, impl, m, n_x):
    _bench_step(benchmark, opts, "shallow", backend, impl, m, n_x)
