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

import array_api_extra as xpx
import numpy as np
import pytest

import xpnet

DIMS = [3, 4, 1]
M = 5


def on(xp, device, a):
    """Place host data on xp's device keeping its NumPy dtype (ints, bools too)."""
    return xp.asarray(np.asarray(a), device=device)


def np_params(dims=DIMS, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for k in range(1, len(dims)):
        out[f"W{k}"] = rng.standard_normal((dims[k], dims[k - 1]))
        out[f"b{k}"] = np.zeros((dims[k], 1))
    return out


def make_params(xp, device, dims=DIMS, seed=0):
    return {
        k: xp.asarray(v, dtype=xp.float64, device=device) for k, v in np_params(dims, seed).items()
    }


def data(m=M, n_x=DIMS[0], seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = (np.arange(m) % 2).reshape(1, m).astype(np.float64)
    return X, Y


def model(backend=None, device=None, dims=DIMS, **kw):
    """A NeuralNetwork on ``backend`` (a Backend member; None: follow the input)."""
    kw.setdefault("num_iterations", 2)
    library = None if backend is None else backend.library
    return xpnet.NeuralNetwork(dims, backend=library, device=device, **kw)


def fitted(xp, backend, device):
    X, Y = data()
    return model(backend, device).fit(
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(Y, dtype=xp.float64, device=device),
    )


ACTS = ["relu", "sigmoid"]


def raises(exc, *fragments):
    """pytest.raises that also requires every fragment (plain text) in the message."""
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


# ============================================================================ orientation


def test_X_transposed_suggests_X_T_forward(xp, device):
    X, _ = data(m=12, n_x=5)  # (5, 12) but the network expects n_x = 12: the (m, n_x) mistake
    params = make_params(xp, device, [12, 3, 1])
    with raises(
        ValueError, "X has shape (5, 12)", "params['W1'].shape[1] (n_x)", "is 12", "(n_x, m)", "X.T"
    ):
        xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), params, ACTS)


def test_X_transposed_suggests_X_T_fit_and_predict(xp, backend, device):
    X, Y = data(m=12, n_x=5)
    net = model(backend, device, [12, 3, 1])
    with raises(ValueError, "X has shape (5, 12)", "X.T"):
        net.fit(
            xp.asarray(X, dtype=xp.float64, device=device),
            xp.asarray(Y.reshape(1, -1)[:, :5], dtype=xp.float64, device=device),
        )
    good = model(backend, device, [5, 3, 1]).fit(
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray((np.arange(12) % 2)[None, :], dtype=xp.float64, device=device),
    )
    with raises(ValueError, "X has shape (12, 5)", "X.T"):
        good.predict(xp.asarray(X.T, dtype=xp.float64, device=device))


def test_X_transposed_course_example_numpy():
    """The exact example of the conventions: 209 cat images of 64*64*3 = 12288 pixels."""
    X = np.zeros((209, 12288), dtype=np.float64)
    Y = np.zeros((1, 209))
    with raises(ValueError, "X has shape (209, 12288)", "layer_dims[0] (n_x) is 12288", "pass X.T"):
        xpnet.NeuralNetwork([12288, 1], num_iterations=1).fit(X, Y)


def test_X_wrong_n_x_not_transposed_says_reshape(xp, device):
    X, _ = data(m=4, n_x=6)
    with raises(ValueError, "X has shape (6, 4)", "is 3", "reshape"):
        xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), make_params(xp, device), ACTS)


Y_BAD_SHAPES = {
    "rank1 (m,)": (lambda Y: Y.reshape(-1), ["Y has shape (5,)", "rank-1", "Y.reshape(1, -1)"]),
    "column (m,1)": (lambda Y: Y.reshape(-1, 1), ["Y has shape (5, 1)", "(1, m)", "Y.T"]),
    "two rows (2,m)": (
        lambda Y: np.concatenate([Y, 1 - Y]),
        ["Y has shape (2, 5)", "(1, m)", "single row"],
    ),
}


def call_with_labels(xp, backend, device, where, X, Yb):
    """Give labels Yb (with data X) to one entry point: fit, score, cost or backward."""
    if where == "fit":
        model(backend, device).fit(xp.asarray(X, dtype=xp.float64, device=device), Yb)
    elif where == "score":
        fitted(xp, backend, device).score(xp.asarray(X, dtype=xp.float64, device=device), Yb)
    else:
        AL, caches = xpnet.forward(
            xp.asarray(X, dtype=xp.float64, device=device), make_params(xp, device), ACTS
        )
        if where == "cost":
            xpnet.cost(AL, Yb)
        else:
            xpnet.backward(AL, Yb, caches)


