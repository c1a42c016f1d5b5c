"""Bad input gets a clear error, never a silently wrong answer (issue 4).

Every case runs on every backend of the ``xp`` fixture. Each test asserts the
exception type *and* the message content: the argument's name, what was seen,
what was expected, and the fix.
"""

from __future__ import annotations

import math
import re
import sys
import types

import numpy as np
import pytest
from helpers import assert_close

import xpnet

DIMS = [3, 4, 1]
M = 5


def on(xp, a):
    """Place host data on xp's backend and device keeping its dtype (ints, bools too)."""
    return xpnet.to_backend(np.asarray(a), xp.name, device=xp.device)


def np_params(dims=DIMS, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for k in range(1, len(dims)):
        out[f"W{k}"] = rng.standard_normal((dims[k], dims[k - 1]))
        out[f"b{k}"] = np.zeros((dims[k], 1))
    return out


def make_params(xp, dims=DIMS, seed=0):
    return {k: xp.asarray(v) for k, v in np_params(dims, seed).items()}


def data(m=M, n_x=DIMS[0], seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = (np.arange(m) % 2).reshape(1, m).astype(np.float64)
    return X, Y


def model(xp, dims=DIMS, **kw):
    kw.setdefault("num_iterations", 2)
    return xpnet.NeuralNetwork(dims, backend=xp.name, device=xp.device, **kw)


def fitted(xp):
    X, Y = data()
    return model(xp).fit(xp.asarray(X), xp.asarray(Y))


ACTS = ["relu", "sigmoid"]


def raises(exc, *fragments):
    """pytest.raises that also requires every fragment (plain text) in the message."""
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


# ============================================================================ orientation


def test_X_transposed_suggests_X_T_forward(xp):
    X, _ = data(m=12, n_x=5)  # (5, 12) but the network expects n_x = 12: the (m, n_x) mistake
    params = make_params(xp, [12, 3, 1])
    with raises(ValueError, "X has shape (5, 12)", "layer_dims[0]", "is 12", "(n_x, m)", "X.T"):
        xpnet.forward(xp.asarray(X), params, ACTS)


def test_X_transposed_suggests_X_T_fit_and_predict(xp):
    X, Y = data(m=12, n_x=5)
    net = model(xp, [12, 3, 1])
    with raises(ValueError, "X has shape (5, 12)", "X.T"):
        net.fit(xp.asarray(X), xp.asarray(Y.reshape(1, -1)[:, :5]))
    good = model(xp, [5, 3, 1]).fit(xp.asarray(X), xp.asarray((np.arange(12) % 2)[None, :]))
    with raises(ValueError, "X has shape (12, 5)", "X.T"):
        good.predict(xp.asarray(X.T))


def test_X_transposed_course_example_numpy():
    """The exact example of the conventions: 209 cat images of 64*64*3 = 12288 pixels."""
    X = np.zeros((209, 12288), dtype=np.float64)
    Y = np.zeros((1, 209))
    with raises(ValueError, "X has shape (209, 12288)", "layer_dims[0] (n_x) is 12288", "pass X.T"):
        xpnet.NeuralNetwork([12288, 1], num_iterations=1).fit(X, Y)


def test_X_wrong_n_x_not_transposed_says_reshape(xp):
    X, _ = data(m=4, n_x=6)
    with raises(ValueError, "X has shape (6, 4)", "is 3", "reshape"):
        xpnet.forward(xp.asarray(X), make_params(xp), ACTS)


Y_BAD_SHAPES = {
    "rank1 (m,)": (lambda Y: Y.reshape(-1), ["Y has shape (5,)", "rank-1", "Y.reshape(1, -1)"]),
    "column (m,1)": (lambda Y: Y.reshape(-1, 1), ["Y has shape (5, 1)", "(1, m)", "Y.T"]),
    "two rows (2,m)": (
        lambda Y: np.concatenate([Y, 1 - Y]),
        ["Y has shape (2, 5)", "(1, m)", "single row"],
    ),
}


def call_with_labels(xp, where, X, Yb):
    """Give labels Yb (with data X) to one entry point: fit, score, cost or backward."""
    if where == "fit":
        model(xp).fit(xp.asarray(X), Yb)
    elif where == "score":
        fitted(xp).score(xp.asarray(X), Yb)
    else:
        AL, caches = xpnet.forward(xp.asarray(X), make_params(xp), ACTS)
        if where == "cost":
            xpnet.cost(AL, Yb)
        else:
            xpnet.backward(AL, Yb, caches)


@pytest.mark.parametrize("kind", list(Y_BAD_SHAPES))
@pytest.mark.parametrize("where", ["fit", "score", "cost", "backward"])
def test_Y_bad_shape(xp, kind, where):
    X, Y = data()
    reshape, fragments = Y_BAD_SHAPES[kind]
    Ybad = xp.asarray(reshape(Y))
    with raises(ValueError, *fragments):
        call_with_labels(xp, where, X, Ybad)


@pytest.mark.parametrize("where", ["forward", "fit", "predict"])
def test_rank1_X_refused(xp, where):
    X1 = xp.asarray(np.ones(3))  # one example as a rank-1 vector
    with raises(ValueError, "X has shape (3,)", "rank-1", "reshape"):
        if where == "forward":
            xpnet.forward(X1, make_params(xp), ACTS)
        elif where == "fit":
            model(xp).fit(X1, xp.asarray(np.ones((1, 1))))
        else:
            fitted(xp).predict(X1)


@pytest.mark.parametrize("key", ["W1", "b1", "W2", "b2"])
@pytest.mark.parametrize("where", ["forward", "update", "fit"])
def test_rank1_params_refused(xp, key, where):
    host = np_params()
    host[key] = host[key].reshape(-1)
    params = {k: xp.asarray(v) for k, v in host.items()}
    X, Y = data()
    with raises(ValueError, f"params['{key}'] has shape", "rank-1", "reshape"):
        if where == "forward":
            xpnet.forward(xp.asarray(X), params, ACTS)
        elif where == "update":
            grads = {f"d{k}": v for k, v in params.items()}
            xpnet.update(params, grads, 0.1)
        else:
            model(xp).fit(xp.asarray(X), xp.asarray(Y), initial_params=params)


def test_rank1_AL_refused_by_cost(xp):
    with raises(ValueError, "AL has shape (4,)", "rank-1"):
        xpnet.cost(xp.asarray(np.full(4, 0.5)), xp.asarray(np.ones((1, 4))))


# ============================================================================ labels


@pytest.mark.parametrize("bad", [2.0, -1.0, 0.5])
@pytest.mark.parametrize("where", ["fit", "score", "cost"])
def test_labels_outside_0_1(xp, bad, where):
    X, Y = data()
    Y[0, 2] = bad
    Yb = xp.asarray(Y)
    with raises(ValueError, "Y must hold binary labels 0 and 1", str(bad), "0/1"):
        if where == "fit":
            model(xp).fit(xp.asarray(X), Yb)
        elif where == "score":
            fitted(xp).score(xp.asarray(X), Yb)
        else:
            xpnet.cost(xp.asarray(np.full((1, M), 0.5)), Yb)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("where", ["fit X", "fit Y", "predict X", "score X", "score Y"])
def test_nan_inf_refused(xp, value, where):
    X, Y = data()
    arg = where.split()[-1]
    (X if arg == "X" else Y)[0, 1] = value
    Xb, Yb = xp.asarray(X), xp.asarray(Y)
    fragments = [f"{arg} contains 1 NaN or infinite value"] if arg == "X" else ["Y"]
    with raises(ValueError, *fragments):
        if where.startswith("fit"):
            model(xp).fit(Xb, Yb)
        elif where.startswith("predict"):
            # Dask keeps predict lazy: the check runs (and raises) when the result is computed.
            xpnet.to_numpy(fitted(xp).predict(Xb))
        else:
            fitted(xp).score(Xb, Yb)


def test_nan_in_Y_refused_by_cost(xp):
    Y = np.array([[0.0, math.nan, 1.0]])
    with raises(ValueError, "Y must hold binary labels", "nan"):
        xpnet.cost(xp.asarray(np.full((1, 3), 0.5)), xp.asarray(Y))


@pytest.mark.parametrize("where", ["fit", "forward", "predict"])
def test_empty_X_refused(xp, where):
    X = xp.asarray(np.zeros((3, 0)))
    with raises(ValueError, "X has shape (3, 0)", "m = 0", "at least one"):
        if where == "fit":
            model(xp).fit(X, xp.asarray(np.zeros((1, 0))))
        elif where == "forward":
            xpnet.forward(X, make_params(xp), ACTS)
        else:
            fitted(xp).predict(X)


@pytest.mark.parametrize("where", ["fit", "score", "cost", "backward"])
def test_m_mismatch_between_X_and_Y(xp, where):
    X, Y = data(m=5)
    Y4 = xp.asarray(Y[:, :4])
    with raises(ValueError, "Y has shape (1, 4)", "m = 5", "(1, 5)"):
        call_with_labels(xp, where, X, Y4)


# ============================================================================ parameters


def test_params_that_do_not_chain(xp):
    params = make_params(xp, [3, 4, 1])
    params["W2"] = xp.asarray(np.ones((1, 5)))  # layer 1 has 4 units, W2 expects 5 inputs
    X, _ = data()
    with raises(ValueError, "params['W2'] has shape (1, 5)", "params['W1'] has (4, 3)", "chain"):
        xpnet.forward(xp.asarray(X), params, ACTS)


def test_bias_shape_mismatch(xp):
    params = make_params(xp)
    params["b1"] = xp.asarray(np.zeros((3, 1)))
    X, _ = data()
    with raises(ValueError, "params['b1'] has shape (3, 1)", "(4, 1)"):
        xpnet.forward(xp.asarray(X), params, ACTS)


def test_initial_params_must_match_layer_dims(xp):
    X, Y = data()
    params = make_params(xp, [3, 6, 1])  # chains, but layer_dims says 4 hidden units
    with raises(ValueError, "params['W1'] has shape (6, 3)", "layer_dims", "(4, 3)"):
        model(xp).fit(xp.asarray(X), xp.asarray(Y), initial_params=params)


@pytest.mark.parametrize("missing", ["W2", "b1"])
@pytest.mark.parametrize("where", ["forward", "update", "fit"])
def test_missing_W_or_b(xp, missing, where):
    params = make_params(xp)
    del params[missing]
    X, Y = data()
    with raises(ValueError, f"missing ['{missing}']", "'W1', 'W2', 'b1', 'b2'"):
        if where == "forward":
            xpnet.forward(xp.asarray(X), params, ACTS)
        elif where == "update":
            xpnet.update(params, {f"d{k}": v for k, v in params.items()}, 0.1)
        else:
            model(xp).fit(xp.asarray(X), xp.asarray(Y), initial_params=params)


def test_unknown_activation_lists_valid(xp):
    X, _ = data()
    with raises(ValueError, "'rleu' is not known", "'relu'", "'tanh'", "'sigmoid'"):
        xpnet.forward(xp.asarray(X), make_params(xp), ["rleu", "sigmoid"])
    with raises(ValueError, "'rleu' is not known", "'leaky_relu'"):
        model(xp, hidden_activation="rleu")


def test_unknown_init_lists_valid(xp):
    with raises(ValueError, "init='gaussian'", "'he'", "'xavier'", "'random'"):
        model(xp, init="gaussian")


def test_unknown_impl_lists_valid(xp):
    X, Y = data()
    with raises(ValueError, "impl='fast'", "'vectorized'", "'loops'", "'per_example'"):
        xpnet.forward(xp.asarray(X), make_params(xp), ACTS, impl="fast")
    AL, caches = xpnet.forward(xp.asarray(X), make_params(xp), ACTS)
    with raises(ValueError, "impl='fast'", "'vectorized'"):
        xpnet.backward(AL, xp.asarray(Y), caches, impl="fast")
    with raises(ValueError, "impl='fast'", "'vectorized'"):
        model(xp, impl="fast")


def test_unknown_backend_lists_valid(xp):
    with raises(ValueError, "backend='tensorflow'", "'numpy'", "'torch'", "'cupy'"):
        xpnet.NeuralNetwork(DIMS, backend="tensorflow")
    with raises(ValueError, "backend='tensorflow'", "'numpy'"):
        xpnet.to_backend(xpnet.to_numpy(xp.asarray(np.ones(2))), "tensorflow")


def test_output_activation_must_be_sigmoid(xp):
    with raises(ValueError, "output activation is 'tanh'", "'sigmoid'"):
        model(xp, output_activation="tanh")


@pytest.mark.parametrize("np_dtype", [np.int64, np.uint8, np.bool_])
def test_integer_and_bool_X_converted_by_value(xp, np_dtype):
    """Documented rule: integer/bool X is converted by value to the float dtype (True -> 1.0)."""
    rng = np.random.default_rng(1)
    X_int = (rng.integers(0, 2 if np_dtype is np.bool_ else 255, size=(3, M))).astype(np_dtype)
    params = make_params(xp)
    AL_int, _ = xpnet.forward(on(xp, X_int), params, ACTS)
    AL_float, _ = xpnet.forward(xp.asarray(X_int.astype(np.float64)), params, ACTS)
    assert AL_int.dtype == xp.float64
    assert_close(AL_int, xpnet.to_numpy(AL_float), rtol=0)
    net = model(xp).fit(on(xp, X_int), on(xp, (np.arange(M) % 2).reshape(1, -1)))
    assert net.params_["W1"].dtype == xp.float64
    assert_close(
        net.predict_proba(on(xp, X_int)),
        xpnet.to_numpy(net.predict_proba(xp.asarray(X_int.astype(np.float64)))),
        rtol=0,
    )


def test_complex_X_refused(xp):
    if xp.name == "dask" or not hasattr(xp.ns, "complex128"):
        pytest.skip(f"{xp.id} cannot hold complex arrays here")
    X = xpnet.to_backend(np.ones((3, M), dtype=np.complex128), xp.name, device=xp.device)
    with raises(TypeError, "X has complex dtype", "real"):
        xpnet.forward(X, make_params(xp), ACTS)


def test_integer_params_refused(xp):
    params = {
        k: on(xp, np.ones(xpnet.to_numpy(v).shape, dtype=np.int64))
        for k, v in make_params(xp).items()
    }
    X, _ = data()
    with raises(TypeError, "dtype", "expected float32 or float64", "astype"):
        xpnet.forward(xp.asarray(X), params, ACTS)


def test_mixed_float_dtypes_refused(xp):
    params = make_params(xp)
    params["W2"] = xp.asarray(xpnet.to_numpy(params["W2"]), dtype="float32")
    X, _ = data()
    with raises(TypeError, "W2 has dtype", "share a dtype"):
        xpnet.forward(xp.asarray(X), params, ACTS)


# ============================================================================ backends, devices


def _other_library(xp):
    return "array_api_strict" if xp.name == "numpy" else "numpy"


@pytest.mark.parametrize("where", ["forward", "cost", "update", "fit"])
def test_arrays_from_two_libraries(xp, where):
    other = _other_library(xp)
    X, Y = data()
    params = make_params(xp)
    with raises(TypeError, "different libraries", "xpnet.to_backend"):
        if where == "forward":
            xpnet.forward(xpnet.to_backend(X, other), params, ACTS)
        elif where == "cost":
            xpnet.cost(xp.asarray(np.full((1, M), 0.5)), xpnet.to_backend(Y, other))
        elif where == "update":
            grads = {f"d{k}": xpnet.to_backend(xpnet.to_numpy(v), other) for k, v in params.items()}
            xpnet.update(params, grads, 0.1)
        else:
            xpnet.NeuralNetwork(DIMS, num_iterations=1).fit(
                xp.asarray(X), xpnet.to_backend(Y, other)
            )


def _strict_pair():
    """array_api_strict on two devices of one library: the multi-device case on a CPU."""
    pytest.importorskip("array_api_strict")
    return (
        lambda a: xpnet.to_backend(a, "array_api_strict"),
        lambda a: xpnet.to_backend(a, "array_api_strict", device="device1"),
    )


@pytest.mark.parametrize("where", ["forward", "cost", "update", "fit", "fit with backend"])
def test_arrays_on_two_devices(where):
    default, device1 = _strict_pair()
    X, Y = data()
    host = np_params()
    params = {k: default(v) for k, v in host.items()}
    with raises(ValueError, "device", "device1", "share a device", "xpnet.to_backend"):
        if where == "forward":
            xpnet.forward(device1(X), params, ACTS)
        elif where == "cost":
            xpnet.cost(default(np.full((1, M), 0.5)), device1(Y))
        elif where == "update":
            xpnet.update(params, {f"d{k}": device1(v) for k, v in host.items()}, 0.1)
        elif where == "fit":
            xpnet.NeuralNetwork(DIMS, num_iterations=1).fit(device1(X), default(Y))
        else:
            xpnet.NeuralNetwork(DIMS, num_iterations=1, backend="array_api_strict").fit(
                device1(X), default(Y)
            )


def test_backend_unavailable_error_is_a_value_error():
    """``except ValueError`` (bad argument value) and ``except ImportError`` both catch it."""
    assert issubclass(xpnet.BackendUnavailableError, ImportError)
    assert issubclass(xpnet.BackendUnavailableError, ValueError)


def _no_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes ``import cupy`` raise ImportError


def _cupy_without_gpu(monkeypatch, count):
    fake = types.ModuleType("cupy")

    def get_device_count():
        if count is None:
            raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
        return count

    fake.cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=get_device_count)
    )
    monkeypatch.setitem(sys.modules, "cupy", fake)


