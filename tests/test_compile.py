"""Compiled training steps (``xpnet.compile_step``/``compile_steps``) equal the eager
step: within 1e-10 in float64 and 1e-4 in float32, costs included, and a too-large
learning rate gives non-finite costs at the same step in both. JAX (``jax.jit``, and
the run of steps as one ``lax.scan``) and torch on CPU (``torch.compile``) compile
for real here; the other backends have nothing to compile, which is checked too."""

from __future__ import annotations

import importlib.util

import array_api_extra as xpx
import numpy as np
import pytest
import reference as ref
from helpers import gd_step, tol

import xpnet
from xpnet._compile import resolve_compile, traceable_namespace
from xpnet._testing import Backend

DIMS = [4, 5, 3, 1]
STEPS = 12


def _needs(name):
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed")


def _setup(backend, dtype, hidden="tanh", m=16):
    xp = xpnet.get_namespace(backend)
    X, Y, params = ref.random_problem(DIMS, m=m, seed=5)
    put = {k: xp.asarray(p, dtype=getattr(xp, dtype)) for k, p in params.items()}
    Xb = xp.asarray(X, dtype=getattr(xp, dtype))
    Yb = xp.asarray(Y, dtype=getattr(xp, dtype))
    step = gd_step([hidden] * (len(DIMS) - 2) + ["sigmoid"], xp)
    return xp, step, put, Xb, Yb


def _host_to(backend, a):
    """Host data as a float64 array of the named backend (its default device)."""
    xp = xpnet.get_namespace(backend)
    return xp.asarray(a, dtype=xp.float64)


def _traceable(backend, hidden="tanh"):
    """The same step built on ``traceable_namespace`` (what compiling on torch needs)."""
    return gd_step([hidden] * (len(DIMS) - 2) + ["sigmoid"], traceable_namespace(backend))


def _run(fn, xp, params, X, Y, lr, n, dtype):
    """n steps of ``fn``; the costs J (before each update) and the final parameters,
    copied to the host."""
    lr = xp.asarray(lr, dtype=getattr(xp, dtype))
    costs = []
    for _ in range(n):
        params, _, J, _ = fn(params, {}, X, Y, lr, None)
        costs.append(xpnet.to_numpy(J))
    return np.asarray(costs), {k: xpnet.to_numpy(p) for k, p in params.items()}


def _copy(params):
    return {k: xpnet.to_numpy(p).copy() for k, p in params.items()}


# ------------------------------------------------------------------ JAX and torch CPU

COMPILED = [
    pytest.param("jax", True, "jax.jit", id="jax-jit"),
    pytest.param("torch", True, "torch.compile:default", id="torch-compile"),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("backend", "mode", "compiler"), COMPILED)
def test_compiled_step_equals_eager(backend, mode, compiler, dtype):
    _needs(backend)
    xp, step, params, X, Y = _setup(backend, dtype)
    start = _copy(params)
    eager_costs, eager_params = _run(step, xp, params, X, Y, 0.3, STEPS, dtype)
    run = xpnet.compile_step(_traceable(backend), backend, mode=mode, donate=False)
    assert run.compiler == compiler
    fresh = {k: xp.asarray(p, dtype=getattr(xp, dtype)) for k, p in start.items()}
    costs, final = _run(run, xp, fresh, X, Y, 0.3, STEPS, dtype)
    np.testing.assert_allclose(costs, eager_costs, rtol=tol(dtype))
    assert costs[-1] < costs[0]  # it trained
    for k in final:
        np.testing.assert_allclose(final[k], eager_params[k], rtol=tol(dtype), atol=tol(dtype))