@pytest.mark.parametrize("kind", list(Y_BAD_SHAPES))
@pytest.mark.parametrize("where", ["fit", "score", "cost", "backward"])
def test_Y_bad_shape(xp, backend, device, kind, where):
    X, Y = data()
    reshape, fragments = Y_BAD_SHAPES[kind]
    Ybad = xp.asarray(reshape(Y), dtype=xp.float64, device=device)
    with raises(ValueError, *fragments):
        call_with_labels(xp, backend, device, where, X, Ybad)


@pytest.mark.parametrize("where", ["forward", "fit", "predict"])
def test_rank1_X_refused(xp, backend, device, where):
    X1 = xp.asarray(np.ones(3), dtype=xp.float64, device=device)  # one example as a rank-1 vector
    with raises(ValueError, "X has shape (3,)", "rank-1", "reshape"):
        if where == "forward":
            xpnet.forward(X1, make_params(xp, device), ACTS)
        elif where == "fit":
            model(backend, device).fit(
                X1, xp.asarray(np.ones((1, 1)), dtype=xp.float64, device=device)
            )
        else:
            fitted(xp, backend, device).predict(X1)


@pytest.mark.parametrize("key", ["W1", "b1", "W2", "b2"])
@pytest.mark.parametrize("where", ["forward", "update", "fit"])
def test_rank1_params_refused(xp, backend, device, key, where):
    host = np_params()
    host[key] = host[key].reshape(-1)
    params = {k: xp.asarray(v, dtype=xp.float64, device=device) for k, v in host.items()}
    X, Y = data()
    with raises(ValueError, f"params['{key}'] has shape", "rank-1", "reshape"):
        if where == "forward":
            xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), params, ACTS)
        elif where == "update":
            grads = {f"d{k}": v for k, v in params.items()}
            xpnet.update(params, grads, 0.1)
        else:
            model(backend, device).fit(
                xp.asarray(X, dtype=xp.float64, device=device),
                xp.asarray(Y, dtype=xp.float64, device=device),
                initial_params=params,
            )


def test_rank1_AL_refused_by_cost(xp, device):
    with raises(ValueError, "AL has shape (4,)", "rank-1"):
        xpnet.cost(
            xp.asarray(np.full(4, 0.5), dtype=xp.float64, device=device),
            xp.asarray(np.ones((1, 4)), dtype=xp.float64, device=device),
        )


# ============================================================================ labels


@pytest.mark.parametrize("bad", [2.0, -1.0, 0.5])
@pytest.mark.parametrize("where", ["fit", "score", "cost"])
def test_labels_outside_0_1(xp, backend, device, bad, where):
    X, Y = data()
    Y[0, 2] = bad
    Yb = xp.asarray(Y, dtype=xp.float64, device=device)
    with raises(ValueError, "Y must hold binary labels 0 and 1", str(bad), "0/1"):
        if where == "fit":
            model(backend, device).fit(xp.asarray(X, dtype=xp.float64, device=device), Yb)
        elif where == "score":
            fitted(xp, backend, device).score(xp.asarray(X, dtype=xp.float64, device=device), Yb)
        else:
            xpnet.cost(xp.asarray(np.full((1, M), 0.5), dtype=xp.float64, device=device), Yb)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("where", ["fit X", "fit Y", "predict X", "score X", "score Y"])
def test_nan_inf_refused(xp, backend, device, value, where):
    X, Y = data()
    arg = where.split()[-1]
    (X if arg == "X" else Y)[0, 1] = value
    Xb, Yb = (
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(Y, dtype=xp.float64, device=device),
    )
    fragments = [f"{arg} contains 1 NaN or infinite value"] if arg == "X" else ["Y"]
    with raises(ValueError, *fragments):
        if where.startswith("fit"):
            model(backend, device).fit(Xb, Yb)
        elif where.startswith("predict"):
            # Dask keeps predict lazy: the check runs (and raises) when the result is computed.
            xpnet.to_numpy(fitted(xp, backend, device).predict(Xb))
        else:
            fitted(xp, backend, device).score(Xb, Yb)