@pytest.mark.parametrize("situation", ["not installed", "driver error", "0 devices"])
@pytest.mark.parametrize("where", ["NeuralNetwork", "get_namespace", "to_backend"])
def test_cupy_absent_or_without_gpu(xp, monkeypatch, situation, where):
    if situation == "not installed":
        _no_cupy(monkeypatch)
        fragments = ["backend='cupy'", "cannot be imported", "xpnet[cuda12]", "'numpy'"]
    else:
        _cupy_without_gpu(monkeypatch, None if situation == "driver error" else 0)
        fragments = ["backend='cupy'", "device", "NVIDIA", "backend='numpy'"]
    with raises(xpnet.BackendUnavailableError, *fragments) as info:
        if where == "NeuralNetwork":
            xpnet.NeuralNetwork(DIMS, backend="cupy")
        elif where == "get_namespace":
            xpnet.get_namespace("cupy")
        else:
            xpnet.to_backend(xpnet.to_numpy(xp.asarray(np.ones((2, 2)))), "cupy")
    assert isinstance(info.value, ValueError)


# ============================================================================ hyperparameters


@pytest.mark.parametrize("lr", [0, -0.1, math.nan, math.inf])
def test_non_positive_learning_rate(xp, lr):
    with raises(ValueError, "learning_rate must be positive", repr(lr)):
        model(xp, learning_rate=lr)
    params = make_params(xp)
    with raises(ValueError, "learning_rate must be positive"):
        xpnet.update(params, {f"d{k}": v for k, v in params.items()}, lr)