@pytest.mark.parametrize(("backend", "mode", "compiler"), COMPILED)
def test_divergence_is_the_same_compiled_and_eager(backend, mode, compiler):
    """A learning rate far too large: the cost becomes non-finite at the same step,
    and the finite costs before it agree."""
    _needs(backend)
    dtype = "float64"
    xp, step, params, X, Y = _setup(backend, dtype, hidden="relu")
    start = _copy(params)
    eager_costs, _ = _run(step, xp, params, X, Y, 1e300, 6, dtype)
    run = xpnet.compile_step(_traceable(backend, "relu"), backend, mode=mode, donate=False)
    fresh = {k: xp.asarray(p, dtype=getattr(xp, dtype)) for k, p in start.items()}
    costs, _ = _run(run, xp, fresh, X, Y, 1e300, 6, dtype)
    bad_eager = ~np.isfinite(eager_costs)
    assert bad_eager.any(), f"the eager run did not diverge: {eager_costs}"
    np.testing.assert_array_equal(~np.isfinite(costs), bad_eager)
    first = int(np.argmax(bad_eager))
    np.testing.assert_allclose(costs[:first], eager_costs[:first], rtol=tol(dtype))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_jax_run_of_steps_equals_eager_loop(dtype):
    """compile_steps on JAX: n steps as one jitted lax.scan, costs stacked, with a
    per-step learning rate (a decay schedule) and the same result as n eager steps."""
    _needs("jax")
    xp, step, params, X, Y = _setup("jax", dtype)
    start = _copy(params)
    lrs = [0.5 / (1 + 0.1 * i) for i in range(STEPS)]
    eager, p = [], params
    for lr in lrs:
        p, _, J, _ = step(p, {}, X, Y, xp.asarray(lr, dtype=getattr(xp, dtype)), None)
        eager.append(float(J))
    run = xpnet.compile_steps(step, "jax", donate=False)
    assert run.compiler == "jax.jit+scan"
    fresh = {k: xp.asarray(q, dtype=getattr(xp, dtype)) for k, q in start.items()}
    final, _, costs, rng = run(fresh, {}, X, Y, xp.asarray(lrs, dtype=getattr(xp, dtype)), None)
    assert rng is None
    assert costs.shape == (STEPS,)
    xpx.testing.assert_close(costs, xp.asarray(eager, dtype=getattr(xp, dtype)), rtol=tol(dtype))
    for k in final:
        xpx.testing.assert_close(final[k], p[k], rtol=tol(dtype), atol=tol(dtype))


def test_jax_run_of_steps_reports_divergence():
    _needs("jax")
    xp, step, params, X, Y = _setup("jax", "float64", hidden="relu")
    run = xpnet.compile_steps(step, "jax", donate=False)
    _, _, costs, _ = run(params, {}, X, Y, xp.full((6,), 1e300, dtype=xp.float64), None)
    costs = xpnet.to_numpy(costs)
    assert np.isfinite(costs[0]) and not np.all(np.isfinite(costs))


def test_jax_donation_consumes_the_inputs_only_when_asked():
    _needs("jax")
    xp, step, params, X, Y = _setup("jax", "float32")
    lr = xp.asarray(0.1, dtype=xp.float32)
    kept = xpnet.compile_step(step, "jax", donate=False)
    out, *_ = kept(params, {}, X, Y, lr, None)
    assert not params["W1"].is_deleted()
    donating = xpnet.compile_step(step, "jax")
    out2, *_ = donating(out, {}, X, Y, lr, None)
    if not out["W1"].is_deleted():
        pytest.skip("this JAX platform ignores buffer donation")
    with pytest.raises(RuntimeError):
        xpnet.to_numpy(out["W1"])
    assert np.all(np.isfinite(xpnet.to_numpy(out2["W1"])))


