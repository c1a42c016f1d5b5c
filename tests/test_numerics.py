"""Numerics under stress (issue 4): finite activations, costs and gradients for
|Z| up to 1e4, gradients that still match finite differences, divergence and
interruption of ``fit``.

The fixed extreme values run on every backend of the ``xp`` fixture; the
hypothesis properties run there too, with a small ``max_examples``.
"""

from __future__ import annotations

import array_api_extra as xpx
import numpy as np
import pytest
from helpers import numeric_gradients

import xpnet
from xpnet.activations import ACTIVATIONS

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXTREMES = [-1e4, -1e3, -745.0, -710.0, -100.0, -36.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 36.0,
            100.0, 710.0, 745.0, 1e3, 1e4]  # fmt: skip
ALL_ACTS = sorted(ACTIVATIONS)
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def finite(*arrays) -> bool:
    """All arrays free of NaN/inf (lazy Dask arrays are computed in one pass)."""
    if any(type(a).__module__.startswith("dask") for a in arrays):
        import dask

        arrays = dask.compute(*arrays)
    return all(bool(np.all(np.isfinite(xpnet.to_numpy(a)))) for a in arrays)


def softplus_np(z):
    return np.logaddexp(0.0, z)


def cost_np(Z, Y):
    """Reference cross-entropy from logits, in NumPy float64."""
    return float(np.mean(softplus_np(Z) - Y * Z))


# ============================================================================ fixed extremes


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ALL_ACTS)
def test_activation_and_derivative_finite_at_extremes(xp, device, name, dtype):
    act = ACTIVATIONS[name]
    Z = xp.asarray(np.array([EXTREMES]), dtype=getattr(xp, dtype), device=device)
    A, dA = act.g(Z, xp=xp), act.dg(Z, xp=xp)
    assert finite(A), f"{name}(Z) is not finite: {xpnet.to_numpy(A)}"
    assert finite(dA), f"{name}'(Z) is not finite: {xpnet.to_numpy(dA)}"
    if name in ("sigmoid", "tanh"):
        lo = 0.0 if name == "sigmoid" else -1.0
        a = xpnet.to_numpy(A)
        assert np.all((a >= lo) & (a <= 1.0))


def test_sigmoid_saturates_exactly_without_nan(xp, device):
    Z = xp.asarray(np.array([[-1e4, 0.0, 1e4]]), dtype=xp.float64, device=device)
    s = xpnet.to_numpy(ACTIVATIONS["sigmoid"].g(Z, xp=xp))
    np.testing.assert_array_equal(s, [[0.0, 0.5, 1.0]])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cost_finite_at_extremes_via_logits_and_clip(xp, device, dtype):
    z = np.array(EXTREMES)
    Z = np.concatenate([z, z])[None, :]
    Y = np.concatenate([np.zeros_like(z), np.ones_like(z)])[None, :]
    Zb = xp.asarray(Z, dtype=getattr(xp, dtype), device=device)
    AL = ACTIVATIONS["sigmoid"].g(Zb, xp=xp)
    Yb = xp.asarray(Y, dtype=getattr(xp, dtype), device=device)
    J_logits = xpnet.cost(AL, Yb, logits=Zb)
    J_clip = xpnet.cost(AL, Yb)
    assert finite(J_logits) and finite(J_clip)
    # The logits form is exact: 1e4 of loss for a confident wrong answer, not inf.
    rtol = 1e-12 if dtype == "float64" else 1e-5
    xpx.testing.assert_close(
        J_logits, xp.asarray(cost_np(Z, Y), dtype=getattr(xp, dtype), device=device), rtol=rtol
    )
    # The clip bounds each term by -log(eps): finite, and never above the exact cost.
    assert float(xpnet.to_numpy(J_clip)) <= cost_np(Z, Y) * (1 + rtol)