def test_nan_in_Y_refused_by_cost(xp, device):
    Y = np.array([[0.0, math.nan, 1.0]])
    with raises(ValueError, "Y must hold binary labels", "nan"):
        xpnet.cost(
            xp.asarray(np.full((1, 3), 0.5), dtype=xp.float64, device=device),
            xp.asarray(Y, dtype=xp.float64, device=device),
        )


@pytest.mark.parametrize("where", ["fit", "forward", "predict"])
def test_empty_X_refused(xp, backend, device, where):
    X = xp.asarray(np.zeros((3, 0)), dtype=xp.float64, device=device)
    with raises(ValueError, "X has shape (3, 0)", "m = 0", "at least one"):
        if where == "fit":
            model(backend, device).fit(
                X, xp.asarray(np.zeros((1, 0)), dtype=xp.float64, device=device)
            )
        elif where == "forward":
            xpnet.forward(X, make_params(xp, device), ACTS)
        else:
            fitted(xp, backend, device).predict(X)


@pytest.mark.parametrize("where", ["fit", "score", "cost", "backward"])
def test_m_mismatch_between_X_and_Y(xp, backend, device, where):
    X, Y = data(m=5)
    Y4 = xp.asarray(Y[:, :4], dtype=xp.float64, device=device)
    with raises(ValueError, "Y has shape (1, 4)", "m = 5", "(1, 5)"):
        call_with_labels(xp, backend, device, where, X, Y4)


# ============================================================================ parameters


def test_params_that_do_not_chain(xp, device):
    params = make_params(xp, device, [3, 4, 1])
    params["W2"] = xp.asarray(
        np.ones((1, 5)), dtype=xp.float64, device=device
    )  # layer 1 has 4 units, W2 expects 5 inputs
    X, _ = data()
    with raises(ValueError, "params['W2'] has shape (1, 5)", "params['W1'] has (4, 3)", "chain"):
        xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), params, ACTS)


def test_bias_shape_mismatch(xp, device):
    params = make_params(xp, device)
    params["b1"] = xp.asarray(np.zeros((3, 1)), dtype=xp.float64, device=device)
    X, _ = data()
    with raises(ValueError, "params['b1'] has shape (3, 1)", "(4, 1)"):
        xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), params, ACTS)


def test_initial_params_must_match_layer_dims(xp, backend, device):
    X, Y = data()
    params = make_params(xp, device, [3, 6, 1])  # chains, but layer_dims says 4 hidden units
    with raises(ValueError, "params['W1'] has shape (6, 3)", "layer_dims", "(4, 3)"):
        model(backend, device).fit(
            xp.asarray(X, dtype=xp.float64, device=device),
            xp.asarray(Y, dtype=xp.float64, device=device),
            initial_params=params,
        )


@pytest.mark.parametrize("missing", ["W2", "b1"])
@pytest.mark.parametrize("where", ["forward", "update", "fit"])
def test_missing_W_or_b(xp, backend, device, missing, where):
    params = make_params(xp, device)
    del params[missing]
    X, Y = data()
    with raises(ValueError, f"missing ['{missing}']", "'W1', 'W2', 'b1', 'b2'"):
        if where == "forward":
            xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), params, ACTS)
        elif where == "update":
            xpnet.update(params, {f"d{k}": v for k, v in params.items()}, 0.1)
        else:
            model(backend, device).fit(
                xp.asarray(X, dtype=xp.float64, device=device),
                xp.asarray(Y, dtype=xp.float64, device=device),
                initial_params=params,
            )


def test_unknown_activation_lists_valid(xp, backend, device):
    X, _ = data()
    with raises(ValueError, "'rleu' is not known", "'relu'", "'tanh'", "'sigmoid'"):
        xpnet.forward(
            xp.asarray(X, dtype=xp.float64, device=device),
            make_params(xp, device),
            ["rleu", "sigmoid"],
        )
    with raises(ValueError, "'rleu' is not known", "'leaky_relu'"):
        model(backend, device, hidden_activation="rleu")


def test_unknown_init_lists_valid():
    with raises(ValueError, "init='gaussian'", "'he'", "'xavier'", "'random'"):
        model(init="gaussian")