def test_compile_steps_loops_the_step_where_there_is_no_scan():
    """On NumPy (and with mode=False anywhere) the run is a Python loop of the step."""
    xp, step, params, X, Y = _setup("numpy", "float64")
    start = _copy(params)
    eager_costs, eager_params = _run(step, xp, params, X, Y, 0.2, 5, "float64")
    run = xpnet.compile_steps(step, "numpy", mode=True)
    assert run.compiler is None
    final, _, costs, _ = run(start, {}, X, Y, np.full(5, 0.2), None)
    np.testing.assert_allclose(costs, eager_costs, rtol=1e-12)
    for k in final:
        np.testing.assert_allclose(final[k], eager_params[k], rtol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_compile_steps_takes_zero_steps_and_checks_lrs_and_donate(backend):
    """Zero steps give zero costs on every backend (the NumPy loop raised "need at least
    one array to stack", the JAX scan returned []); a 0-d lrs and donate="yes" are clear
    errors (an IndexError, and accepted)."""
    _needs(backend)
    xp, step, params, X, Y = _setup(backend, "float64")
    run = xpnet.compile_steps(step, backend, donate=False)
    final, _, costs, _ = run(params, {}, X, Y, xp.asarray([], dtype=xp.float64), None)
    assert costs.shape == (0,)
    for k in final:
        np.testing.assert_array_equal(xpnet.to_numpy(final[k]), xpnet.to_numpy(params[k]))
    with pytest.raises(ValueError, match="lrs must be a 1-d array"):
        run(params, {}, X, Y, xp.asarray(0.1, dtype=xp.float64), None)
    with pytest.raises(TypeError, match="donate must be True or False"):
        xpnet.compile_steps(step, backend, donate="yes")


# ------------------------------------------------------------------ what each mode picks


@pytest.mark.parametrize(
    ("backend", "device", "mode", "compiler"),
    [
        ("jax", None, "auto", "jax.jit"),
        ("jax", None, True, "jax.jit"),
        ("jax", None, "jit", "jax.jit"),
        ("jax", None, False, None),
        ("torch", "cpu", "auto", None),
        ("torch", "cpu", True, "torch.compile:default"),
        ("torch", "cuda:0", True, "torch.compile:reduce-overhead"),
        ("torch", "cuda:0", "auto", None),
        ("torch", "cpu", "max-autotune", "torch.compile:max-autotune"),
        ("numpy", None, True, None),
        ("numpy", None, "auto", None),
        ("dask", None, True, None),
        ("array_api_strict", None, True, None),
    ],
)
def test_resolve_compile_table(backend, device, mode, compiler):
    _needs(backend)
    got, reason = resolve_compile(mode, backend, device)
    assert got == compiler
    assert reason


@pytest.mark.skip_xp_backends(
    Backend.JAX, Backend.TORCH, reason="it has a compiler: see test_compiled_step_equals_eager"
)
def test_nothing_to_compile_returns_the_step_unchanged(xp, backend, device):
    step = gd_step(["relu", "sigmoid"], xp)
    run = xpnet.compile_step(step, xp, mode=True, device=device)
    if backend is Backend.TORCH_CUDA:
        assert run.compiler == "torch.compile:reduce-overhead"
    else:
        assert run.fn is step and run.compiler is None
        assert "eager" in repr(run) and backend.library in repr(run)


@pytest.mark.parametrize(
    ("backend", "mode", "match"),
    [
        ("numpy", "jit", "compile='jit' means jax.jit"),
        ("torch", "jit", "compile='jit' means jax.jit"),
        ("numpy", "reduce-overhead", "torch.compile mode but the backend is 'numpy'"),
        ("jax", "max-autotune", "torch.compile mode but the backend is JAX"),
        ("numpy", "fast", "compile='fast' is not a compile mode"),
        ("numpy", 1.5, "is not a compile mode"),
    ],
)
def test_bad_modes_are_refused_with_the_fix(backend, mode, match):
    _needs(backend)
    with pytest.raises(ValueError, match=match):
        xpnet.compile_step(lambda *a: a, backend, mode=mode)


def test_bad_arguments():
    with pytest.raises(TypeError, match="step must be a callable"):
        xpnet.compile_step(3, "numpy")
    with pytest.raises(TypeError, match="donate must be True or False"):
        xpnet.compile_step(lambda *a: a, "numpy", donate="yes")
    with pytest.raises(ValueError, match="not a known backend"):
        xpnet.compile_step(lambda *a: a, "nope")


# ------------------------------------------------------------------ NeuralNetwork(compile=)


def _net_fit(backend, dtype, compile, X, Y, **kw):
    kw = {"num_iterations": 37, "record_every": 5, "learning_rate": 0.3,
          "hidden_activation": "tanh", **kw}  # fmt: skip
    net = xpnet.NeuralNetwork([4, 5, 3, 1], backend=backend, dtype=dtype, compile=compile, **kw)
    return net, net.fit(_host_to(backend, X), _host_to(backend, Y))


def _assert_same_fit(a, b, dtype):
    assert [e for e, _ in a.costs_] == [e for e, _ in b.costs_]
    np.testing.assert_allclose([c for _, c in a.costs_], [c for _, c in b.costs_], rtol=tol(dtype))
    assert (a.n_iter_, a.t_) == (b.n_iter_, b.t_)
    assert list(a.params_) == list(b.params_)
    for k in a.params_:
        xpx.testing.assert_close(a.params_[k], b.params_[k], rtol=tol(dtype), atol=tol(dtype))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_on_jax_compiled_equals_eager(dtype):
    """compile='auto' on JAX: jax.jit, full-batch epochs in lax.scan runs (37 epochs,
    recording every 5: runs of 5 and a last run of 2), with a decaying learning rate."""
    _needs("jax")
    X, Y, _ = ref.random_problem(DIMS, m=16, seed=2)
    kw = {"learning_rate_decay": "inverse_time", "decay_rate": 0.05}
    eager, _ = _net_fit("jax", dtype, False, X, Y, **kw)
    net, _ = _net_fit("jax", dtype, "auto", X, Y, **kw)
    assert set(net._compiled[1]) == {"step", "step_without_cost", "run"}
    assert net._compiled[1]["run"].compiler == "jax.jit+scan"
    _assert_same_fit(net, eager, dtype)
    # partial_fit continues from epoch 37 (not a recording epoch) with the same steps
    eager.partial_fit(_host_to("jax", X), _host_to("jax", Y))
    compiled_before = net._compiled
    net.partial_fit(_host_to("jax", X), _host_to("jax", Y))
    assert net._compiled is compiled_before  # compiled once, reused
    _assert_same_fit(net, eager, dtype)


@pytest.mark.parametrize("batch_size", [None, 5])
def test_fit_on_jax_diverges_like_eager(batch_size):
    """Too large a learning rate: the same DivergenceError (epoch, last finite cost),
    and the same restored parameters, compiled or not (mini-batches use the jitted
    step, full batch the scan runs)."""
    _needs("jax")
    X, Y, _ = ref.random_problem(DIMS, m=16, seed=2)
    kw = {"learning_rate": 1e300, "hidden_activation": "relu", "batch_size": batch_size}
    results = []
    for compile in (False, True):
        net = xpnet.NeuralNetwork([4, 5, 3, 1], num_iterations=12, record_every=3,
                                  backend="jax", compile=compile, **kw)  # fmt: skip
        with pytest.raises(xpnet.DivergenceError) as info:
            net.fit(_host_to("jax", X), _host_to("jax", Y))
        results.append((str(info.value), net))
    (msg_eager, eager), (msg_compiled, compiled) = results
    assert msg_compiled == msg_eager
    _assert_same_fit(compiled, eager, "float64")


def test_fit_on_torch_compiled_equals_eager_and_diverges_alike():
    """compile=True on torch CPU: torch.compile of the step; costs_, parameters and
    the divergence error equal the eager fit's."""
    _needs("torch")
    X, Y, _ = ref.random_problem(DIMS, m=16, seed=2)
    relu = {"num_iterations": 11, "hidden_activation": "relu"}
    eager, _ = _net_fit("torch", "float64", False, X, Y, **relu)
    net, _ = _net_fit("torch", "float64", True, X, Y, **relu)
    assert net._compiled[1]["step"].compiler == "torch.compile:default"
    _assert_same_fit(net, eager, "float64")
    msgs = []
    for compile in (False, True):
        bad = xpnet.NeuralNetwork([4, 5, 3, 1], hidden_activation="relu", learning_rate=1e300,
                                  num_iterations=11, record_every=5, backend="torch",
                                  compile=compile)  # fmt: skip
        with pytest.raises(xpnet.DivergenceError) as info:
            bad.fit(_host_to("torch", X), _host_to("torch", Y))
        msgs.append((str(info.value), bad))
    assert msgs[0][0] == msgs[1][0]
    _assert_same_fit(msgs[1][1], msgs[0][1], "float64")


def test_model_auto_is_eager_off_jax():
    X, Y, _ = ref.random_problem(DIMS, m=16, seed=2)
    net, _ = _net_fit("numpy", "float64", "auto", X, Y)
    assert net._compiled[1] == {}


def test_model_refuses_a_bad_compile_value():
    with pytest.raises(ValueError, match="compile='fastest' is not a compile mode"):
        xpnet.NeuralNetwork([2, 1], compile="fastest")


def test_traceable_namespace_gives_the_same_values():
    """The torch wrapper turns Python-scalar operands into 0-d tensors of the other
    operand's dtype: same results as the plain namespace, NaN and inf included."""
    _needs("torch")
    xp = xpnet.get_namespace("torch")
    tx = traceable_namespace("torch")
    Z = _host_to("torch", np.array([[-2.0, 0.0, 3.0, np.nan, np.inf, -np.inf]]))
    for dtype in (xp.float32, xp.float64):
        Zd = xp.astype(Z, dtype)
        for got, want in [
            (tx.maximum(Zd, 0.0), xp.maximum(Zd, 0.0)),
            (tx.pow(Zd, 2), xp.pow(Zd, 2)),
            (tx.where(Zd > 0, Zd, 0.5), xp.where(Zd > 0, Zd, xp.asarray(0.5, dtype=dtype))),
        ]:
            assert got.dtype == dtype
            np.testing.assert_array_equal(xpnet.to_numpy(got), xpnet.to_numpy(want))
    # a boolean condition alone, or an integer tensor with a float: the scalar stays a
    # Python number (it was cast to bool, or to int: where(c, 0.5, 2.0) gave True, True)
    c, k = Z > 0, xp.asarray([3, 4])
    for got, want in [
        (tx.where(c, 0.5, 2.0), xp.where(c, 0.5, 2.0)),
        (tx.multiply(k, 0.5), xp.multiply(k, 0.5)),
        (tx.multiply(k, 2), xp.multiply(k, 2)),
    ]:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(xpnet.to_numpy(got), xpnet.to_numpy(want))
    assert tx.sum is xp.sum  # functions without scalar operands are the namespace's own
    assert xpnet._backend.backend_name(tx) == "torch"
    assert traceable_namespace("numpy") is xpnet.get_namespace("numpy")


def test_torch_compiles_more_models_than_dynamos_recompile_limit():
    """Every model's step is a closure of the same code; Dynamo counts recompiles per code
    object, so without a code object per compiled step the ninth model in one process
    (recompile_limit 8) failed with fullgraph=True. Each one here must compile and
    equal its eager fit."""
    _needs("torch")
    import torch

    X, Y, _ = ref.random_problem(DIMS, m=16, seed=2)
    Xt, Yt = xpnet.to_backend(X, "torch"), xpnet.to_backend(Y, "torch")
    for i in range(torch._dynamo.config.recompile_limit + 2):
        kw = dict(num_iterations=2, record_every=1, learning_rate=0.1 + 0.01 * i)
        net = xpnet.NeuralNetwork([4, 5, 3, 1], backend="torch", compile=True, **kw).fit(Xt, Yt)
        assert net._compiled[1]["step"].compiler == "torch.compile:default"
        eager = xpnet.NeuralNetwork([4, 5, 3, 1], backend="torch", compile=False, **kw).fit(Xt, Yt)
        np.testing.assert_allclose([c for _, c in net.costs_], [c for _, c in eager.costs_],
                                   rtol=1e-10)  # fmt: skip


# ------------------------------------------------------------------ "auto" on torch CPU


def test_auto_compile_rule():
    """Compile once the rest of the fit, at the eager pace timed so far, is projected
    to take AUTO_COMPILE_AFTER_S or more."""
    from xpnet._compile import AUTO_COMPILE_AFTER_S, auto_compile_pays

    per_epoch = 0.01
    needed = round(AUTO_COMPILE_AFTER_S / per_epoch)
    assert auto_compile_pays(per_epoch * 10, 10, needed)
    assert not auto_compile_pays(per_epoch * 10, 10, needed - 1)
    assert not auto_compile_pays(0.0, 0, 10**9)  # nothing timed: no projection


def test_tier_up_clock_times_epochs_after_the_first():
    """The first epoch (warm-up) is not timed; nothing is decided before AUTO_PROBE_S
    of timed epochs; then the rule decides once; the last epoch never switches."""
    from xpnet._compile import AUTO_COMPILE_AFTER_S, AUTO_PROBE_S, TierUp

    now = [0.0]
    clock = TierUp(step=None).watch(clock=lambda: now[0])
    now[0] = 100.0  # a slow first epoch: left out of the pace
    assert clock.after_epoch(epochs_left=10**6) is None
    pace = AUTO_PROBE_S / 4
    for _ in range(3):
        now[0] += pace
        assert clock.after_epoch(epochs_left=10**6) is None  # still probing
    now[0] += pace
    left = int(AUTO_COMPILE_AFTER_S / pace) + 1
    assert clock.after_epoch(epochs_left=left) is True
    short = TierUp(step=None).watch(clock=lambda: now[0])
    assert short.after_epoch(epochs_left=0) is False  # a one-epoch fit (partial_fit)
    slow = TierUp(step=None).watch(clock=lambda: now[0])
    slow.after_epoch(epochs_left=5)
    now[0] += 10 * AUTO_PROBE_S
    assert slow.after_epoch(epochs_left=4) is False  # 4 epochs of 5 s: not worth 300 s


def _tier_up_now(monkeypatch):
    """compile='auto' tiers up after the warm-up epoch: no probe, no minimum length."""
    import xpnet._compile as c

    monkeypatch.setattr(c, "AUTO_COMPILE_AFTER_S", 0.0)
    monkeypatch.setattr(c, "AUTO_PROBE_S", 0.0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [None, 5])
def test_fit_on_torch_auto_tiers_up_and_equals_eager(monkeypatch, batch_size, dtype):
    """compile='auto' on torch CPU, with the threshold at 0: the first epochs run
    eagerly, then the compiled step (full batch; mini-batches of 5, 5, 5 and 1, two
    compiled shapes); costs_ and parameters equal the eager fit's, and
    compiler_ says the fit ended compiled. With the real threshold a course-sized
    fit stays eager."""
    _needs("torch")
    X, Y, _ = ref.random_problem(DIMS, m=16, seed=2)
    kw = {"hidden_activation": "relu", "batch_size": batch_size, "num_iterations": 12}
    eager, _ = _net_fit("torch", dtype, False, X, Y, **kw)
    assert eager.compiler_ is None
    short, _ = _net_fit("torch", dtype, "auto", X, Y, **kw)
    assert set(short._compiled[1]) == {"tier_up"}
    assert short.compiler_ is None  # 12 tiny epochs: far from paying for a compile
    _tier_up_now(monkeypatch)
    net, _ = _net_fit("torch", dtype, "auto", X, Y, **kw)
    assert net.compiler_ == "torch.compile:default"
    _assert_same_fit(net, eager, dtype)


def test_torch_auto_diverges_like_eager_after_tiering_up(monkeypatch):
    """A too-large learning rate: the cost read at epoch 5, after the switch to the
    compiled step at epoch 2, is non-finite; the error and the restored parameters
    (those of epoch 0, the last finite cost) equal the eager fit's."""
    _needs("torch")
    X, Y, _ = ref.random_problem(DIMS, m=16, seed=2)
    _tier_up_now(monkeypatch)
    kw = {"learning_rate": 1e300, "hidden_activation": "relu", "num_iterations": 12}
    results = []
    for compile in (False, "auto"):
        net = xpnet.NeuralNetwork([4, 5, 3, 1], record_every=5, backend="torch",
                                  compile=compile, **kw)  # fmt: skip
        with pytest.raises(xpnet.DivergenceError) as info:
            net.fit(_host_to("torch", X), _host_to("torch", Y))
        results.append((str(info.value), net))
    (msg_eager, eager), (msg_auto, auto) = results
    assert auto.compiler_ == "torch.compile:default"
    assert "iteration 5" in msg_auto
    assert msg_auto == msg_eager
    _assert_same_fit(auto, eager, "float64")


def test_torch_auto_with_dropout_stays_eager():
    _needs("torch")
    X, Y, _ = ref.random_problem(DIMS, m=16, seed=2)
    net, _ = _net_fit("torch", "float64", "auto", X, Y, keep_prob=0.8, seed=1)
    assert net._compiled[1] == {}
    assert net.compiler_ is None


def _compile_that_fails(when):
    """A stand-in for torch.compile that fails as a broken setup does: at the call
    ("construct": a Python torch.compile does not support) or when the compiled
    function first runs ("first call": inductor without its C++ toolchain)."""

    def broken_compile(fn, **kwargs):
        if when == "construct":
            raise RuntimeError("torch.compile is not supported on this Python")

        def call(*args):
            raise RuntimeError("no C++ compiler found")

        return call

    return broken_compile


@pytest.mark.parametrize(
    ("when", "error"),
    [("first call", "no C\\+\\+ compiler found"),
     ("construct", "not supported on this Python")],
)  # fmt: skip
def test_torch_auto_goes_on_eagerly_when_the_compile_fails(monkeypatch, when, error):
    """A machine where torch.compile fails: 'auto' warns once, naming the failure and
    the fix and pointing at the caller's line, and the fit equals the eager one exactly;
    compile=True raises the compiler's error."""
    _needs("torch")
    import torch

    X, Y, _ = ref.random_problem(DIMS, m=16, seed=2)
    kw = {"hidden_activation": "relu", "num_iterations": 12}
    eager, _ = _net_fit("torch", "float64", False, X, Y, **kw)
    _tier_up_now(monkeypatch)
    monkeypatch.setattr(torch, "compile", _compile_that_fails(when))
    with pytest.warns(RuntimeWarning, match=rf"compile='auto'.*{error}.*eagerly") as record:
        net, _ = _net_fit("torch", "float64", "auto", X, Y, **kw)
    assert len(record) == 1
    assert record[0].filename == __file__  # _net_fit's line, not xpnet's
    assert net.compiler_ is None
    assert net.costs_ == eager.costs_
    for k in eager.params_:
        assert torch.equal(net.params_[k], eager.params_[k])
    with pytest.raises(RuntimeError, match=error):
        _net_fit("torch", "float64", True, X, Y, **kw)


def test_torch_auto_short_fit_never_touches_the_compiler(monkeypatch):
    """A course-sized fit under 'auto' stays eager without building the compiled step:
    torch.compile (and the ~2 s import of its machinery) is not even called."""
    _needs("torch")
    import torch

    calls = []
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: calls.append(fn) or fn)
    X, Y, _ = ref.random_problem(DIMS, m=16, seed=2)
    net, _ = _net_fit("torch", "float64", "auto", X, Y, num_iterations=12)
    assert net.compiler_ is None
    assert calls == []


