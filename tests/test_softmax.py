"""The softmax output layer (issue 10): forward, cost, backward on every backend against
a NumPy float64 reference, central differences, the C = 2 / sigmoid equivalence,
extreme logits, label errors, training and saving."""

from __future__ import annotations

import array_api_extra as xpx
import numpy as np
import pytest
import reference as ref
from helpers import assert_on, numeric_gradients, tol

import xpnet
from xpnet.propagation import backward_vectorized, forward_vectorized, total_cost


def _dims(C: int, L: int) -> list[int]:
    return [3, *[5, 4][: L - 1], C]


def _problem(C: int, L: int, m: int = 6, seed: int = 0):
    """Host X (3, m), integer labels (1, m) holding every class when m >= C, params."""
    dims = _dims(C, L)
    X, _, params = ref.random_problem(dims, m, seed=seed)
    labels = np.random.default_rng(seed + 1).permutation(np.arange(m) % C).reshape(1, m)
    return X, labels, params


def _acts(L: int, hidden: str = "tanh") -> list[str]:
    return [hidden] * (L - 1) + ["softmax"]


def _on(xp, device, params, dtype="float64"):
    return {k: xp.asarray(p, dtype=getattr(xp, dtype), device=device) for k, p in params.items()}


# ============================================================================ math