def test_unknown_impl_lists_valid(xp, backend, device):
    X, Y = data()
    with raises(ValueError, "impl='fast'", "'vectorized'", "'loops'", "'per_example'"):
        xpnet.forward(
            xp.asarray(X, dtype=xp.float64, device=device),
            make_params(xp, device),
            ACTS,
            impl="fast",
        )
    AL, caches = xpnet.forward(
        xp.asarray(X, dtype=xp.float64, device=device), make_params(xp, device), ACTS
    )
    with raises(ValueError, "impl='fast'", "'vectorized'"):
        xpnet.backward(AL, xp.asarray(Y, dtype=xp.float64, device=device), caches, impl="fast")
    with raises(ValueError, "impl='fast'", "'vectorized'"):
        model(backend, device, impl="fast")


def test_unknown_backend_lists_valid(xp, device):
    with raises(ValueError, "backend='tensorflow'", "'numpy'", "'torch'", "'cupy'"):
        xpnet.NeuralNetwork(DIMS, backend="tensorflow")
    with raises(ValueError, "backend='tensorflow'", "'numpy'"):
        xpnet.to_backend(
            xpnet.to_numpy(xp.asarray(np.ones(2), dtype=xp.float64, device=device)), "tensorflow"
        )


def test_output_activation_must_be_sigmoid():
    with raises(ValueError, "output activation is 'tanh'", "'sigmoid'"):
        model(output_activation="tanh")


@pytest.mark.parametrize("np_dtype", [np.int64, np.uint8, np.bool_])
def test_integer_and_bool_X_converted_by_value(xp, backend, device, np_dtype):
    """Documented rule: integer/bool X is converted by value to the float dtype (True -> 1.0)."""
    rng = np.random.default_rng(1)
    X_int = (rng.integers(0, 2 if np_dtype is np.bool_ else 255, size=(3, M))).astype(np_dtype)
    params = make_params(xp, device)
    AL_int, _ = xpnet.forward(on(xp, device, X_int), params, ACTS)
    AL_float, _ = xpnet.forward(
        xp.asarray(X_int.astype(np.float64), dtype=xp.float64, device=device), params, ACTS
    )
    assert AL_int.dtype == xp.float64
    xpx.testing.assert_close(AL_int, AL_float, rtol=0)
    net = model(backend, device).fit(
        on(xp, device, X_int), on(xp, device, (np.arange(M) % 2).reshape(1, -1))
    )
    assert net.params_["W1"].dtype == xp.float64
    X_float = xp.asarray(X_int.astype(np.float64), dtype=xp.float64, device=device)
    xpx.testing.assert_close(
        net.predict_proba(on(xp, device, X_int)), net.predict_proba(X_float), rtol=0
    )


def test_complex_X_refused(xp, backend, device):
    X = xp.asarray(np.ones((3, M)), dtype=xp.complex128, device=device)
    with raises(TypeError, "X has complex dtype", "real"):
        xpnet.forward(X, make_params(xp, device), ACTS)


def test_integer_params_refused(xp, device):
    params = {
        k: on(xp, device, np.ones(xpnet.to_numpy(v).shape, dtype=np.int64))
        for k, v in make_params(xp, device).items()
    }
    X, _ = data()
    with raises(TypeError, "dtype", "expected float32 or float64", "astype"):
        xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), params, ACTS)


def test_mixed_float_dtypes_refused(xp, device):
    params = make_params(xp, device)
    params["W2"] = xp.asarray(xpnet.to_numpy(params["W2"]), dtype=xp.float32, device=device)
    X, _ = data()
    with raises(TypeError, "W2 has dtype", "share a dtype"):
        xpnet.forward(xp.asarray(X, dtype=xp.float64, device=device), params, ACTS)


# ============================================================================ backends, devices


def _other_library(backend):
    """The namespace of another library than ``backend``'s."""
    return xpnet.get_namespace("array_api_strict" if backend.library == "numpy" else "numpy")


@pytest.mark.parametrize("where", ["forward", "cost", "update", "fit"])
def test_arrays_from_two_libraries(xp, backend, device, where):
    other = _other_library(backend)
    X, Y = data()
    params = make_params(xp, device)
    with raises(TypeError, "different libraries", "xpnet.to_backend"):
        if where == "forward":
            xpnet.forward(other.asarray(X, dtype=other.float64), params, ACTS)
        elif where == "cost":
            xpnet.cost(
                xp.asarray(np.full((1, M), 0.5), dtype=xp.float64, device=device),
                other.asarray(Y, dtype=other.float64),
            )
        elif where == "update":
            grads = {f"d{k}": other.asarray(v, dtype=other.float64) for k, v in np_params().items()}
            xpnet.update(params, grads, 0.1)
        else:
            xpnet.NeuralNetwork(DIMS, num_iterations=1).fit(
                xp.asarray(X, dtype=xp.float64, device=device),
                other.asarray(Y, dtype=other.float64),
            )


