"""The lecture's demo: the dot product of two 10⁶-element vectors, a Python for-loop
against the vectorized ``xp.vecdot``. The course quotes about 300×."""

from __future__ import annotations

import numpy as np
import pytest
from _common import (
    base_info,
    get_backend,
    is_gpu,
    options,
    parametrize,
    run_benchmark,
    timed_once,
)

from xpnet._backend import synchronize, to_backend

N = 1_000_000
# On a GPU each a[i] * b[i] and each += is a kernel launch (~10 µs): the loop runs over
# the first 10⁴ elements and the report scales its time to 10⁶ (it shows both lengths).
GPU_LOOP_N = 10_000


def _vectors(backend: str):
    be = get_backend(backend)
    rng = np.random.default_rng(0)
    a, b = rng.random(N), rng.random(N)
    dt = be.xp.float64
    return (
        be,
        to_backend(a, be.xp, device=be.device, dtype=dt),
        to_backend(b, be.xp, device=be.device, dtype=dt),
    )


def pytest_generate_tests(metafunc):
    backends = options(metafunc.config).backends
    parametrize(metafunc, {"backend": backends, "impl": ["loops", "vectorized"]})


def test_dot(benchmark, opts, backend, impl):
    be, a, b = _vectors(backend)
    xp = be.xp
    if impl == "loops":
        if is_gpu(backend):
            n = GPU_LOOP_N
        else:
            n = N if not (opts.quick and backend != "numpy") else 100_000

        def fn():
            c = 0.0
            for i in range(n):
                c += a[i] * b[i]
            synchronize(c)
            return c

        # A GPU runs one kernel per a[i] * b[i]: estimate first, skip beyond the budget.
        est = timed_once(lambda: [a[i] * b[i] for i in range(1000)]) * n / 1000
        if backend != "numpy" and est > 60:
            pytest.skip(f"skipped (budget): estimated {est:.3g} s > budget 60 s")
    else:
        n = N

        def fn():
            c = xp.vecdot(a, b)
            synchronize(c)
            return c

    base_info(benchmark, be, opts, impl=impl, n=n, dtype="float64")
    c = run_benchmark(benchmark, fn, opts, backend=backend)
    expected = float(xp.vecdot(a[:n], b[:n]))
    assert abs(float(c) - expected) <= 1e-9 * abs(expected)