def test_softmax_columns_are_probabilities_and_shift_invariant(xp, device):
    Z = np.array([[-3.0, 0.0, 1e4, -1e4], [2.0, 0.0, 1e4 - 1, 5.0], [0.5, 0.0, -1e4, 7.0]])
    A = xpnet.activations.softmax(xp.asarray(Z, dtype=xp.float64, device=device), xp=xp)
    assert_on(A, xp, device)
    xpx.testing.assert_close(
        A, xp.asarray(ref.g("softmax", Z), dtype=xp.float64, device=device), rtol=1e-13, atol=1e-300
    )
    np.testing.assert_allclose(xpnet.to_numpy(A).sum(axis=0), 1.0, rtol=1e-15)
    shifted = xpnet.activations.softmax(
        xp.asarray(Z + 123.0, dtype=xp.float64, device=device), xp=xp
    )
    xpx.testing.assert_close(shifted, A, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("l2", [0.0, 0.7])
@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("C", [2, 3, 10])
def test_gradients_match_central_differences(C, L, l2):
    X, labels, params = _problem(C, L, m=max(C, 6))
    acts = _acts(L)

    def cost_of(p):
        AL, caches = xpnet.forward(X, p, acts)
        return float(xpnet.cost(AL, labels, p, l2=l2, logits=caches[-1].Z))

    AL, caches = xpnet.forward(X, params, acts)
    grads = xpnet.backward(AL, labels, caches, l2)
    numeric = numeric_gradients(cost_of, params)
    assert sorted(grads) == sorted(numeric)
    for k, G in numeric.items():
        np.testing.assert_allclose(grads[k], G, rtol=1e-5, atol=1e-8, err_msg=k)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("impl", ["vectorized", "per_example", "loops"])
def test_every_backend_and_impl_matches_the_reference(xp, device, impl, dtype):
    C, L, l2 = 4, 3 if impl == "vectorized" else 2, 0.3  # the loops are slow on Dask
    X, labels, params = _problem(C, L, m=7 if impl == "vectorized" else 5, seed=2)
    acts = _acts(L, "relu")
    Y = ref.one_hot(labels, C)
    AL_ref, cache = ref.forward(X, params, acts)
    J_ref = ref.softmax_cost(cache[-1][1], Y, params, l2)
    grads_ref = ref.backward(AL_ref, Y, cache, params, acts, l2)

    Xb, pb = xp.asarray(X, dtype=getattr(xp, dtype), device=device), _on(xp, device, params, dtype)
    AL, caches = xpnet.forward(Xb, pb, acts, impl=impl)
    assert_on(AL, xp, device)
    assert AL.dtype == getattr(xp, dtype)
    xpx.testing.assert_close(
        AL,
        xp.asarray(AL_ref, dtype=getattr(xp, dtype), device=device),
        rtol=tol(dtype),
        atol=tol(dtype) * 1e-3,
    )
    for labels_b in (
        xp.asarray(Y, dtype=getattr(xp, dtype), device=device),
        xp.asarray(labels, dtype=xp.int64, device=device),
    ):  # one-hot, integers
        J = xpnet.cost(AL, labels_b, pb, l2=l2, logits=caches[-1].Z)
        assert abs(float(J) - J_ref) <= tol(dtype) * abs(J_ref)
        J_probs = xpnet.cost(AL, labels_b, pb, l2=l2)
        assert abs(float(J_probs) - J_ref) <= tol(dtype) * abs(J_ref)
        grads = xpnet.backward(AL, labels_b, caches, l2, impl=impl)
        assert sorted(grads) == sorted(grads_ref)
        for k, gk in grads.items():
            assert_on(gk, xp, device)
            xpx.testing.assert_close(
                gk,
                xp.asarray(grads_ref[k], dtype=getattr(xp, dtype), device=device),
                rtol=tol(dtype),
                atol=tol(dtype) * 1e-2,
            )


def test_weighted_one_hot_labels_weight_each_example():
    """Y = s ⊙ Y₀ gives J = (1/m) Σ_i s(i) ℓ(i) and dZ[L] = s ⊙ (A[L] - Y₀): the kernels'
    per-example weights (used by the scikit-learn wrapper), checked by central differences."""
    C, L, m = 3, 2, 8
    X, labels, params = _problem(C, L, m=m, seed=4)
    acts = [xpnet.activations.get_activation(a) for a in _acts(L)]
    s = np.random.default_rng(5).uniform(0.0, 3.0, size=(1, m))
    Y0 = ref.one_hot(labels, C)
    Yw = s * Y0

    def cost_of(p):
        _, caches = forward_vectorized(X, p, acts, xp=np)
        return float(total_cost(caches[-1].Z, Yw, p, 0.4, output="softmax", xp=np))

    AL, caches = forward_vectorized(X, params, acts, xp=np)
    per_example = -np.sum(Y0 * np.log(AL), axis=0)  # ℓ(i)
    l2_term = 0.4 / (2 * m) * sum(np.sum(params[f"W{k}"] ** 2) for k in (1, 2))
    np.testing.assert_allclose(cost_of(params), np.sum(s * per_example) / m + l2_term, rtol=1e-13)
    grads = backward_vectorized(AL, Yw, caches, 0.4, xp=np)
    for k, G in numeric_gradients(cost_of, params).items():
        np.testing.assert_allclose(grads[k], G, rtol=1e-5, atol=1e-8, err_msg=k)
    unweighted = backward_vectorized(AL, Y0, caches, 0.4, xp=np)
    np.testing.assert_array_equal(  # s = 1: exactly the course's dZ[L] = A[L] - Y
        unweighted["db2"], np.sum(AL - Y0, axis=1, keepdims=True) / m
    )


# ============================================================================ C = 2 vs sigmoid


def test_two_class_softmax_equals_the_sigmoid(xp, backend, device):
    """Softmax rows (-w/2, +w/2) give logits z1 - z0 = z, the sigmoid's logit, so
    P(class 1) = e^(z/2) / (e^(-z/2) + e^(z/2)) = σ(z)."""
    X, _, p = ref.random_problem([4, 6, 1], 40, seed=7)
    for scale in (1.0, 30.0):  # as drawn, and saturated (probabilities near 0 and 1)
        _compare_two_class_models(xp, backend, device, X, p, scale)


def _compare_two_class_models(xp, backend, device, X, p, scale):
    p = {**p, "W2": p["W2"] * scale, "b2": p["b2"] * scale}
    sig = xpnet.NeuralNetwork(
        [4, 6, 1], hidden_activation="tanh", backend=backend.library, device=device
    )
    sig.params_ = {k: xp.asarray(v, dtype=xp.float64, device=device) for k, v in p.items()}
    two = {
        **p,
        "W2": np.concatenate([-p["W2"] / 2, p["W2"] / 2]),
        "b2": np.concatenate([-p["b2"] / 2, p["b2"] / 2]),
    }
    soft = xpnet.NeuralNetwork(
        [4, 6, 2],
        hidden_activation="tanh",
        output_activation="softmax",
        backend=backend.library,
        device=device,
    )
    soft.params_ = {k: xp.asarray(v, dtype=xp.float64, device=device) for k, v in two.items()}
    Xt = xp.asarray(np.concatenate([X, X * 5], axis=1), dtype=xp.float64, device=device)
    P_sig = xpnet.to_numpy(sig.predict_proba(Xt))
    P_soft = xpnet.to_numpy(soft.predict_proba(Xt))
    assert P_soft.shape == (2, 80)
    np.testing.assert_allclose(P_soft[1:], P_sig, rtol=0, atol=1e-12)
    np.testing.assert_allclose(P_soft[:1], 1 - P_sig, rtol=0, atol=1e-12)
    if scale > 1:
        assert P_sig.min() < 1e-9 and P_sig.max() > 1 - 1e-9  # saturated cases are included
    np.testing.assert_array_equal(
        xpnet.to_numpy(soft.predict(Xt)), xpnet.to_numpy(sig.predict(Xt)).astype(np.int64)
    )


# ============================================================================ numerics


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_logits_of_1e4_give_finite_cost_and_gradients(xp, device, dtype):
    """One layer, Z[1] = W X with entries up to |z| = 1e4, half of them confidently wrong."""
    X = np.array([[1.0, 0.0, -1.0, 0.5], [0.0, -1.0, 1.0, 0.25]])
    W = np.array([[1e4, 0.0], [0.0, 1e4], [-1e4, 0.0]])
    params = {"W1": W, "b1": np.zeros((3, 1))}
    labels = np.array([[2, 1, 0, 0]])
    Z = W @ X
    assert np.abs(Z).max() == 1e4
    J_ref = ref.softmax_cost(Z, ref.one_hot(labels, 3))
    pb = _on(xp, device, params, dtype)
    AL, caches = xpnet.forward(
        xp.asarray(X, dtype=getattr(xp, dtype), device=device), pb, ["softmax"]
    )
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is exact
        J = float(
            xpnet.cost(AL, xp.asarray(labels, dtype=xp.int64, device=device), logits=caches[-1].Z)
        )
    grads = xpnet.backward(AL, xp.asarray(labels, dtype=xp.int64, device=device), caches)
    assert np.isfinite(J) and abs(J - J_ref) <= tol(dtype) * J_ref
    assert J > 1e3  # the wrong confident examples cost ~ |Δz|, not a clipped log(ε)
    for k, gk in grads.items():
        assert np.all(np.isfinite(xpnet.to_numpy(gk))), k
    J_clipped = float(
        xpnet.cost(AL, xp.asarray(labels, dtype=xp.int64, device=device))
    )  # from A[L]: clipped, finite
    assert np.isfinite(J_clipped)


# ============================================================================ labels


def _model(backend="numpy", device=None, dims=(3, 5, 4), **kw):
    kw.setdefault("num_iterations", 3)
    return xpnet.NeuralNetwork(
        list(dims), output_activation="softmax", backend=backend, device=device, **kw
    )


def _errors(xp, backend, device, Y, *fragments, values=True):
    """The same label error from fit, cost and (for shapes) backward. Value checks
    (``values``) reduce the labels, which public ``backward`` never does, like the binary
    case: it runs only at the fit/cost/score boundary."""
    X, _, params = _problem(4, 2, m=6)
    pb = _on(xp, device, params)
    AL, caches = xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), pb, _acts(2))
    calls = {
        "fit": lambda: _model(backend.library, device).fit(
            xp.asarray(X, dtype=xp.float64, device=device), Y
        ),
        "cost": lambda: xpnet.cost(AL, Y),
        "backward": lambda: xpnet.backward(AL, Y, caches),
    }
    if values:
        del calls["backward"]
    for where, call in calls.items():
        with pytest.raises(ValueError) as info:
            call()
        for f in fragments:
            assert f in str(info.value), f"{where}: {f!r} not in {info.value}"