def _strict_pair():
    """array_api_strict on two devices of one library: the multi-device case on a CPU."""
    xs = pytest.importorskip("array_api_strict")
    return (
        lambda a: xs.asarray(a, dtype=xs.float64),
        lambda a: xs.asarray(a, dtype=xs.float64, device=xs.Device("device1")),
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
def test_cupy_absent_or_without_gpu(xp, device, monkeypatch, situation, where):
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
            xpnet.to_backend(
                xpnet.to_numpy(xp.asarray(np.ones((2, 2)), dtype=xp.float64, device=device)), "cupy"
            )
    assert isinstance(info.value, ValueError)


# ============================================================================ hyperparameters


@pytest.mark.parametrize("lr", [0, -0.1, math.nan, math.inf])
def test_non_positive_learning_rate(xp, backend, device, lr):
    with raises(ValueError, "learning_rate must be positive", repr(lr)):
        model(backend, device, learning_rate=lr)
    params = make_params(xp, device)
    with raises(ValueError, "learning_rate must be positive"):
        xpnet.update(params, {f"d{k}": v for k, v in params.items()}, lr)


def test_learning_rate_of_wrong_type():
    with raises(TypeError, "learning_rate must be a positive number", "'0.1'", "str"):
        model(learning_rate="0.1")


@pytest.mark.parametrize("n", [0, -3])
def test_non_positive_num_iterations(n):
    with raises(ValueError, "num_iterations must be positive", str(n), "an integer >= 1",
                "e.g. num_iterations=2500"):  # fmt: skip
        model(num_iterations=n)


@pytest.mark.parametrize("n", [2.5, True, "10"])
def test_num_iterations_must_be_int(n):
    with raises(TypeError, "num_iterations must be a positive integer", repr(n)):
        model(num_iterations=n)


@pytest.mark.parametrize("l2", [-0.1, math.nan, -math.inf])
def test_negative_l2(xp, backend, device, l2):
    with raises(ValueError, "l2 must be finite and >= 0", repr(l2), "l2=0.0"):
        model(backend, device, l2=l2)
    X, Y = data()
    AL, caches = xpnet.forward(
        xp.asarray(X, dtype=xp.float64, device=device), make_params(xp, device), ACTS
    )
    with raises(ValueError, "l2 must be finite and >= 0"):
        xpnet.cost(
            AL, xp.asarray(Y, dtype=xp.float64, device=device), make_params(xp, device), l2=l2
        )
    with raises(ValueError, "l2 must be finite and >= 0"):
        xpnet.backward(AL, xp.asarray(Y, dtype=xp.float64, device=device), caches, l2=l2)


@pytest.mark.parametrize("bad", [[3], [3, 0, 1], [3, 2.5, 1], "341"])
def test_bad_layer_dims(bad):
    with raises(ValueError, "layer_dims", "positive integers", "[12288, 20, 7, 5, 1]"):
        model(dims=bad)


def test_layer_dims_must_end_with_one_unit():
    with raises(ValueError, "layer_dims ends with 2 output units", "end layer_dims with 1"):
        model(dims=[3, 4, 2])


def test_predict_before_fit(xp, backend, device):
    X, _ = data()
    with raises(RuntimeError, "not fitted", "fit(X, Y)"):
        model(backend, device).predict(xp.asarray(X, dtype=xp.float64, device=device))


def test_finite_check_survives_an_overflowing_sum_and_still_finds_nan(xp, device):
    """check_finite's fast path (a finite sum) falls back to the element check when the sum
    overflows: huge but finite X is accepted, a NaN among huge values is still found."""
    from xpnet._validation import check_finite

    big = np.full((3, 4), np.finfo(np.float32).max / 2, dtype=np.float32)
    check_finite(
        {"X": xp.asarray(big, dtype=xp.float32, device=device)}, xp
    )  # sum is inf: elements are fine
    big[1, 2] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        check_finite({"X": xp.asarray(big, dtype=xp.float32, device=device)}, xp)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", [(1, 5), (4, 1), (7, 13), (130, 257)])
def test_finite_check_finds_one_bad_value_anywhere(xp, device, shape, order):
    """The fast path sums the matrix (a BLAS product with ones, or torch's own reduction:
    ``_backend.value_total``): a single NaN, +inf or -inf at any position, in either
    memory order and across the kernels' block tails, still makes that sum non-finite
    and the check raise."""
    from xpnet._validation import check_finite

    rng = np.random.default_rng(0)
    clean = rng.standard_normal(shape).astype(np.float32)
    check_finite({"X": xp.asarray(clean, device=device)}, xp)
    for bad in (np.nan, np.inf, -np.inf):
        for _ in range(8):
            a = np.array(clean, order=order)
            a[rng.integers(shape[0]), rng.integers(shape[1])] = bad
            with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
                check_finite({"X": xp.asarray(a, device=device)}, xp)


# ------------------------------------------------- settings changed after construction


def _moons_like(m=60):
    rng = np.random.default_rng(21)
    X = rng.standard_normal((3, m))
    return X, (X[:1] > 0).astype(np.float64)


@pytest.mark.parametrize(
    "attr, value",
    [("hidden_activation", "tanh"), ("keep_prob", 0.5), ("learning_rate", 0.2),
     ("optimizer", "adam"), ("batch_size", 8)],
)  # fmt: skip
def test_a_setting_changed_after_construction_takes_effect(attr, value):
    """fit re-derives what it needs from the public attributes: hidden_activation and
    keep_prob set on the instance were ignored (activations and keep_probs are derived)."""
    X, Y = _moons_like()
    kw = dict(num_iterations=3, batch_size=16, record_every=1)
    net = xpnet.NeuralNetwork(DIMS, **kw)
    setattr(net, attr, value)
    net.fit(X, Y)
    ref = xpnet.NeuralNetwork(DIMS, **{**kw, attr: value}).fit(X, Y)
    assert net.costs_ == ref.costs_
    for k, p in ref.params_.items():
        np.testing.assert_array_equal(net.params_[k], p)


@pytest.mark.parametrize(
    "attr, value, message",
    [("learning_rate", -1.0, "learning_rate must be positive"),
     ("batch_size", 0, "batch_size must be positive"),
     ("optimizer", "adamw", "optimizer='adamw' is not known"),
     ("record_every", 0, "record_every must be positive"),
     ("shuffle", "Course", "shuffle='Course' is not valid"),
     ("keep_prob", 1.5, "keep_prob"),
     ("output_activation", "softmax", "softmax over one class")],
)  # fmt: skip
def test_a_setting_changed_after_construction_is_checked(attr, value, message):
    """Checked at fit like a constructor argument: a negative learning_rate trained
    (gradient ascent), the others failed deep in the loop (ZeroDivisionError, KeyError,
    range() arg 3 must not be zero) or were silently replaced (shuffle='Course')."""
    X, Y = _moons_like()
    net = xpnet.NeuralNetwork(DIMS, num_iterations=2, batch_size=16)
    setattr(net, attr, value)
    with pytest.raises(ValueError, match=re.escape(message)):
        net.fit(X, Y)


def test_a_continued_fit_refuses_a_changed_architecture():
    X, Y = _moons_like()
    net = xpnet.NeuralNetwork(DIMS, num_iterations=2, warm_start=True).fit(X, Y)
    net.layer_dims = [3, 4, 4, 1]
    with pytest.raises(ValueError, match=r"layer_dims=\[3, 4, 4, 1\] no longer matches"):
        net.fit(X, Y)
    with pytest.raises(ValueError, match="no longer matches"):
        net.partial_fit(X, Y)


def test_from_params_takes_lists_and_names_its_own_mistakes():
    """Nested lists were an AttributeError ('list' has no 'shape'), dtype= a "multiple
    values" TypeError, and a NaN weight got the data-cleaning advice."""
    net = xpnet.NeuralNetwork.from_params({"W1": [[1.0, -2.0]], "b1": [[0.5]]})
    assert net.layer_dims == [2, 1] and net.params_["W1"].dtype == np.float64
    np.testing.assert_array_equal(net.predict(np.array([[1.0], [0.0]])), [[1.0]])
    params = {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))}
    for k, value in (("dtype", "float32"), ("layer_dims", [2, 1])):
        with pytest.raises(TypeError, match=f"from_params takes {k} from the parameters"):
            xpnet.NeuralNetwork.from_params(params, **{k: value})
    with pytest.raises(ValueError, match="^from_params: W1 contains 1 NaN.*cannot start from"):
        xpnet.NeuralNetwork.from_params({**params, "W1": np.array([[np.nan, 1.0]])})


