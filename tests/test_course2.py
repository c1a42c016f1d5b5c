"""The second course: optimizers, decay, mini-batches, dropout, gradient checking, and the
optimization assignment reproduced through the public API.

Every backend is compared with a NumPy float64 reference written here, independently of
xpnet's kernels and loop.
"""

from __future__ import annotations

import array_api_extra as xpx
import numpy as np
import pytest
import reference as ref
from helpers import assert_on, tol

import xpnet
from xpnet.datasets import moons

# --------------------------------------------------------------------------- the reference


def ref_forward(X, params, acts, masks=None):
    """Forward pass with inverted dropout: A[l] = g(Z[l]) * D[l] / keep_prob."""
    A, cache = X, []
    for l, name in enumerate(acts, start=1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        G = ref.g(name, Z)
        D = None if masks is None else masks[l - 1]
        cache.append((A, Z, D))
        A = G if D is None else G * D
    return A, cache


def ref_cost(AL, Y, params, l2):
    m = Y.shape[1]
    J = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    return J + l2 / (2 * m) * sum(np.sum(p**2) for k, p in params.items() if k[0] == "W")


def ref_backward(AL, Y, cache, params, acts, l2):
    m = Y.shape[1]
    grads, dZ = {}, AL - Y
    for l in range(len(acts), 0, -1):
        A_prev, _, _ = cache[l - 1]
        grads[f"dW{l}"] = dZ @ A_prev.T / m + l2 / m * params[f"W{l}"]
        grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True) / m
        grads[f"dA{l - 1}"] = params[f"W{l}"].T @ dZ
        if l > 1:
            _, Z_below, D_below = cache[l - 2]
            dA = grads[f"dA{l - 1}"] if D_below is None else grads[f"dA{l - 1}"] * D_below
            dZ = dA * ref.g_prime(acts[l - 2], Z_below)
    return grads


def ref_update(name, params, grads, state, lr, beta=0.9, beta1=0.9, beta2=0.999, eps=1e-8):
    """The course's update formulas, on dicts of host arrays."""
    t = state["t"] + 1
    new_p, new_s = {}, {"t": t}
    for k, p in params.items():
        g = grads[f"d{k}"]
        if name == "gd":
            new_p[k] = p - lr * g
        elif name == "momentum":
            new_s[f"vd{k}"] = beta * state[f"vd{k}"] + (1 - beta) * g
            new_p[k] = p - lr * new_s[f"vd{k}"]
        elif name == "rmsprop":
            new_s[f"sd{k}"] = beta2 * state[f"sd{k}"] + (1 - beta2) * g**2
            new_p[k] = p - lr * g / (np.sqrt(new_s[f"sd{k}"]) + eps)
        else:  # adam
            v = beta1 * state[f"vd{k}"] + (1 - beta1) * g
            s = beta2 * state[f"sd{k}"] + (1 - beta2) * g**2
            new_s[f"vd{k}"], new_s[f"sd{k}"] = v, s
            v_hat, s_hat = v / (1 - beta1**t), s / (1 - beta2**t)
            new_p[k] = p - lr * v_hat / (np.sqrt(s_hat) + eps)
    return new_p, new_s


def ref_state(name, params):
    keep = {"gd": "", "momentum": "v", "rmsprop": "s", "adam": "vs"}[name]
    state = {f"{c}d{k}": np.zeros_like(p) for c in keep for k, p in params.items()}
    state["t"] = 0
    return state


def ref_lr(epoch, alpha0, decay, rate=1.0, interval=1000):
    if decay is None or epoch == 0:
        return alpha0
    e = epoch - 1
    if decay == "inverse_time":
        return alpha0 / (1 + rate * e)
    if decay == "scheduled":
        return alpha0 / (1 + rate * np.floor(e / interval))
    return decay(alpha0, e)


def ref_train(X, Y, params, acts, *, optimizer, epochs, lr, batch_size=None, decay=None,
              l2=0.0, rate=1.0, interval=1000, masks_of=None, **hyper):  # fmt: skip
    """The course's loop: epoch e shuffles with RandomState(11 + e) (shuffle='course'), and
    records (1/m) Σ_batches m_b J_b with J_b computed before the batch's update."""
    m = X.shape[1]
    state = ref_state(optimizer, params)
    costs = []
    for e in range(epochs):
        alpha = ref_lr(e, lr, decay, rate, interval)
        if batch_size is None:
            batches = [(X, Y)]
        else:
            perm = np.random.RandomState(11 + e).permutation(m)
            Xs, Ys = X[:, perm], Y[:, perm]
            batches = [(Xs[:, k : k + batch_size], Ys[:, k : k + batch_size])
                       for k in range(0, m, batch_size)]  # fmt: skip
        total = 0.0
        for Xb, Yb in batches:
            masks = None if masks_of is None else masks_of(Xb.shape[1])
            AL, cache = ref_forward(Xb, params, acts, masks)
            total += ref_cost(AL, Yb, params, l2) * Xb.shape[1]
            grads = ref_backward(AL, Yb, cache, params, acts, l2)
            params, state = ref_update(optimizer, params, grads, state, alpha, **hyper)
        costs.append(total / m)
    return params, state, costs