def test_labels_outside_0_to_C_minus_1(xp, backend, device):
    _errors(
        xp,
        backend,
        device,
        xp.asarray([[0, 1, 4, 3, -1, 2]], dtype=xp.int64, device=device),
        "outside 0..C-1",
        "[-1, 4]",
        "C = 4",
        "np.unique(y, return_inverse=True)",
    )
    _errors(
        xp,
        backend,
        device,
        xp.asarray([[0, 1, 2.5, 3, 1, 2]], dtype=xp.float64, device=device),
        "outside 0..C-1",
        "[2.5]",
    )


def test_one_hot_columns_must_hold_exactly_one_1(xp, backend, device):
    Y = ref.one_hot([0, 1, 2, 3, 1, 2], 4)
    # column 2 in turn: two 1s, no 1, fractions summing to 1; the message names the column
    for column, shown in (
        ([0, 1, 1, 0], ("column 2", "[0.0, 1.0, 1.0, 0.0]")),
        ([0, 0, 0, 0], ("column 2",)),
        ([0, 0.5, 0.5, 0], ()),
    ):
        Y[:, 2] = column
        Yb = xp.asarray(Y, dtype=xp.float64, device=device)
        _errors(xp, backend, device, Yb, "not exactly one 1", *shown)


def test_C_must_match_layer_dims(xp, backend, device):
    Y = xp.asarray(
        ref.one_hot([0, 1, 2, 0, 1, 2], 3), dtype=xp.float64, device=device
    )  # 3 classes, the network has 4
    _errors(
        xp,
        backend,
        device,
        Y,
        "Y has shape (3, 6)",
        "C = 4 output units",
        "layer_dims[-1] = 3",
        values=False,
    )