def test_a_continued_fit_moves_to_a_backend_or_dtype_set_since(xp, backend, device):
    """warm_start after net.backend / net.dtype changed: the fit kept computing where
    the parameters were (NumPy float64); the state now moves, and the run goes on."""
    X, Y = _moons_like()
    kw = dict(num_iterations=2, batch_size=16, record_every=1, optimizer="adam")
    ref = xpnet.NeuralNetwork(DIMS, **{**kw, "num_iterations": 4}).fit(X, Y)
    net = xpnet.NeuralNetwork(DIMS, warm_start=True, **kw).fit(X, Y)
    net.backend, net.device = backend.library, device
    net.fit(xp.asarray(X, device=device), xp.asarray(Y, device=device))
    from helpers import assert_on

    assert_on(net.params_["W1"], xp, device)
    assert_on(net.opt_state_["vdW1"], xp, device)
    np.testing.assert_allclose([c for _, c in net.costs_], [c for _, c in ref.costs_], rtol=1e-10)
    net.dtype = "float32"
    net.fit(xp.asarray(X, device=device), xp.asarray(Y, device=device))
    assert xpnet.to_numpy(net.params_["W1"]).dtype == np.float32
    assert net.n_iter_ == 6


def test_torch_meta_tensors_and_device_are_refused_by_name():
    """A torch tensor on the 'meta' device has a shape and no values: fit and predict
    failed inside torch ("Cannot copy out of meta tensor", "Tensor.item() cannot be
    called on meta tensors"), naming neither X nor device."""
    torch = pytest.importorskip("torch")
    X, Y = torch.ones((3, 5), device="meta"), torch.ones((1, 5), device="meta")
    with pytest.raises(ValueError, match=r"X is a torch tensor on the 'meta' device"):
        xpnet.NeuralNetwork([3, 2, 1], num_iterations=2, backend="torch").fit(X, Y)
    with pytest.raises(ValueError, match=r"device='meta': torch's 'meta' device holds"):
        xpnet.NeuralNetwork([3, 2, 1], num_iterations=2, backend="torch", device="meta").fit(
            np.ones((3, 5)), np.ones((1, 5))
        )
    with pytest.raises(ValueError, match=r"device=device\(type='meta'\)"):
        xpnet.NeuralNetwork([3, 2, 1], backend="torch", device=torch.device("meta")).fit(
            np.ones((3, 5)), np.ones((1, 5))
        )
    net = xpnet.NeuralNetwork([3, 2, 1], num_iterations=2).fit(np.ones((3, 5)), np.ones((1, 5)))
    with pytest.raises(ValueError, match=r"X is a torch tensor on the 'meta' device"):
        net.predict(X)


