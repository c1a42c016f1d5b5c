"""Forward, cost, backward and update on every backend, against the NumPy float64
reference, central finite differences, and across the three implementations."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from helpers import assert_close, assert_on, numeric_gradients, tol

import xpnet

ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
DEPTHS = {1: [3, 1], 2: [3, 4, 1], 4: [3, 4, 3, 2, 1]}


def _acts(hidden: str, L: int) -> list[str]:
    return [hidden] * (L - 1) + ["sigmoid"]


def _on(xp, params, dtype="float64"):
    return {k: xp.asarray(p, dtype) for k, p in params.items()}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("hidden", ACTS)
def test_forward_cost_backward_match_reference(xp, hidden, dtype):
    dims = DEPTHS[4]
    X, Y, params = ref.random_problem(dims, m=7, seed=1)
    acts = _acts(hidden, 4)
    AL_ref, cache = ref.forward(X, params, acts)
    J_ref = ref.cost(AL_ref, Y, params, l2=0.3)
    grads_ref = ref.backward(AL_ref, Y, cache, params, acts, l2=0.3)

    Xb, Yb, pb = xp.asarray(X, dtype), xp.asarray(Y, dtype), _on(xp, params, dtype)
    AL, caches = xpnet.forward(Xb, pb, acts)
    J = xpnet.cost(AL, Yb, pb, l2=0.3, logits=caches[-1].Z)
    grads = xpnet.backward(AL, Yb, caches, l2=0.3)

    assert_on(xp, AL)
    assert AL.dtype == xp.ns.float64 if dtype == "float64" else AL.dtype == xp.ns.float32
    assert_close(AL, AL_ref, rtol=tol(dtype))
    assert abs(float(J) - J_ref) <= tol(dtype) * abs(J_ref)
    assert abs(float(xpnet.cost(AL, Yb, pb, l2=0.3)) - J_ref) <= tol(dtype) * abs(J_ref)
    assert sorted(grads) == sorted(grads_ref)
    for k, gk in grads.items():
        assert_on(xp, gk)
        assert tuple(gk.shape) == grads_ref[k].shape
        assert_close(gk, grads_ref[k], rtol=tol(dtype), atol=tol(dtype) * 1e-2)


def _cost_np(xp, X, Y, params, acts, l2):
    """The cost of host parameters, computed by xpnet on xp's backend."""
    pb = _on(xp, params)
    AL, caches = xpnet.forward(xp.asarray(X), pb, acts)
    return float(xpnet.cost(AL, xp.asarray(Y), pb, l2=l2, logits=caches[-1].Z))


def _check_gradients(xp, hidden, L, l2, impl="vectorized"):
    dims = DEPTHS[L]
    X, Y, params = ref.random_problem(dims, m=5, seed=L)
    acts = _acts(hidden, L)
    pb = _on(xp, params)
    AL, caches = xpnet.forward(xp.asarray(X), pb, acts, impl=impl)
    grads = xpnet.backward(AL, xp.asarray(Y), caches, l2, impl=impl)
    numeric = numeric_gradients(lambda p: _cost_np(xp, X, Y, p, acts, l2), params)
    assert sorted(grads) == sorted(numeric)
    for k, G in numeric.items():
        np.testing.assert_allclose(xpnet.to_numpy(grads[k]), G, rtol=1e-5, atol=1e-8, err_msg=k)


GRADCHECK_CASES = [("sigmoid", 1)] + [(a, L) for a in ACTS for L in (2, 4)]


@pytest.mark.parametrize("l2", [0.0, 0.7])
@pytest.mark.parametrize(("hidden", "L"), GRADCHECK_CASES)
def test_gradients_match_central_differences(hidden, L, l2, numpy_xp):
    """Every activation, L = 1, 2 and 4, with and without L2 (NumPy, float64)."""
    _check_gradients(numpy_xp, hidden, L, l2)