def test_softmax_needs_two_or_more_units(xp, backend, device):
    with pytest.raises(ValueError, match="1 output unit with output activation 'softmax'") as e:
        _model(backend.library, device, dims=(3, 5, 1))
    assert "C >= 2" in str(e.value) and "'sigmoid'" in str(e.value)
    X, _, params = ref.random_problem([3, 1], 4)
    with pytest.raises(ValueError, match=r"params\['W1'\] has 1 output unit"):
        xpnet.forward(
            xp.asarray(X, dtype=xp.float64, device=device), _on(xp, device, params), ["softmax"]
        )


def test_sigmoid_with_several_units_and_softmax_hidden_are_refused():
    with pytest.raises(ValueError, match="3 output units but the output activation is 'sigmoid'"):
        xpnet.NeuralNetwork([3, 5, 3])
    with pytest.raises(ValueError, match="output activation only"):
        xpnet.NeuralNetwork([3, 5, 3], hidden_activation="softmax", output_activation="softmax")


# ============================================================================ model


def test_model_fits_predicts_and_scores(xp, backend, device):
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 3.0, -3.0], [3.0, -2.0, -2.0]])
    labels = np.arange(90) % 3
    X = xp.asarray(centers[:, labels] + 0.5 * rng.standard_normal((2, 90)), dtype=xp.float64,
                   device=device)  # fmt: skip
    Y_int = xp.asarray(labels.reshape(1, -1), dtype=xp.int64, device=device)
    Y_hot = xp.asarray(ref.one_hot(labels, 3), dtype=xp.float64, device=device)
    kw = dict(dims=(2, 8, 3), num_iterations=30, learning_rate=0.5, seed=1, record_every=10)
    net = _model(backend.library, device, **kw)
    net.fit(X, Y_int)
    P = net.predict_proba(X)
    assert_on(P, xp, device)
    assert tuple(P.shape) == (3, 90)
    np.testing.assert_allclose(xpnet.to_numpy(P).sum(axis=0), 1.0, rtol=1e-12)
    pred = net.predict(X)
    assert tuple(pred.shape) == (1, 90) and xp.isdtype(pred.dtype, "integral")
    np.testing.assert_array_equal(xpnet.to_numpy(pred)[0], xpnet.to_numpy(P).argmax(axis=0))
    assert net.score(X, Y_int) > 0.95
    assert net.score(X, Y_hot) == net.score(X, Y_int)
    assert net.costs_[0][1] > net.costs_[-1][1]
    # One-hot labels train the very same network as integer labels.
    one_hot = _model(backend.library, device, **kw)
    one_hot.fit(X, Y_hot)
    for k, p in net.params_.items():
        xpx.testing.assert_close(one_hot.params_[k], p, rtol=0)