def test_cuda_graph_steps_return_outputs_the_next_call_cannot_overwrite():
    """torch.compile(mode="reduce-overhead") on CUDA replays a CUDA graph into the same
    output buffers, and the next call frees them: the loop's kept parameters (restored
    on divergence) and collected costs would be read after they were overwritten. The
    compiled CUDA step marks each call as a new step and clones its outputs out of the
    graph's pool (checked here on the wrapper; the CUDA replay itself needs a GPU)."""
    torch = pytest.importorskip("torch")
    from xpnet._compile import _outputs_kept

    inner = []

    def step(params, J):
        out = {"W": params["W"] * 2}
        inner.append(out["W"])
        return out, (J + 1, [J])

    kept = _outputs_kept(step)
    (params, (J, [J0])) = kept({"W": torch.ones(3)}, torch.zeros(()))
    assert torch.equal(params["W"], inner[0]) and params["W"].data_ptr() != inner[0].data_ptr()
    assert float(J) == 1.0 and float(J0) == 0.0
    cuda = xpnet.compile_step(lambda *a: a, "torch", mode=True, device="cuda:0")
    assert cuda.compiler == "torch.compile:reduce-overhead"
    assert cuda.fn.__qualname__.startswith("_outputs_kept")
    cpu = xpnet.compile_step(lambda *a: a, "torch", mode=True, device="cpu")
    assert not cpu.fn.__qualname__.startswith("_outputs_kept")