@pytest.mark.parametrize("hidden", ALL_ACTS)
def test_gradients_finite_at_extremes(xp, device, hidden):
    """A [1, 3, 1] network whose hidden pre-activations Z[1] span [-1e4, 1e4]."""
    X = np.array([EXTREMES])
    m = X.shape[1]
    Y = (np.arange(m) % 2).reshape(1, m).astype(np.float64)
    params = {
        "W1": xp.asarray([[1.0], [-1.0], [0.5]], dtype=xp.float64, device=device),
        "b1": xp.asarray(np.zeros((3, 1)), dtype=xp.float64, device=device),
        "W2": xp.asarray([[1.0, -2.0, 3.0]], dtype=xp.float64, device=device),
        "b2": xp.asarray([[0.5]], dtype=xp.float64, device=device),
    }
    AL, caches = xpnet.forward(
        xp.asarray(X, dtype=xp.float64, device=device), params, [hidden, "sigmoid"]
    )
    J = xpnet.cost(AL, xp.asarray(Y, dtype=xp.float64, device=device), logits=caches[-1].Z)
    grads = xpnet.backward(AL, xp.asarray(Y, dtype=xp.float64, device=device), caches, l2=0.1)
    assert finite(AL) and finite(J)
    assert set(grads) == {"dW1", "db1", "dW2", "db2"}
    for k, g in grads.items():
        assert finite(g), f"{k} is not finite with hidden={hidden}: {xpnet.to_numpy(g)}"


# ============================================================================ properties


z_values = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)


@settings(PROPERTY, max_examples=10)
@given(
    z=st.lists(z_values, min_size=12, max_size=12),  # one shape: no JAX recompiles
    labels=st.lists(st.integers(0, 1), min_size=12, max_size=12),
    w=st.floats(min_value=-3.0, max_value=3.0),
)
def test_property_everything_finite_for_any_logits_and_labels(xp, device, z, labels, w):
    """Logistic regression with Z = w·x + b spanning [-1e4, 1e4] (x = z / w); any labels."""
    m = len(z)
    Z = np.array([z])
    Y = np.array([labels[:m]], dtype=np.float64)
    Zb, Yb = (
        xp.asarray(Z, dtype=xp.float64, device=device),
        xp.asarray(Y, dtype=xp.float64, device=device),
    )
    outs = [f(Zb, xp=xp) for a in ALL_ACTS for f in (ACTIVATIONS[a].g, ACTIVATIONS[a].dg)]
    assert finite(*outs), "an activation or derivative is not finite"
    # x = z so that Z[1] = 1·x + 0 = z exactly; a hidden layer scaled by w feeds it.
    params = {
        "W1": xp.asarray([[1.0]], dtype=xp.float64, device=device),
        "b1": xp.asarray([[0.0]], dtype=xp.float64, device=device),
        "W2": xp.asarray([[w]], dtype=xp.float64, device=device),
        "b2": xp.asarray([[0.0]], dtype=xp.float64, device=device),
    }
    for hidden in ALL_ACTS:
        AL, caches = xpnet.forward(Zb, params, [hidden, "sigmoid"])
        J_logits = xpnet.cost(AL, Yb, logits=caches[-1].Z)
        J_clip = xpnet.cost(AL, Yb)
        grads = xpnet.backward(AL, Yb, caches)
        assert finite(J_logits, J_clip, *grads.values()), hidden
    AL, caches = xpnet.forward(Zb, {"W1": params["W1"], "b1": params["b1"]}, ["sigmoid"])
    xpx.testing.assert_close(
        xpnet.cost(AL, Yb, logits=caches[-1].Z),
        xp.asarray(cost_np(Z, Y), dtype=xp.float64, device=device),
        rtol=1e-12,
        atol=1e-300,
    )


def _forward_np(X, params, acts):
    A = X
    for k, act in enumerate(acts, start=1):
        Z = params[f"W{k}"] @ A + params[f"b{k}"]
        A = {
            "sigmoid": lambda z: 0.5 * (1 + np.tanh(z / 2)),
            "tanh": np.tanh,
            "linear": lambda z: z,
        }[act](Z)
    return Z


def _cost_np(X, Y, params, acts, l2):
    m = X.shape[1]
    J = cost_np(_forward_np(X, params, acts), Y)
    L = len(acts)
    return J + l2 / (2 * m) * sum(np.sum(params[f"W{k}"] ** 2) for k in range(1, L + 1))


SMOOTH = ["sigmoid", "tanh", "linear"]


