"""Compiled steps and whole fits against what a user would write by hand (issue 8).

``test_compile_cost``: what compiling costs and buys, per step. ``impl``:

* ``xpnet-compiled``: ``fit``'s step under ``xpnet.compile_step(mode=True)``
  (``jax.jit`` / ``torch.compile``), each call continuing from the last;
* ``xpnet-run``: JAX only, ``xpnet.compile_steps``: 100 steps as one jitted
  ``lax.scan`` (the time is per step, ``extra_info["steps_per_call"] = 100``);
* ``jax_jit``: the hand-written jitted ``jax.numpy`` step (``_handwritten.jax_step``).

Each stores the first call's time (``compile_s``: tracing and compiling) and, in
``paired``, its steady-state time alternated in one loop with the eager step of the
same backend (xpnet's step for xpnet, xpnet's eager JAX step for ``jax_jit``).

``test_fit``: whole ``NeuralNetwork.fit`` calls (default ``compile="auto"``) against a
hand-written loop of the same math, the cost read at the same recording iterations:
on JAX against the jitted ``jax.numpy`` step in a Python loop, on NumPy against
``_handwritten.numpy_fit``. Each compiled path is warmed first, so these are steady-state
times; ``paired["ratio"]`` is xpnet / hand-written per whole fit (= per iteration).
"""

from __future__ import annotations

import pytest
from _common import (
    LEARNING_RATE,
    base_info,
    dims_id,
    make_jax_jit_step,
    make_problem,
    make_step,
    make_training_step,
    paired_min,
    run_benchmark,
    timed_once,
)
from _handwritten import jax_step, numpy_fit

import xpnet

RUN = 100  # steps per call of the JAX run of steps


def _cell_id(cell):
    dims, m, dt = cell[:3]
    return f"{dims_id(dims)}-m{m}-{dt}"


COMPILE_CELLS = [((20, 8, 1), 128, "float32"), ((784, 256, 256, 1), 1024, "float32")]
COMPILE_PAIRS = [
    ("jax", "xpnet-compiled"),
    ("jax", "xpnet-run"),
    ("jax", "jax_jit"),
    ("torch", "xpnet-compiled"),
]


def _jax_run(p):
    """xpnet.compile_steps: RUN full-batch steps as one jitted lax.scan, chained."""
    from xpnet.optimizers import initialize_optimizer_state
    from xpnet.training import TrainingConfig
    from xpnet.training import make_step as training_step

    xp = p.xp
    config = TrainingConfig(activations=tuple(p.acts), learning_rate=LEARNING_RATE)
    run = xpnet.compile_steps(training_step(config, xp=xp), xp)
    params = {k: xp.asarray(v, copy=True) for k, v in p.params.items()}
    state = [params, initialize_optimizer_state("gd", params, xp=xp)]
    lrs = xp.full((RUN,), LEARNING_RATE, dtype=p.params["W1"].dtype)

    def fn():
        params, opt_state, costs, _ = run(state[0], state[1], p.X, p.Y, lrs, None)
        state[:] = [params, opt_state]
        costs.block_until_ready()
        return params, costs

    return fn


@pytest.mark.parametrize("cell", COMPILE_CELLS, ids=_cell_id)
@pytest.mark.parametrize(
    ("backend", "impl"), COMPILE_PAIRS, ids=[f"{b}-{i}" for b, i in COMPILE_PAIRS]
)
def test_compile_cost(benchmark, opts, backend, impl, cell):
    dims, m, dtype = cell
    if backend == "torch" and opts.quick:
        pytest.skip("torch.compile takes 15-30 s per cell on a CPU: full grid only")
    p = make_problem(backend, dims, m, dtype, hidden="relu")
    eager = make_step(p)
    steps = 1
    if impl == "xpnet-compiled":
        fn, compile_s = make_training_step(p, mode=True)
    elif impl == "xpnet-run":
        fn, steps = _jax_run(p), RUN
        compile_s = timed_once(fn)
    else:
        fn, compile_s = make_jax_jit_step(p)
    base_info(benchmark, p.backend, opts, impl=impl, dims=list(dims), m=m, n_x=dims[0],
              dtype=dtype, compile_s=compile_s, steps_per_call=steps)  # fmt: skip
    run_benchmark(benchmark, fn, opts, backend=backend)
    pair = paired_min(fn, eager, names=("compiled", "eager"), total_s=opts.paired_total_s)
    pair["ratio"] = pair["compiled_s"] / steps / pair["eager_s"]  # per step
    pair["compile_steps"] = compile_s / pair["eager_s"]  # eager steps one compile costs
    benchmark.extra_info["paired"] = pair


# ----------------------------------------------------------------------------- whole fits

FIT_CELLS = [
    # (dims, m, dtype, backend, hidden, iterations)
    ((20, 8, 1), 128, "float32", "jax", "relu", 2000),
    ((100, 32, 1), 1000, "float32", "jax", "relu", 500),
    ((784, 256, 256, 1), 1024, "float32", "jax", "relu", 50),
    ((20, 8, 1), 128, "float64", "numpy", "tanh", 2000),
    ((20, 8, 1), 128, "float64", "numpy", "relu", 2000),
]


def _fit_id(cell):
    dims, m, dt, backend, hidden, n = cell
    return f"{backend}-{dims_id(dims)}-m{m}-{dt}-{hidden}-it{n}"


@pytest.mark.parametrize("cell", FIT_CELLS, ids=_fit_id)
@pytest.mark.parametrize("impl", ["xpnet-fit", "handwritten"])
def test_fit(benchmark, opts, impl, cell):
    dims, m, dtype, backend, hidden, n = cell
    if opts.quick and dims[0] > 100:
        pytest.skip("the largest fit cell runs in the full grid only")
    p = make_problem(backend, dims, m, dtype, hidden=hidden)
    xp = p.xp
    net = xpnet.NeuralNetwork(list(dims), hidden_activation=hidden, learning_rate=LEARNING_RATE,
                              num_iterations=n, record_every=100, init="he", seed=1,
                              backend=backend, dtype=dtype)  # fmt: skip

    def xpnet_fit():
        return net.fit(p.X, p.Y).costs_

    if backend == "jax":
        step = jax_step(hidden)
        lr = xp.asarray(LEARNING_RATE, dtype=p.params["W1"].dtype)

        def hand():
            params = {k: xp.asarray(v, copy=True) for k, v in p.params.items()}
            costs = []
            for i in range(n):
                params, J = step(params, p.X, p.Y, lr)
                if i % 100 == 0:
                    costs.append((i, float(J)))
            xpnet.synchronize(params)
            return costs
    else:

        def hand():
            return numpy_fit(p.X, p.Y, p.params, LEARNING_RATE, n, 100, hidden)[1]

    fn = xpnet_fit if impl == "xpnet-fit" else hand
    base_info(benchmark, p.backend, opts, impl=impl, dims=list(dims), m=m, n_x=dims[0],
              dtype=dtype, hidden=hidden, iterations=n, steps_per_call=n)  # fmt: skip
    costs = run_benchmark(benchmark, fn, opts, backend=backend)
    assert [i for i, _ in costs] == list(range(0, n, 100))
    if impl == "xpnet-fit":
        ref = hand()  # same initial weights (init="he", seed=1), same math
        tol = 1e-4 if dtype == "float32" else 1e-10
        for (_, a), (_, b) in zip(costs, ref, strict=True):
            assert abs(a - b) <= tol * abs(b), (costs, ref)
        benchmark.extra_info["paired"] = paired_min(
            fn, hand, names=("xpnet", "handwritten"), total_s=opts.paired_total_s
        )