@pytest.mark.parametrize(
    "kw, error, message",
    [({"warm_start": "False"}, TypeError, "warm_start must be True or False, got 'False'"),
     ({"shuffle": 1}, ValueError, "shuffle=1 is not valid"),
     ({"seed": -1}, ValueError, "seed=-1 is negative"),
     ({"learning_rate_decay": lambda a: a}, TypeError,
      "cannot be called as decay(alpha0, epoch)")],
)  # fmt: skip
def test_settings_that_were_coerced_or_failed_late_are_refused_at_construction(kw, error, message):
    """warm_start="False" was bool()-ed to True (a second fit continued the first);
    shuffle=1 passed the `in (True, False, 'course')` test but the Dask loop's
    `shuffle is True` then never shuffled the blocks; seed=-1 failed inside NumPy at fit;
    a one-argument decay failed at the first decayed epoch, mid-training."""
    with pytest.raises(error, match=re.escape(message)):
        xpnet.NeuralNetwork(DIMS, **kw)


def test_a_numpy_bool_shuffle_is_true():
    """shuffle=np.True_ (from a config array) trained unshuffled on Dask's blocks."""
    net = xpnet.NeuralNetwork(DIMS, shuffle=np.True_, warm_start=np.False_)
    assert net.shuffle is True and net.warm_start is False