@pytest.mark.parametrize("impl", ["vectorized", "per_example", "loops"])
def test_gradients_match_central_differences_on_every_backend(xp, impl):
    """The same check for each backend and implementation, on one deep case with L2."""
    _check_gradients(xp, "tanh", 4 if impl == "vectorized" else 2, 0.7, impl=impl)


@pytest.mark.parametrize("l2", [0.0, 0.5])
@pytest.mark.parametrize("impl", ["per_example", "loops"])
def test_impls_agree_with_vectorized(xp, impl, l2):
    dims = [3, 4, 2, 1]
    X, Y, params = ref.random_problem(dims, m=6, seed=3)
    acts = ["tanh", "leaky_relu", "sigmoid"]
    Xb, Yb, pb = xp.asarray(X), xp.asarray(Y), _on(xp, params)
    AL_v, caches_v = xpnet.forward(Xb, pb, acts)
    AL_i, caches_i = xpnet.forward(Xb, pb, acts, impl=impl)
    assert_on(xp, AL_i)
    assert_close(AL_i, xpnet.to_numpy(AL_v), rtol=1e-10)
    for cv, ci in zip(caches_v, caches_i, strict=True):
        assert_close(ci.Z, xpnet.to_numpy(cv.Z), rtol=1e-10, atol=1e-12)
    J_v = float(xpnet.cost(AL_v, Yb, pb, l2=l2))
    J_i = float(xpnet.cost(AL_i, Yb, pb, l2=l2))
    assert abs(J_v - J_i) <= 1e-10
    g_v = xpnet.backward(AL_v, Yb, caches_v, l2)
    g_i = xpnet.backward(AL_i, Yb, caches_i, l2, impl=impl)
    assert sorted(g_v) == sorted(g_i)
    for k in g_v:
        assert_on(xp, g_i[k])
        assert_close(g_i[k], xpnet.to_numpy(g_v[k]), rtol=1e-10, atol=1e-12)


def test_update_is_functional_and_follows_backend(xp):
    X, Y, params = ref.random_problem([3, 2, 1], m=4)
    pb = _on(xp, params)
    grads = {f"d{k}": xp.asarray(np.full_like(p, 0.5)) for k, p in params.items()}
    new = xpnet.update(pb, grads, learning_rate=0.1)
    for k, p in params.items():
        assert_on(xp, new[k])
        assert_close(new[k], p - 0.05, rtol=1e-12)
        assert_close(pb[k], p, rtol=0)  # the input dict's arrays are unchanged


def test_logistic_regression_is_one_layer(xp):
    """L = 1 with a sigmoid is logistic regression: A = σ(wᵀX + b), dw = X dZᵀ / m."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 9))
    Y = (rng.random((1, 9)) > 0.5).astype(float)
    w, b = rng.standard_normal((4, 1)), 0.3
    A_ref = 1 / (1 + np.exp(-(w.T @ X + b)))
    dw_ref = X @ (A_ref - Y).T / 9
    params = {"W1": xp.asarray(w.T), "b1": xp.asarray([[b]])}
    AL, caches = xpnet.forward(xp.asarray(X), params, ["sigmoid"])
    grads = xpnet.backward(AL, xp.asarray(Y), caches)
    assert_close(AL, A_ref, rtol=1e-12)
    assert_close(grads["dW1"], dw_ref.T, rtol=1e-10)
    assert_close(grads["db1"], [[np.mean(A_ref - Y)]], rtol=1e-10)


def test_integer_labels_are_converted(xp):
    X, Y, params = ref.random_problem([3, 1], m=5)
    pb = _on(xp, params)
    AL, caches = xpnet.forward(xp.asarray(X), pb, ["sigmoid"])
    g_float = xpnet.backward(AL, xp.asarray(Y), caches)
    g_int = xpnet.backward(AL, xp.asarray(Y, "int64"), caches)
    assert_close(g_int["dW1"], xpnet.to_numpy(g_float["dW1"]), rtol=0)