@settings(PROPERTY, max_examples=15)
@given(
    seed=st.integers(0, 2**31 - 1),
    hidden=st.sampled_from(SMOOTH),
    depth=st.integers(1, 3),
    scale=st.floats(min_value=0.1, max_value=5.0),
    l2=st.sampled_from([0.0, 0.7]),
)
def test_property_gradients_match_central_differences(xp, device, seed, hidden, depth, scale, l2):
    """Where the cost is smooth, backward equals central finite differences of J."""
    rng = np.random.default_rng(seed)
    dims = [3] + list(rng.integers(1, 4, size=depth - 1)) + [1]
    m = 6
    X = rng.standard_normal((3, m)) * scale
    Y = rng.integers(0, 2, size=(1, m)).astype(np.float64)
    host = {}
    for k in range(1, len(dims)):
        host[f"W{k}"] = rng.standard_normal((dims[k], dims[k - 1])) * scale
        host[f"b{k}"] = rng.standard_normal((dims[k], 1))
    acts = [hidden] * (len(dims) - 2) + ["sigmoid"]
    params = {k: xp.asarray(v, dtype=xp.float64, device=device) for k, v in host.items()}
    AL, caches = xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), params, acts)
    grads = xpnet.backward(AL, xp.asarray(Y, dtype=xp.float64, device=device), caches, l2=l2)
    numeric = numeric_gradients(lambda p: _cost_np(X, Y, p, acts, l2), host)
    for key, num in numeric.items():
        got = xpnet.to_numpy(grads[key])
        np.testing.assert_allclose(got, num, rtol=1e-5, atol=1e-6 * max(1.0, scale**depth))


# ============================================================================ divergence


def _problem(m=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, m)) * 10
    Y = (X[:1] > 0).astype(np.float64)
    return X, Y


def _fit(xp, backend, device, X, Y, **kw):
    kw = {"num_iterations": 6, "record_every": 1, **kw}
    net = xpnet.NeuralNetwork([3, 4, 1], backend=backend.library, device=device, **kw)
    return net.fit(
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(Y, dtype=xp.float64, device=device),
    )


def _assert_same_params(a, b):
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(xpnet.to_numpy(a[k]), xpnet.to_numpy(b[k]), err_msg=k)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("lr", [1e100, 1e200])
def test_divergence_raises_with_iteration_and_keeps_last_finite_params(xp, backend, device, lr):
    X, Y = _problem()
    net = xpnet.NeuralNetwork(
        [3, 4, 1], learning_rate=lr, num_iterations=50, record_every=1,
        backend=backend.library, device=device,
    )  # fmt: skip
    with pytest.raises(xpnet.DivergenceError, match=r"at iteration \d+") as info:
        net.fit(
            xp.asarray(X, dtype=xp.float64, device=device),
            xp.asarray(Y, dtype=xp.float64, device=device),
        )
    assert isinstance(info.value, FloatingPointError)
    assert "learning_rate" in str(info.value) and f"after {net.n_iter_} iterations" in str(
        info.value
    )
    assert all(finite(p) for p in net.params_.values())
    # params_ are exactly those of a fit stopped after n_iter_ iterations, whose cost was finite.
    if net.n_iter_ > 0:
        ref = _fit(xp, backend, device, X, Y, learning_rate=lr, num_iterations=net.n_iter_)
        _assert_same_params(net.params_, ref.params_)
    assert all(np.isfinite(c) for _, c in net.costs_)
    assert finite(net.predict_proba(xp.asarray(X, dtype=xp.float64, device=device)))
    # costs_ describes the run params_ holds: the epochs before n_iter_, so that a
    # continued fit records epoch n_iter_ once (it was listed twice before).
    assert [e for e, _ in net.costs_] == list(range(net.n_iter_))
    net.learning_rate, net.warm_start, net.num_iterations = 1e-3, True, 2
    net.fit(
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(Y, dtype=xp.float64, device=device),
    )
    assert [e for e, _ in net.costs_] == list(range(net.n_iter_)) and net.n_iter_ >= 2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_in_the_last_update_is_caught(xp, backend, device):
    """With one iteration the cost is computed before the update only: the final parameters
    overflowing to inf must still raise, not end the fit with inf in params_."""
    X, Y = _problem()
    net = xpnet.NeuralNetwork([3, 4, 1], learning_rate=1e308, num_iterations=1,
                              backend=backend.library, device=device)  # fmt: skip
    with pytest.raises(xpnet.DivergenceError, match="iteration 0"):
        net.fit(
            xp.asarray(X, dtype=xp.float64, device=device),
            xp.asarray(Y, dtype=xp.float64, device=device),
        )
    assert net.n_iter_ == 0
    ref = xpnet.initialize_parameters([3, 4, 1], "he", seed=0)
    _assert_same_params(net.params_, ref)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_with_mini_batches_is_told_in_epochs():
    """n_iter_ counts epochs with mini-batches; the message said "iteration" for them."""
    X, Y = _problem()
    net = xpnet.NeuralNetwork([3, 4, 1], learning_rate=1e300, num_iterations=4, batch_size=5,
                              record_every=1)  # fmt: skip
    with pytest.raises(xpnet.DivergenceError, match=r"at epoch 0 .* after 0 epochs") as info:
        net.fit(X, Y)
    assert "iteration" not in str(info.value)
    one = xpnet.NeuralNetwork([3, 4, 1], learning_rate=1e308, num_iterations=1, batch_size=20)
    with pytest.raises(xpnet.DivergenceError, match=r"last update \(epoch 0,.* after 0 epochs"):
        one.fit(X, Y)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_continued_run_that_diverges_at_once_says_where_it_went_back_to():
    """No finite cost in the continued run: params_ go back to where it started (after
    101 iterations), and the message said "after 0 iterations"."""
    X, Y = _problem()
    net = xpnet.NeuralNetwork([3, 4, 1], num_iterations=101, record_every=10, warm_start=True,
                              learning_rate=0.01).fit(X, Y)  # fmt: skip
    net.num_iterations, net.learning_rate = 20, 1e300
    with pytest.raises(xpnet.DivergenceError, match="keeps the parameters after 101 iterations"):
        net.fit(X, Y)
    assert net.n_iter_ == 101


