"""Forward, cost, backward and update on every backend, against the NumPy float64
reference, central finite differences, and across the three implementations."""

from __future__ import annotations

import array_api_extra as xpx
import numpy as np
import pytest
import reference as ref
from helpers import assert_on, numeric_gradients, tol

import xpnet

ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
DEPTHS = {1: [3, 1], 2: [3, 4, 1], 4: [3, 4, 3, 2, 1]}


def _acts(hidden: str, L: int) -> list[str]:
    return [hidden] * (L - 1) + ["sigmoid"]


def _on(xp, device, params, dtype="float64"):
    return {k: xp.asarray(p, dtype=getattr(xp, dtype), device=device) for k, p in params.items()}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("hidden", ACTS)
def test_forward_cost_backward_match_reference(xp, device, hidden, dtype):
    dims = DEPTHS[4]
    X, Y, params = ref.random_problem(dims, m=7, seed=1)
    acts = _acts(hidden, 4)
    AL_ref, cache = ref.forward(X, params, acts)
    J_ref = ref.cost(AL_ref, Y, params, l2=0.3)
    grads_ref = ref.backward(AL_ref, Y, cache, params, acts, l2=0.3)

    Xb, Yb, pb = (
        xp.asarray(X, dtype=getattr(xp, dtype), device=device),
        xp.asarray(Y, dtype=getattr(xp, dtype), device=device),
        _on(xp, device, params, dtype),
    )
    AL, caches = xpnet.forward(Xb, pb, acts)
    J = xpnet.cost(AL, Yb, pb, l2=0.3, logits=caches[-1].Z)
    grads = xpnet.backward(AL, Yb, caches, l2=0.3)

    assert_on(AL, xp, device)
    assert AL.dtype == xp.float64 if dtype == "float64" else AL.dtype == xp.float32
    xpx.testing.assert_close(
        AL, xp.asarray(AL_ref, dtype=getattr(xp, dtype), device=device), rtol=tol(dtype)
    )
    assert abs(float(J) - J_ref) <= tol(dtype) * abs(J_ref)
    assert abs(float(xpnet.cost(AL, Yb, pb, l2=0.3)) - J_ref) <= tol(dtype) * abs(J_ref)
    assert sorted(grads) == sorted(grads_ref)
    for k, gk in grads.items():
        assert_on(gk, xp, device)
        assert tuple(gk.shape) == grads_ref[k].shape
        xpx.testing.assert_close(
            gk,
            xp.asarray(grads_ref[k], dtype=getattr(xp, dtype), device=device),
            rtol=tol(dtype),
            atol=tol(dtype) * 1e-2,
        )


def _cost_np(xp, device, X, Y, params, acts, l2):
    """The cost of host parameters, computed by xpnet on xp's backend."""
    pb = _on(xp, device, params)
    AL, caches = xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), pb, acts)
    return float(
        xpnet.cost(
            AL, xp.asarray(Y, dtype=xp.float64, device=device), pb, l2=l2, logits=caches[-1].Z
        )
    )


def _check_gradients(xp, device, hidden, L, l2, impl="vectorized"):
    dims = DEPTHS[L]
    X, Y, params = ref.random_problem(dims, m=5, seed=L)
    acts = _acts(hidden, L)
    pb = _on(xp, device, params)
    AL, caches = xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), pb, acts, impl=impl)
    grads = xpnet.backward(
        AL, xp.asarray(Y, dtype=xp.float64, device=device), caches, l2, impl=impl
    )
    numeric = numeric_gradients(lambda p: _cost_np(xp, device, X, Y, p, acts, l2), params)
    assert sorted(grads) == sorted(numeric)
    for k, G in numeric.items():
        G_on = xp.asarray(G, dtype=xp.float64, device=device)
        xpx.testing.assert_close(grads[k], G_on, rtol=1e-5, atol=1e-8, err_msg=k)


GRADCHECK_CASES = [("sigmoid", 1)] + [(a, L) for a in ACTS for L in (2, 4)]


@pytest.mark.parametrize("l2", [0.0, 0.7])
@pytest.mark.parametrize(("hidden", "L"), GRADCHECK_CASES)
def test_gradients_match_central_differences(hidden, L, l2):
    """Every activation, L = 1, 2 and 4, with and without L2 (NumPy, float64)."""
    _check_gradients(xpnet.get_namespace("numpy"), "cpu", hidden, L, l2)


@pytest.mark.parametrize("impl", ["vectorized", "per_example", "loops"])
def test_gradients_match_central_differences_on_every_backend(xp, device, impl):
    """The same check for each backend and implementation, on one deep case with L2."""
    _check_gradients(xp, device, "tanh", 4 if impl == "vectorized" else 2, 0.7, impl=impl)


