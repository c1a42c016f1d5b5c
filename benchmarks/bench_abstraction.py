"""What writing against the Array API costs: xpnet's vectorized step on NumPy against the
same step hand-written in NumPy (``_handwritten.numpy_step``), tiny to roofline size.

``impl``: "xpnet" (the kernels with xp resolved once, what ``fit`` runs), "xpnet-public"
(through the validating xpnet.forward/cost/backward/update) and "handwritten".
"""

from __future__ import annotations

import numpy as np
from _common import (
    LEARNING_RATE,
    abstraction_grid,
    base_info,
    dims_id,
    make_problem,
    make_public_step,
    make_step,
    options,
    paired_min,
    parametrize,
    run_benchmark,
)
from _handwritten import numpy_step


def _cell_id(cell):
    dims, m, dt = cell
    return f"{dims_id(dims)}-m{m}-{dt}"


def pytest_generate_tests(metafunc):
    grid = {
        "backend": ["numpy"],
        "impl": ["xpnet", "xpnet-public", "handwritten"],
        "cell": abstraction_grid(options(metafunc.config)),
    }
    parametrize(metafunc, grid, ids={"cell": _cell_id})


def test_abstraction(benchmark, opts, backend, impl, cell):
    dims, m, dtype = cell
    p = make_problem(backend, dims, m, dtype, hidden="relu")
    X, Y, params = (
        np.asarray(p.X),
        np.asarray(p.Y),
        {k: np.asarray(v) for k, v in p.params.items()},
    )

    def hand():
        return numpy_step(X, Y, params, LEARNING_RATE)

    fn = {"handwritten": hand, "xpnet": make_step(p), "xpnet-public": make_public_step(p)}[impl]
    base_info(benchmark, p.backend, opts, impl=impl, dims=list(dims), m=m, n_x=dims[0], dtype=dtype)
    new, J = run_benchmark(benchmark, fn, opts, backend=backend)
    if impl == "xpnet":
        # The ratio the target is judged on: xpnet and the hand-written step alternated
        # in one loop, so machine noise between two separate cells does not enter it.
        benchmark.extra_info["paired"] = paired_min(
            fn, hand, names=("xpnet", "handwritten"), total_s=opts.paired_total_s
        )
    # Same math: the step must agree with the hand-written one.
    ref_new, ref_J = numpy_step(
        np.asarray(p.X),
        np.asarray(p.Y),
        {k: np.asarray(v) for k, v in p.params.items()},
        LEARNING_RATE,
    )
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(float(J), float(ref_J), rtol=tol)
    np.testing.assert_allclose(np.asarray(new["W1"]), ref_new["W1"], rtol=tol, atol=tol)