def _problem(dims=(3, 5, 4, 1), m=37, seed=0):
    X, Y, params = ref.random_problem(list(dims), m, seed)
    return X, Y, params


# --------------------------------------------------------------------------- the formulas

OPTIMIZERS = ["gd", "momentum", "rmsprop", "adam"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_updates_match_the_reference(xp, device, name, dtype):
    rng = np.random.default_rng(1)
    params = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal((4, 1))}
    hyper = {"beta": 0.8, "beta1": 0.85, "beta2": 0.99, "epsilon": 1e-6}
    update = xpnet.optimizers.optimizer_update(name, **hyper, xp=xp)
    p = {k: xp.asarray(a, dtype=getattr(xp, dtype), device=device) for k, a in params.items()}
    state = xpnet.optimizers.initialize_optimizer_state(name, p, xp=xp)
    lr = xp.asarray(0.05, dtype=p["W1"].dtype, device=device)
    r_p, r_s = params, ref_state(name, params)
    for _ in range(3):
        grads = {f"d{k}": rng.standard_normal(a.shape) for k, a in params.items()}
        p, state = update(
            p,
            {k: xp.asarray(g, dtype=getattr(xp, dtype), device=device) for k, g in grads.items()},
            state,
            lr,
        )
        r_p, r_s = ref_update(name, r_p, grads, r_s, 0.05, beta=0.8, beta1=0.85, beta2=0.99,
                              eps=1e-6)  # fmt: skip
    for k in params:
        assert_on(p[k], xp, device)
        xpx.testing.assert_close(
            p[k],
            xp.asarray(r_p[k], dtype=getattr(xp, dtype), device=device),
            rtol=tol(dtype),
            atol=tol(dtype),
        )
    assert set(state) == set(r_s)
    for k in r_s:
        xpx.testing.assert_close(
            state[k],
            xp.asarray(r_s[k], dtype=getattr(xp, dtype), device=device),
            rtol=tol(dtype),
            atol=tol(dtype),
        )


def test_adam_counts_t_from_one():
    """After one step, v̂ = v / (1 - β₁) = g: the first Adam step moves each weight by
    α g / (|g| + ε) ≈ α sign(g)."""
    p = {"W1": np.array([[1.0, -2.0]]), "b1": np.zeros((1, 1))}
    g = {"dW1": np.array([[0.3, -4.0]]), "db1": np.array([[1e-3]])}
    xp = xpnet.get_namespace("numpy")
    state = xpnet.optimizers.initialize_optimizer_state("adam", p, xp=xp)
    new, state = xpnet.optimizers.adam_update(p, g, state, 0.1, beta1=0.9, beta2=0.999,
                                              epsilon=1e-8, xp=xp)  # fmt: skip
    assert float(state["t"]) == 1.0
    np.testing.assert_allclose(new["W1"], [[0.9, -1.9]], rtol=1e-7)
    np.testing.assert_allclose(new["b1"], [[-0.1]], rtol=1e-4)


def test_schedules():
    lr = xpnet.schedules.learning_rate_at
    assert lr(0, 0.1, "inverse_time", decay_rate=0.5) == 0.1
    assert lr(1, 0.1, "inverse_time", decay_rate=0.5) == 0.1  # epoch 1 uses decay(α₀, 0)
    assert lr(3, 0.1, "inverse_time", decay_rate=0.5) == pytest.approx(0.1 / (1 + 0.5 * 2))
    assert lr(0, 0.1, "scheduled", decay_rate=1.0, time_interval=10) == 0.1
    assert lr(10, 0.1, "scheduled", decay_rate=1.0, time_interval=10) == 0.1  # ⌊9/10⌋ = 0
    assert lr(11, 0.1, "scheduled", decay_rate=1.0, time_interval=10) == pytest.approx(0.05)
    assert lr(5, 0.1, lambda a, e: a * 0.5**e) == pytest.approx(0.1 * 0.5**4)
    assert lr(5, 0.1, None) == 0.1
    with pytest.raises(ValueError, match="learning_rate_decay returned"):
        lr(2, 0.1, lambda a, e: -1.0)