@pytest.mark.parametrize("l2", [0.0, 0.5])
@pytest.mark.parametrize("impl", ["per_example", "loops"])
def test_impls_agree_with_vectorized(xp, device, impl, l2):
    dims = [3, 4, 2, 1]
    X, Y, params = ref.random_problem(dims, m=6, seed=3)
    acts = ["tanh", "leaky_relu", "sigmoid"]
    Xb, Yb, pb = (
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(Y, dtype=xp.float64, device=device),
        _on(xp, device, params),
    )
    AL_v, caches_v = xpnet.forward(Xb, pb, acts)
    AL_i, caches_i = xpnet.forward(Xb, pb, acts, impl=impl)
    assert_on(AL_i, xp, device)
    xpx.testing.assert_close(AL_i, AL_v, rtol=1e-10)
    for cv, ci in zip(caches_v, caches_i, strict=True):
        xpx.testing.assert_close(ci.Z, cv.Z, rtol=1e-10, atol=1e-12)
    J_v = float(xpnet.cost(AL_v, Yb, pb, l2=l2))
    J_i = float(xpnet.cost(AL_i, Yb, pb, l2=l2))
    assert abs(J_v - J_i) <= 1e-10
    g_v = xpnet.backward(AL_v, Yb, caches_v, l2)
    g_i = xpnet.backward(AL_i, Yb, caches_i, l2, impl=impl)
    assert sorted(g_v) == sorted(g_i)
    for k in g_v:
        assert_on(g_i[k], xp, device)
        xpx.testing.assert_close(g_i[k], g_v[k], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shapes", [((5, 1), (1, 7)), ((1, 1), (1, 3)), ((3, 2), (2, 4))])
def test_matmul_takes_outer_products_as_broadcast_products_with_the_same_numbers(
    xp, device, shapes
):
    """The kernels' _matmul computes an inner dimension of 1 (dA[L-1] = W[L]ᵀ dZ[L] with
    one output unit) as a broadcast product, which is faster on OpenBLAS: each entry is
    one product either way, so the result equals ``@`` bit for bit."""
    from xpnet.propagation import _matmul

    rng = np.random.default_rng(0)
    a, b = (xp.asarray(rng.standard_normal(s), device=device) for s in shapes)
    out = _matmul(a, b)
    assert_on(out, xp, device)
    xpx.testing.assert_close(out, a @ b, rtol=0, atol=0)


def test_matmul_refuses_what_matmul_refuses(xp, device):
    """(3, 1) and (3, 4) would broadcast; as a product of matrices they do not match,
    so _matmul raises as ``@`` does instead of returning a (3, 4) array (on Dask both
    raise when computed)."""
    from xpnet._backend import to_numpy
    from xpnet.propagation import _matmul

    a = xp.ones((3, 1), dtype=xp.float64, device=device)
    b = xp.ones((3, 4), dtype=xp.float64, device=device)
    with pytest.raises(Exception) as expected:
        to_numpy(a @ b)
    with pytest.raises(expected.type):
        to_numpy(_matmul(a, b))


def test_update_is_functional_and_follows_backend(xp, device):
    X, Y, params = ref.random_problem([3, 2, 1], m=4)
    pb = _on(xp, device, params)
    grads = {
        f"d{k}": xp.asarray(np.full_like(p, 0.5), dtype=xp.float64, device=device)
        for k, p in params.items()
    }
    new = xpnet.update(pb, grads, learning_rate=0.1)
    for k, p in params.items():
        assert_on(new[k], xp, device)
        xpx.testing.assert_close(
            new[k], xp.asarray(p - 0.05, dtype=xp.float64, device=device), rtol=1e-12
        )
        xpx.testing.assert_close(
            pb[k], xp.asarray(p, dtype=xp.float64, device=device), rtol=0
        )  # the input dict's arrays are unchanged


def test_logistic_regression_is_one_layer(xp, device):
    """L = 1 with a sigmoid is logistic regression: A = σ(wᵀX + b), dw = X dZᵀ / m."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 9))
    Y = (rng.random((1, 9)) > 0.5).astype(float)
    w, b = rng.standard_normal((4, 1)), 0.3
    A_ref = 1 / (1 + np.exp(-(w.T @ X + b)))
    dw_ref = X @ (A_ref - Y).T / 9
    params = {
        "W1": xp.asarray(w.T, dtype=xp.float64, device=device),
        "b1": xp.asarray([[b]], dtype=xp.float64, device=device),
    }
    AL, caches = xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), params, ["sigmoid"])
    grads = xpnet.backward(AL, xp.asarray(Y, dtype=xp.float64, device=device), caches)
    xpx.testing.assert_close(AL, xp.asarray(A_ref, dtype=xp.float64, device=device), rtol=1e-12)
    xpx.testing.assert_close(
        grads["dW1"], xp.asarray(dw_ref.T, dtype=xp.float64, device=device), rtol=1e-10
    )
    xpx.testing.assert_close(
        grads["db1"],
        xp.asarray([[np.mean(A_ref - Y)]], dtype=xp.float64, device=device),
        rtol=1e-10,
    )


def test_integer_labels_are_converted(xp, device):
    X, Y, params = ref.random_problem([3, 1], m=5)
    pb = _on(xp, device, params)
    AL, caches = xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), pb, ["sigmoid"])
    g_float = xpnet.backward(AL, xp.asarray(Y, dtype=xp.float64, device=device), caches)
    g_int = xpnet.backward(AL, xp.asarray(Y, dtype=xp.int64, device=device), caches)
    xpx.testing.assert_close(g_int["dW1"], g_float["dW1"], rtol=0)