def test_learning_rate_of_wrong_type(xp):
    with raises(TypeError, "learning_rate must be a positive number", "'0.1'", "str"):
        model(xp, learning_rate="0.1")


@pytest.mark.parametrize("n", [0, -3])
def test_non_positive_num_iterations(xp, n):
    with raises(ValueError, "num_iterations must be positive", str(n)):
        model(xp, num_iterations=n)


@pytest.mark.parametrize("n", [2.5, True, "10"])
def test_num_iterations_must_be_int(xp, n):
    with raises(TypeError, "num_iterations must be a positive integer", repr(n)):
        model(xp, num_iterations=n)


@pytest.mark.parametrize("l2", [-0.1, math.nan, -math.inf])
def test_negative_l2(xp, l2):
    with raises(ValueError, "l2 must be finite and >= 0", repr(l2), "l2=0.0"):
        model(xp, l2=l2)
    X, Y = data()
    AL, caches = xpnet.forward(xp.asarray(X), make_params(xp), ACTS)
    with raises(ValueError, "l2 must be finite and >= 0"):
        xpnet.cost(AL, xp.asarray(Y), make_params(xp), l2=l2)
    with raises(ValueError, "l2 must be finite and >= 0"):
        xpnet.backward(AL, xp.asarray(Y), caches, l2=l2)


@pytest.mark.parametrize("bad", [[3], [3, 0, 1], [3, 2.5, 1], "341"])
def test_bad_layer_dims(xp, bad):
    with raises(ValueError, "layer_dims", "positive integers", "[12288, 20, 7, 5, 1]"):
        model(xp, bad)


def test_layer_dims_must_end_with_one_unit(xp):
    with raises(ValueError, "layer_dims ends with 2 output units", "end layer_dims with 1"):
        model(xp, [3, 4, 2])


def test_predict_before_fit(xp):
    X, _ = data()
    with raises(RuntimeError, "not fitted", "fit(X, Y)"):
        model(xp).predict(xp.asarray(X))


def test_finite_check_survives_an_overflowing_sum_and_still_finds_nan(xp):
    """check_finite's fast path (a finite sum) falls back to the element check when the sum
    overflows: huge but finite X is accepted, a NaN among huge values is still found."""
    from xpnet._validation import check_finite

    big = np.full((3, 4), np.finfo(np.float32).max / 2, dtype=np.float32)
    check_finite({"X": xp.asarray(big, "float32")}, xp.ns)  # sum is inf: elements are fine
    big[1, 2] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        check_finite({"X": xp.asarray(big, "float32")}, xp.ns)