# --------------------------------------------------------------------------- training


CASES = [
    ("gd", None, None),
    ("momentum", 8, "inverse_time"),
    ("rmsprop", 10, "scheduled"),
    ("adam", 16, None),
    ("adam", None, "callable"),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("optimizer", "batch_size", "decay"), CASES)
def test_fit_matches_the_reference_loop(xp, backend, device, optimizer, batch_size, decay, dtype):
    X, Y, params = _problem()
    acts = ["tanh", "tanh", "sigmoid"]
    decay_fn = (lambda a, e: a * 0.9**e) if decay == "callable" else decay
    kw = dict(optimizer=optimizer, batch_size=batch_size, learning_rate_decay=decay_fn,
              decay_rate=0.3, time_interval=2, l2=0.05, learning_rate=0.02, beta=0.85)  # fmt: skip
    epochs = 5
    net = xpnet.NeuralNetwork(
        [3, 5, 4, 1], hidden_activation="tanh", num_iterations=epochs, record_every=1,
        shuffle="course", backend=backend.library, device=device, dtype=dtype, **kw,
    )  # fmt: skip
    net.fit(
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(Y, dtype=xp.float64, device=device),
        initial_params=params,
    )
    r_params, r_state, r_costs = ref_train(
        X, Y, params, acts, optimizer=optimizer, epochs=epochs, lr=0.02, batch_size=batch_size,
        decay=decay_fn, l2=0.05, rate=0.3, interval=2, beta=0.85,
    )  # fmt: skip
    t = tol(dtype)
    np.testing.assert_allclose([c for _, c in net.costs_], r_costs, rtol=t, atol=t)
    for k in params:
        assert_on(net.params_[k], xp, device)
        xpx.testing.assert_close(
            net.params_[k],
            xp.asarray(r_params[k], dtype=getattr(xp, dtype), device=device),
            rtol=t * 10,
            atol=t * 10,
        )
    for k in r_state:
        xpx.testing.assert_close(
            net.opt_state_[k],
            xp.asarray(r_state[k], dtype=getattr(xp, dtype), device=device),
            rtol=t * 10,
            atol=t * 10,
        )
    steps = epochs * (1 if batch_size is None else -(-X.shape[1] // batch_size))
    assert net.t_ == steps and net.n_iter_ == epochs


@pytest.mark.parametrize("impl", ["vectorized", "per_example", "loops"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dropout_forward_backward_match_the_reference(xp, device, impl, dtype):
    X, Y, params = _problem(dims=(3, 4, 3, 1), m=6)
    acts = ["tanh", "relu", "sigmoid"]
    p = {k: xp.asarray(a, dtype=getattr(xp, dtype), device=device) for k, a in params.items()}
    masks = xpnet.dropout_masks(p, 6, [0.6, 0.8], seed=4)
    assert masks[-1] is None and tuple(masks[0].shape) == (4, 6)
    host = [None if D is None else xpnet.to_numpy(D).astype(np.float64) for D in masks]
    for D, kp in zip(host[:2], (0.6, 0.8), strict=True):  # values 0 or 1/keep_prob only
        kept = D[D != 0]
        np.testing.assert_allclose(kept, 1 / kp, rtol=tol(dtype))
    assert 0 < np.count_nonzero(host[0]) < host[0].size  # P(all 24 kept at 0.6) = 5e-6
    AL, caches = xpnet.forward(
        xp.asarray(X, dtype=getattr(xp, dtype), device=device), p, acts, impl=impl, masks=masks
    )
    grads = xpnet.backward(
        AL,
        xp.asarray(Y, dtype=getattr(xp, dtype), device=device),
        caches,
        0.1,
        impl=impl,
        return_dA=True,
    )
    r_AL, r_cache = ref_forward(X, params, acts, host)
    r_grads = ref_backward(r_AL, Y, r_cache, params, acts, 0.1)
    t = tol(dtype)
    xpx.testing.assert_close(
        AL, xp.asarray(r_AL, dtype=getattr(xp, dtype), device=device), rtol=t, atol=t
    )
    assert set(grads) == set(r_grads)
    for k, g in r_grads.items():
        assert_on(grads[k], xp, device)
        xpx.testing.assert_close(
            grads[k], xp.asarray(g, dtype=getattr(xp, dtype), device=device), rtol=t, atol=t
        )


def test_dropout_in_fit_on_numpy_matches_the_courses_legacy_masks():
    """With seed=RandomState(s): weights are randn draws, then every step draws one
    rand(n[l], m_batch) per dropping layer from the same stream (the course's order)."""
    X, Y = moons(m=40, seed=2)
    acts = ["relu", "relu", "sigmoid"]
    net = xpnet.NeuralNetwork([2, 5, 3, 1], seed=np.random.RandomState(7), keep_prob=[0.7, 0.9],
                              optimizer="adam", batch_size=16, shuffle="course",
                              num_iterations=4, record_every=1, learning_rate=0.01)  # fmt: skip
    net.fit(X, Y)
    rs = np.random.RandomState(7)
    params = {}
    for l, (n, n_prev) in enumerate([(5, 2), (3, 5), (1, 3)], start=1):
        params[f"W{l}"] = rs.randn(n, n_prev) * np.sqrt(2 / n_prev)
        params[f"b{l}"] = np.zeros((n, 1))

    def masks_of(mb):
        return [(rs.rand(5, mb) < 0.7) / 0.7, (rs.rand(3, mb) < 0.9) / 0.9, None]

    r_params, _, r_costs = ref_train(X, Y, params, acts, optimizer="adam", epochs=4, lr=0.01,
                                     batch_size=16, masks_of=masks_of)  # fmt: skip
    np.testing.assert_allclose([c for _, c in net.costs_], r_costs, rtol=1e-10)
    for k in params:
        np.testing.assert_allclose(net.params_[k], r_params[k], rtol=1e-9, atol=1e-12)


def test_dropout_is_seeded_and_prediction_never_drops(xp, backend, device):
    X, Y = moons(m=60, seed=5)
    kw = dict(keep_prob=0.5, num_iterations=3, record_every=1, batch_size=20, optimizer="adam",
              backend=backend.library, device=device, learning_rate=0.05)  # fmt: skip
    a = xpnet.NeuralNetwork([2, 8, 1], seed=1, **kw).fit(X, Y)
    b = xpnet.NeuralNetwork([2, 8, 1], seed=1, **kw).fit(X, Y)
    c = xpnet.NeuralNetwork([2, 8, 1], seed=2, **kw).fit(X, Y)
    nodrop = xpnet.NeuralNetwork([2, 8, 1], seed=1, **{**kw, "keep_prob": 1.0}).fit(X, Y)
    assert a.costs_ == b.costs_
    assert a.costs_ != nodrop.costs_  # the masks changed training
    # another seed gives another run (its weights differ too, so compare the masks' effect)
    assert a.costs_ != c.costs_
    Xd = xp.asarray(X, dtype=xp.float64, device=device)
    p1, p2 = a.predict_proba(Xd), a.predict_proba(Xd)
    xpx.testing.assert_close(p1, p2, rtol=0)
    host = {k: xpnet.to_numpy(v) for k, v in a.params_.items()}
    r_AL, _ = ref_forward(X, host, ["relu", "sigmoid"])
    xpx.testing.assert_close(p1, xp.asarray(r_AL, dtype=xp.float64, device=device), rtol=1e-10)


# --------------------------------------------------------------------------- gradient checking


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
@pytest.mark.parametrize("L", [1, 2, 4])
@pytest.mark.parametrize("l2", [0.0, 0.7])
@pytest.mark.parametrize("dropout", [False, True])
def test_public_gradient_check_passes(activation, L, l2, dropout):
    dims = [4, 5, 4, 3, 1][-(L + 1) :] if L < 4 else [4, 5, 4, 3, 1]
    X, Y, params = ref.random_problem(dims, 9, seed=L)
    acts = [activation] * (L - 1) + ["sigmoid"]
    masks = xpnet.dropout_masks(params, 9, 0.7, seed=3) if dropout and L > 1 else None
    diff = xpnet.gradient_check(params, X, Y, acts, l2=l2, masks=masks)
    assert diff < 1e-7, diff


def test_gradient_check_finds_a_wrong_backward(monkeypatch):
    X, Y, params = ref.random_problem([3, 4, 1], 8, seed=0)
    real = xpnet.propagation.IMPLS["vectorized"]

    def wrong_backward(*args, **kwargs):
        grads = real.backward(*args, **kwargs)
        return {**grads, "dW1": grads["dW1"] * 1.01}  # a 1% error in one gradient

    monkeypatch.setitem(
        xpnet.propagation.IMPLS, "vectorized", real._replace(backward=wrong_backward)
    )
    diff = xpnet.gradient_check(params, X, Y, ["tanh", "sigmoid"])
    assert diff > 1e-4, diff


def test_gradient_check_on_every_backend(xp, device):
    X, Y, params = ref.random_problem([3, 4, 1], 6, seed=2)
    p = {k: xp.asarray(a, dtype=xp.float64, device=device) for k, a in params.items()}
    assert (
        xpnet.gradient_check(
            p,
            xp.asarray(X, dtype=xp.float64, device=device),
            xp.asarray(Y, dtype=xp.float64, device=device),
            ["tanh", "sigmoid"],
            l2=0.2,
        )
        < 1e-7
    )


# --------------------------------------------------------------------------- course fidelity


def test_moons_is_the_assignment_data():
    rng = np.random.RandomState(3)
    t = np.linspace(0, np.pi, 150)
    pts = np.concatenate([np.stack([np.cos(t), np.sin(t)], 1),
                          np.stack([1 - np.cos(t), 1 - np.sin(t) - 0.5], 1)])  # fmt: skip
    lab = np.r_[np.zeros(150), np.ones(150)]
    order = np.arange(300)
    rng.shuffle(order)
    pts, lab = pts[order], lab[order]
    pts = pts + rng.normal(scale=0.2, size=(300, 2))
    X, Y = moons()
    np.testing.assert_array_equal(X, pts.T)
    np.testing.assert_array_equal(Y, lab.reshape(1, -1))


def test_circles_are_two_labelled_rings():
    X, Y = xpnet.datasets.circles(m=400, noise=0.0, factor=0.5, seed=0)
    r = np.hypot(X[0], X[1])
    np.testing.assert_allclose(r[Y[0] == 0], 1.0)
    np.testing.assert_allclose(r[Y[0] == 1], 0.5)
    assert X.shape == (2, 400) and Y.sum() == 200


def test_random_state_seed_draws_as_the_course():
    rs = np.random.RandomState(5)
    W = [rs.randn(4, 3) * 0.01, rs.randn(2, 4) * 0.01, rs.randn(1, 2) * 0.01]
    params = xpnet.initialize_parameters([3, 4, 2, 1], "random", seed=np.random.RandomState(5))
    for l, w in enumerate(W, start=1):
        np.testing.assert_array_equal(params[f"W{l}"], w)


COURSE = {  # the optimization assignment: costs at epochs 0, 1000, ..., 4000; accuracy
    "gd": ([0.702405, 0.668101, 0.635288, 0.600491, 0.573367], 0.7166666666666667, {}),
    "momentum": ([0.702413, 0.668167, 0.635388, 0.600591, 0.573444], 0.7166666666666667,
                 {"beta": 0.9}),
    "adam": ([0.702166, 0.167845, 0.141316, 0.138788, 0.136066], 0.9433333333333334,
             {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", list(COURSE))
def test_reproduces_the_optimization_assignment(optimizer):
    costs, accuracy, hyper = COURSE[optimizer]
    X, Y = moons(seed=3)
    net = xpnet.NeuralNetwork(
        [2, 5, 2, 1], hidden_activation="relu", init="he", seed=np.random.RandomState(3),
        optimizer=optimizer, learning_rate=0.0007, batch_size=64, shuffle="course",
        num_iterations=5000, record_every=1000, **hyper,
    )  # fmt: skip
    net.fit(X, Y)
    assert [e for e, _ in net.costs_] == [0, 1000, 2000, 3000, 4000]
    np.testing.assert_allclose([c for _, c in net.costs_], costs, rtol=0, atol=1e-6)
    assert net.score(X, Y) == accuracy


# --------------------------------------------------------------------------- building blocks


def test_building_blocks_match_the_reference(xp, device):
    rng = np.random.default_rng(3)
    A_prev, W, b = (
        rng.standard_normal((3, 5)),
        rng.standard_normal((4, 3)),
        rng.standard_normal((4, 1)),
    )
    Z, lin_cache = xpnet.linear_forward(
        xp.asarray(A_prev, dtype=xp.float64, device=device),
        xp.asarray(W, dtype=xp.float64, device=device),
        xp.asarray(b, dtype=xp.float64, device=device),
    )
    xpx.testing.assert_close(
        Z, xp.asarray(W @ A_prev + b, dtype=xp.float64, device=device), rtol=1e-12
    )
    A, cache = xpnet.linear_activation_forward(
        xp.asarray(A_prev, dtype=xp.float64, device=device),
        xp.asarray(W, dtype=xp.float64, device=device),
        xp.asarray(b, dtype=xp.float64, device=device),
        "tanh",
    )
    xpx.testing.assert_close(
        A, xp.asarray(np.tanh(W @ A_prev + b), dtype=xp.float64, device=device), rtol=1e-12
    )
    dA = rng.standard_normal((4, 5))
    dA_prev, dW, db = xpnet.linear_activation_backward(
        xp.asarray(dA, dtype=xp.float64, device=device), cache, "tanh"
    )
    dZ = dA * (1 - np.tanh(W @ A_prev + b) ** 2)
    xpx.testing.assert_close(
        dW, xp.asarray(dZ @ A_prev.T / 5, dtype=xp.float64, device=device), rtol=1e-10
    )
    xpx.testing.assert_close(
        db,
        xp.asarray(dZ.sum(axis=1, keepdims=True) / 5, dtype=xp.float64, device=device),
        rtol=1e-10,
    )
    xpx.testing.assert_close(
        dA_prev, xp.asarray(W.T @ dZ, dtype=xp.float64, device=device), rtol=1e-10
    )
    dA_prev2, dW2, db2 = xpnet.linear_backward(
        xp.asarray(dZ, dtype=xp.float64, device=device), lin_cache
    )
    xpx.testing.assert_close(
        dW2, xp.asarray(dZ @ A_prev.T / 5, dtype=xp.float64, device=device), rtol=1e-10
    )
    xpx.testing.assert_close(
        dA_prev2, xp.asarray(W.T @ dZ, dtype=xp.float64, device=device), rtol=1e-10
    )
    with pytest.raises(ValueError, match="activation='relu' but the cache was made by 'tanh'"):
        xpnet.linear_activation_backward(
            xp.asarray(dA, dtype=xp.float64, device=device), cache, "relu"
        )


@pytest.mark.parametrize("impl", ["vectorized", "per_example", "loops"])
def test_impls_take_g_prime_from_A(impl):
    """The three impls agree on caches whose A is not g(Z): all take tanh' as 1 - A²."""
    rng = np.random.default_rng(0)
    X, W1, W2 = (
        rng.standard_normal((2, 3)),
        rng.standard_normal((3, 2)),
        rng.standard_normal((1, 3)),
    )
    tanh, sig = xpnet.ACTIVATIONS["tanh"], xpnet.ACTIVATIONS["sigmoid"]
    A1 = rng.uniform(-0.9, 0.9, (3, 3))  # deliberately not tanh(Z1)
    Z1 = W1 @ X
    caches = [xpnet.LayerCache(X, W1, Z1, tanh), xpnet.LayerCache(A1, W2, W2 @ A1, sig)]
    AL = 1 / (1 + np.exp(-(W2 @ A1)))
    Y = np.array([[1.0, 0.0, 1.0]])
    grads = xpnet.backward(AL, Y, caches, impl=impl)
    dZ2 = AL - Y
    dZ1 = (W2.T @ dZ2) * (1 - A1**2)
    np.testing.assert_allclose(grads["dW1"], dZ1 @ X.T / 3, rtol=1e-12)


def test_model_from_params_predicts_without_fit(xp, device):
    X, Y, params = _problem(dims=(3, 4, 1), m=10)
    net = xpnet.NeuralNetwork.from_params(
        {k: xp.asarray(p, dtype=xp.float64, device=device) for k, p in params.items()},
        hidden_activation="tanh",
    )
    assert net.layer_dims == [3, 4, 1] and net.n_iter_ == 0
    r_AL, _ = ref_forward(X, params, ["tanh", "sigmoid"])
    xpx.testing.assert_close(
        net.predict_proba(xp.asarray(X, dtype=xp.float64, device=device)),
        xp.asarray(r_AL, dtype=xp.float64, device=device),
        rtol=1e-10,
    )
    assert_on(net.params_["W1"], xp, device)


@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_model_from_params_keeps_its_own_copy(library):
    """The model shared the caller's arrays: a later in-place change of them (their own
    training step, a ``fill``) silently changed the model's predictions."""
    X, _, params = _problem(dims=(3, 4, 1), m=10)
    if library == "torch":
        torch = pytest.importorskip("torch")
        given = {k: torch.asarray(p) for k, p in params.items()}
    else:
        given = {k: p.copy() for k, p in params.items()}
    net = xpnet.NeuralNetwork.from_params(given, hidden_activation="tanh")
    before = np.asarray(net.predict_proba(X)).copy()
    for p in given.values():
        p[...] = 0.0  # in place, on the caller's side
    np.testing.assert_array_equal(np.asarray(net.predict_proba(X)), before)


# --------------------------------------------------------------------------- continuing a run


def _adam(**kw):
    return xpnet.NeuralNetwork([2, 6, 1], optimizer="adam", batch_size=32, shuffle="course",
                               record_every=1, learning_rate=0.01, **kw)  # fmt: skip


def test_warm_start_and_partial_fit_continue_the_run():
    X, Y = moons(m=100)
    whole = _adam(num_iterations=5).fit(X, Y)
    warm = _adam(num_iterations=3, warm_start=True).fit(X, Y)
    warm.num_iterations = 2
    warm.fit(X, Y)
    part = _adam(num_iterations=3).fit(X, Y)
    part.partial_fit(X, Y)
    part.partial_fit(X, Y)
    for other in (warm, part):
        assert other.costs_ == whole.costs_ and other.n_iter_ == 5 and other.t_ == whole.t_
        for k in whole.params_:
            np.testing.assert_array_equal(other.params_[k], whole.params_[k])
            np.testing.assert_array_equal(other.opt_state_["vd" + k], whole.opt_state_["vd" + k])


def test_saved_optimizer_state_continues_after_loading(tmp_path):
    X, Y = moons(m=100)
    whole = _adam(num_iterations=4).fit(X, Y)
    net = _adam(num_iterations=3).fit(X, Y)
    net.save(tmp_path / "adam.npz")
    back = xpnet.load(tmp_path / "adam.npz")
    assert back.optimizer == "adam" and back.t_ == net.t_ == 12 and back.batch_size == 32
    back.partial_fit(X, Y)
    for k in whole.params_:
        np.testing.assert_array_equal(back.params_[k], whole.params_[k])
    assert back.costs_ == whole.costs_


def test_a_loaded_model_continues_its_shuffles_and_dropout_masks(xp, backend, device, tmp_path):
    """shuffle=True and dropout draw from generators that advance over the run; the file
    keeps where they had got to, so fit, save, load, partial_fit gives the run that
    never stopped, bit for bit, on every backend (the generators restart from the seed
    otherwise: the epoch after loading would reuse epoch 0's shuffle)."""
    X, Y = moons(m=100)
    kw = dict(optimizer="adam", batch_size=32, keep_prob=0.8, record_every=1, seed=3,
              learning_rate=0.01, backend=backend.library, device=device)  # fmt: skip
    X, Y = (xp.asarray(a, device=device) for a in (X, Y))
    whole = xpnet.NeuralNetwork([2, 6, 1], num_iterations=5, **kw).fit(X, Y)
    net = xpnet.NeuralNetwork([2, 6, 1], num_iterations=3, **kw).fit(X, Y)
    net.save(tmp_path / "run.npz")
    back = xpnet.load(tmp_path / "run.npz", backend=backend.library, device=device)
    back.partial_fit(X, Y)
    back.partial_fit(X, Y)
    assert back.costs_ == whole.costs_ and back.n_iter_ == 5
    for k in whole.params_:
        np.testing.assert_array_equal(xpnet.to_numpy(back.params_[k]),
                                      xpnet.to_numpy(whole.params_[k]))  # fmt: skip


def test_generator_states_from_a_file_go_only_where_they_apply(tmp_path):
    """A NumPy run's dropout stream cannot drive torch's generator: loaded on torch, the
    shuffles continue (host generator) and the masks start a new stream."""
    torch = pytest.importorskip("torch")
    X, Y = moons(m=60)
    net = xpnet.NeuralNetwork([2, 4, 1], batch_size=16, keep_prob=0.5, num_iterations=2,
                              record_every=1).fit(X, Y)  # fmt: skip
    net.save(tmp_path / "m.npz")
    back = xpnet.load(tmp_path / "m.npz", backend="torch")
    dropout, shuffle = back._rngs
    assert isinstance(dropout, torch.Generator)
    assert shuffle.bit_generator.state == net._rngs[1].bit_generator.state
    back.partial_fit(X, Y)  # trains on torch with the new stream
    assert back.n_iter_ == 3


def test_callable_decay_cannot_be_saved(tmp_path):
    X, Y = moons(m=20)
    net = _adam(num_iterations=1, learning_rate_decay=lambda a, e: a).fit(X, Y)
    with pytest.raises(ValueError, match="learning_rate_decay is a Python callable"):
        net.save(tmp_path / "m.npz")


def test_keyboard_interrupt_mid_epoch_keeps_params_and_optimizer_state(
    xp, backend, device, monkeypatch
):
    X, Y = moons(m=100)
    real = xpnet.propagation.IMPLS["vectorized"]
    calls = {"n": 0}

    def interrupting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 10:  # epoch 2 (4 batches per epoch), its second batch
            raise KeyboardInterrupt
        return real.forward(*args, **kwargs)

    monkeypatch.setitem(xpnet.propagation.IMPLS, "vectorized", real._replace(forward=interrupting))
    # compile=False: the interrupt is injected through the Python forward, which a
    # compiled step (jax.jit) calls once while tracing, not once per batch.
    net = _adam(num_iterations=5, backend=backend.library, device=device, compile=False)
    with pytest.raises(KeyboardInterrupt):
        net.fit(
            xp.asarray(X, dtype=xp.float64, device=device),
            xp.asarray(Y, dtype=xp.float64, device=device),
        )
    monkeypatch.undo()
    assert net.n_iter_ == 2 and net.t_ == 9 and [e for e, _ in net.costs_] == [0, 1]
    # the state is the one of 9 completed steps: replaying them gives the same arrays
    ref_net = _adam(num_iterations=2).fit(X, Y)
    # then the first batch of epoch 2 under the course's shuffle, as a one-step epoch
    perm = np.random.RandomState(13).permutation(100)[:32]
    ref_net.batch_size, ref_net.shuffle = 32, False
    ref_net.num_iterations = 1
    ref_net.warm_start = True
    ref_net.fit(X[:, perm], Y[:, perm])
    for k in ref_net.params_:
        xpx.testing.assert_close(
            net.params_[k],
            xp.asarray(ref_net.params_[k], dtype=xp.float64, device=device),
            rtol=1e-10,
            atol=1e-12,
        )
        xpx.testing.assert_close(
            net.opt_state_["sd" + k],
            xp.asarray(ref_net.opt_state_["sd" + k], dtype=xp.float64, device=device),
            rtol=1e-10,
            atol=1e-14,
        )
    assert_on(net.predict(xp.asarray(X, dtype=xp.float64, device=device)), xp, device)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"batch_size": 0}, "batch_size must be positive"),
        ({"batch_size": -3}, "batch_size must be positive"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"keep_prob": 0.0}, r"keep_prob=0.0 is outside \(0, 1\]"),
        ({"keep_prob": 1.5}, r"keep_prob=1.5 is outside \(0, 1\]"),
        ({"keep_prob": [0.5, 0.5]}, "keep_prob has 2 entries but the network has 1 hidden"),
        ({"optimizer": "adagrad"}, r"optimizer='adagrad' is not known; expected one of"),
        ({"learning_rate_decay": "cosine"}, "learning_rate_decay='cosine' is not known"),
        ({"beta": 1.0}, r"beta=1.0 is outside \[0, 1\)"),
        ({"beta1": -0.1}, r"beta1=-0.1 is outside \[0, 1\)"),
        ({"beta2": 1.2}, r"beta2=1.2 is outside \[0, 1\)"),
        ({"epsilon": 0.0}, "epsilon must be positive"),
        ({"shuffle": "yes"}, "shuffle='yes' is not valid"),
        ({"seed": "3"}, "seed must be an int, None, a numpy.random.Generator"),
    ],
)
def test_bad_hyperparameters_are_named(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        xpnet.NeuralNetwork([2, 3, 1], **kw)


def test_random_state_is_refused_where_it_cannot_apply():
    pytest.importorskip("torch")
    with pytest.raises(ValueError, match="seed is a numpy.random.RandomState.*backend='torch'"):
        xpnet.NeuralNetwork([2, 3, 1], seed=np.random.RandomState(1), keep_prob=0.5,
                            backend="torch")  # fmt: skip
    # without dropout the RandomState only draws the weights, on the host: allowed anywhere
    xpnet.NeuralNetwork([2, 3, 1], seed=np.random.RandomState(1), backend="torch")


def test_bad_masks_are_named():
    X, Y, params = _problem(dims=(3, 4, 1), m=5)
    with pytest.raises(ValueError, match="masks must be a list with one entry per layer"):
        xpnet.forward(X, params, ["relu", "sigmoid"], masks=[None])
    with pytest.raises(ValueError, match=r"masks\[0\] has shape \(4, 4\); expected"):
        xpnet.forward(X, params, ["relu", "sigmoid"], masks=[np.ones((4, 4)), None])
    with pytest.raises(ValueError, match="output layer never drops"):
        xpnet.forward(X, params, ["relu", "sigmoid"], masks=[None, np.ones((1, 5))])