@pytest.mark.parametrize("impl", ["per_example", "loops"])
def test_training_is_the_same_in_every_impl(impl):
    X, labels, _ = _problem(3, 2, m=9, seed=3)
    nets = [
        _model("numpy", num_iterations=5, learning_rate=0.3, impl=i, dims=(3, 5, 3))
        for i in ("vectorized", impl)
    ]
    for net in nets:
        net.fit(X, labels)
    for k, p in nets[0].params_.items():
        np.testing.assert_allclose(nets[1].params_[k], p, rtol=1e-12, atol=1e-14)


# ============================================================================ saving


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_save_and_load_are_bit_exact(xp, backend, device, tmp_path, dtype):
    X, labels, _ = _problem(4, 3, m=12, seed=6)
    net = _model(
        backend.library,
        device,
        dims=(3, 5, 4, 4),
        num_iterations=20,
        learning_rate=0.3,
        dtype=dtype,
    )
    net.fit(
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(labels, dtype=xp.int64, device=device),
    )
    net.save(tmp_path / "softmax.npz")
    back = xpnet.load(tmp_path / "softmax.npz", backend=backend.library, device=device)
    assert back.output_activation.name == "softmax" and back.layer_dims == [3, 5, 4, 4]
    for k, p in net.params_.items():
        assert_on(back.params_[k], xp, device)
        a, b = xpnet.to_numpy(p), xpnet.to_numpy(back.params_[k])
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), k
    assert back.costs_ == net.costs_ and back.n_iter_ == net.n_iter_
    np.testing.assert_array_equal(
        xpnet.to_numpy(back.predict_proba(xp.asarray(X, dtype=xp.float64, device=device))),
        xpnet.to_numpy(net.predict_proba(xp.asarray(X, dtype=xp.float64, device=device))),
    )


# ============================================================================ second course


def _blobs(m=120, seed=0):
    """Three well-separated classes in 2-D: X (2, m), integer labels (1, m)."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 3.0, -3.0], [3.0, -2.0, -2.0]])
    labels = np.arange(m) % 3
    return centers[:, labels] + 0.6 * rng.standard_normal((2, m)), labels.reshape(1, m)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_every_optimizer_trains_with_mini_batches_and_dropout(optimizer):
    X, labels = _blobs()
    lr = 0.05 if optimizer in ("gd", "momentum") else 0.01
    net = _model(
        "numpy",
        dims=(2, 16, 16, 3),
        optimizer=optimizer,
        batch_size=32,
        keep_prob=0.8,
        learning_rate=lr,
        num_iterations=40,
        record_every=5,
        seed=3,
    )
    net.fit(X, labels)
    costs = [c for _, c in net.costs_]
    assert all(np.isfinite(costs)) and costs[-1] < 0.5 * costs[0], costs
    assert net.score(X, labels) > 0.95
    assert net.t_ == 40 * 4  # ceil(120 / 32) = 4 steps per epoch


@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_gradient_check_with_dropout_masks(l2):
    X, labels, params = _problem(4, 3, m=8, seed=8)
    masks = xpnet.dropout_masks(params, 8, 0.7, seed=1)
    assert masks[0] is not None and masks[-1] is None
    diff = xpnet.gradient_check(params, X, labels, _acts(3), l2=l2, masks=masks)
    assert diff < 1e-7, diff


def test_mini_batch_adam_matches_numpy_on_every_backend(xp, backend, device):
    """Adam in mini-batches of 25 (the last one 20), no dropout: the same run everywhere."""
    X, labels = _blobs(m=95, seed=1)
    kw = dict(optimizer="adam", batch_size=25, learning_rate=0.02, num_iterations=6)
    ref_net = _model("numpy", dims=(2, 6, 3), record_every=1, **kw).fit(X, labels)
    net = _model(backend.library, device, dims=(2, 6, 3), record_every=1, **kw)
    net.fit(
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(labels, dtype=xp.int64, device=device),
    )
    for k, p in ref_net.params_.items():
        assert_on(net.params_[k], xp, device)
        xpx.testing.assert_close(
            net.params_[k], xp.asarray(p, dtype=xp.float64, device=device), rtol=1e-10, atol=1e-12
        )
    costs, ref_costs = ([c for _, c in n.costs_] for n in (net, ref_net))
    np.testing.assert_allclose(costs, ref_costs, rtol=1e-10)