# ============================================================================ interruption


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("batch_size", [None, 5])
def test_an_interrupted_diverging_run_keeps_its_last_finite_parameters(
    xp, backend, device, monkeypatch, batch_size
):
    """Interrupted after its parameters overflowed but before a cost read saw it, a run
    goes back to its last recorded finite epoch, as a DivergenceError does (params_ held
    the NaN/inf step and the model was lost)."""
    X, Y = _problem()
    real = xpnet.propagation.IMPLS["vectorized"]
    calls = {"n": 0}

    def interrupting_forward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # 3 updates with learning_rate=1e300 have overflowed
            raise KeyboardInterrupt
        return real.forward(*args, **kwargs)

    monkeypatch.setitem(
        xpnet.propagation.IMPLS, "vectorized", real._replace(forward=interrupting_forward)
    )
    net = xpnet.NeuralNetwork([3, 4, 1], num_iterations=10, record_every=100, learning_rate=1e300,
                              batch_size=batch_size, shuffle=False, backend=backend.library,
                              device=device, compile=False)  # fmt: skip
    with pytest.raises(KeyboardInterrupt) as info:
        net.fit(
            xp.asarray(X, dtype=xp.float64, device=device),
            xp.asarray(Y, dtype=xp.float64, device=device),
        )
    monkeypatch.undo()
    # back to the start of epoch 0, the last recorded epoch with a finite cost (or none yet)
    assert net.n_iter_ == 0 and net.costs_ == []
    _assert_same_params(net.params_, xpnet.initialize_parameters([3, 4, 1], "he", seed=0))
    if hasattr(info.value, "__notes__"):
        unit = "iteration" if batch_size is None else "epoch"
        assert (
            f"had become NaN or infinite (lower learning_rate?); params_ holds those of {unit} 0"
            in info.value.__notes__[0]
        )


@pytest.mark.parametrize("k", [0, 3])
def test_keyboard_interrupt_keeps_last_completed_iteration(xp, backend, device, monkeypatch, k):
    X, Y = _problem()
    impls = xpnet.propagation.IMPLS
    real = impls["vectorized"]
    calls = {"n": 0}

    def interrupting_forward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == k + 1:  # the (k+1)-th forward pass, i.e. during iteration k
            raise KeyboardInterrupt
        return real.forward(*args, **kwargs)

    monkeypatch.setitem(impls, "vectorized", real._replace(forward=interrupting_forward))
    # compile=False: the interrupt is injected through the Python forward, which a
    # compiled step (jax.jit) calls once while tracing, not once per iteration.
    net = xpnet.NeuralNetwork([3, 4, 1], num_iterations=10, record_every=1, learning_rate=0.01,
                              backend=backend.library, device=device, compile=False)  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        net.fit(
            xp.asarray(X, dtype=xp.float64, device=device),
            xp.asarray(Y, dtype=xp.float64, device=device),
        )
    monkeypatch.undo()

    assert net.n_iter_ == k
    assert [i for i, _ in net.costs_] == list(range(k))
    if k == 0:
        _assert_same_params(net.params_, xpnet.initialize_parameters([3, 4, 1], "he", seed=0))
    else:
        ref = _fit(xp, backend, device, X, Y, learning_rate=0.01, num_iterations=k, compile=False)
        _assert_same_params(net.params_, ref.params_)
        assert net.costs_ == ref.costs_
    pred = xpnet.to_numpy(net.predict(xp.asarray(X, dtype=xp.float64, device=device)))
    assert pred.shape == (1, X.shape[1]) and set(np.unique(pred)) <= {0.0, 1.0}
