"""Input checks of the public functional API found by a bug hunt: each case was accepted
silently (a wrong number, a changed dtype) or failed with an error that named neither
the argument nor the fix (a bare KeyError, ZeroDivisionError, NumPy's "scale < 0")."""

from __future__ import annotations

import math

import numpy as np
import pytest

import xpnet
from xpnet import optimizers
from xpnet._testing import Backend
from xpnet.datasets import circles, make_synthetic, moons, planar_flower
from xpnet.schedules import learning_rate_at


def _params(xp, device, dims=(3, 4, 1), dtype="float64"):
    host = xpnet.initialize_parameters(list(dims), "he", seed=0)
    return {k: xp.asarray(a, dtype=getattr(xp, dtype), device=device) for k, a in host.items()}


# --------------------------------------------------------------------------- gradient_check


def test_gradient_check_refuses_jax_without_64_bit_mode():
    """Without 64-bit mode JAX's float64 cast stays float32 (a warning only): a right
    backward pass came out with a relative difference near 0.5 instead of 1e-9."""
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 5)), (rng.random((1, 5)) > 0.5) * 1.0
    host = xpnet.initialize_parameters([3, 4, 1], seed=0)
    was = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    try:
        params = {k: jnp.asarray(a) for k, a in host.items()}
        with pytest.warns(UserWarning), pytest.raises(ValueError, match="jax_enable_x64"):
            xpnet.gradient_check(params, jnp.asarray(X), jnp.asarray(Y), ["relu", "sigmoid"])
    finally:
        jax.config.update("jax_enable_x64", was)


def test_gradient_check_never_reports_nan_gradients_as_right():
    """NaN gradients (a learner's g' that divides by zero), a NaN parameter or a NaN in X
    gave 0.0, the "backward is right" reading: NaN > 0 is False, so the last line fell
    through to 0.0."""
    from xpnet.activations import Activation

    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 5)), np.array([[0.0, 1, 1, 0, 1]])
    p = xpnet.initialize_parameters([3, 4, 1], seed=0)
    buggy = Activation("nan_prime", lambda Z, *, xp: xp.tanh(Z), lambda Z, *, xp: Z * np.nan)
    with pytest.raises(ValueError, match=r"backward pass returned g with NaN or inf in dW1"):
        xpnet.gradient_check(p, X, Y, [buggy, "sigmoid"])
    W1 = p["W1"].copy()
    W1[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"^gradient_check: W1 contains 1 NaN.*finite params"):
        xpnet.gradient_check({**p, "W1": W1}, X, Y, ["relu", "sigmoid"])
    with pytest.raises(ValueError, match=r"X contains 1 NaN"):
        xpnet.gradient_check(p, np.where(np.arange(15).reshape(3, 5) == 7, np.nan, X), Y,
                             ["relu", "sigmoid"])  # fmt: skip
    zero = {k: np.zeros_like(a) for k, a in p.items()}  # g = g̃ = 0 exactly: they agree
    assert xpnet.gradient_check(zero, np.zeros((3, 5)), np.full((1, 5), 0.5) > 1, ["relu",
                                "sigmoid"]) < 1e-7  # fmt: skip


def test_gradient_check_refuses_what_forward_and_cost_refuse():
    """A softmax over one unit gave 0.0, a sigmoid over three units 5e-9, Y = 2 with a
    sigmoid 9e-10 and class 5 of C = 3 2.6e-9 (an all-zero one-hot column): each a
    relative difference for a network or labels that forward or cost refuse."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 5))
    one, three = (xpnet.initialize_parameters([3, 4, C], seed=0) for C in (1, 3))
    with pytest.raises(ValueError, match=r"params\['W2'\] has 1 output unit.*'softmax'"):
        xpnet.gradient_check(one, X, np.ones((1, 5)), ["relu", "softmax"])
    with pytest.raises(ValueError, match=r"params\['W2'\] has 3 output units.*'sigmoid'"):
        xpnet.gradient_check(three, X, np.ones((3, 5)) / 3, ["relu", "sigmoid"])
    with pytest.raises(ValueError, match=r"binary labels 0 and 1 only.*\[2\.0\]"):
        xpnet.gradient_check(one, X, np.array([[0.0, 1, 2, 0, 1]]), ["relu", "sigmoid"])
    with pytest.raises(ValueError, match=r"class labels \[5\] outside 0\.\.C-1"):
        xpnet.gradient_check(three, X, np.array([[0, 1, 2, 5, 1]]), ["relu", "softmax"])


# --------------------------------------------------------------------------- backward


@pytest.mark.parametrize("activation", ["relu", "tanh", "linear"])
def test_backward_names_a_last_layer_without_an_output_activation(xp, device, activation):
    """A last cache made by a hidden activation raised a bare KeyError: 'relu'."""
    p = _params(xp, device)
    X = xp.asarray(np.ones((3, 5)), dtype=xp.float64, device=device)
    Y = xp.asarray(np.ones((1, 5)), dtype=xp.float64, device=device)
    A1, c1 = xpnet.linear_activation_forward(X, p["W1"], p["b1"], "relu")
    A2, c2 = xpnet.linear_activation_forward(A1, p["W2"], p["b2"], activation)
    with pytest.raises(ValueError, match=rf"caches\[-1\].*'{activation}'.*'sigmoid'.*'softmax'"):
        xpnet.backward(A2, Y, [c1, c2])


def test_dA_is_the_courses_per_example_gradient():
    """backward's dA[l] (and linear_activation_backward's dA) are m ∂J/∂A[l], as the
    course's dZ[L] = A[L] - Y; the docstrings called them ∂J/∂A[l]."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 5)), np.array([[0.0, 1, 1, 0, 1]])
    p = xpnet.initialize_parameters([3, 4, 1], seed=0)

    def J(X):
        AL, caches = xpnet.forward(X, p, ["tanh", "sigmoid"])
        return float(xpnet.cost(AL, Y, logits=caches[-1].Z))

    AL, caches = xpnet.forward(X, p, ["tanh", "sigmoid"])
    dA0 = xpnet.backward(AL, Y, caches, return_dA=True)["dA0"]
    eps, dJ_dX = 1e-6, np.zeros_like(X)
    for i in np.ndindex(X.shape):
        e = np.zeros_like(X)
        e[i] = eps
        dJ_dX[i] = (J(X + e) - J(X - e)) / (2 * eps)
    np.testing.assert_allclose(dA0, X.shape[1] * dJ_dX, rtol=1e-6)


def test_building_blocks_and_cost_refuse_a_gradient_of_another_dtype(xp, device):
    """A float64 dZ or dA with a float32 layer gave float64 gradients on NumPy (and torch's
    own "expected m1 and m2 to have the same dtype"); float32 AL with float64 params and
    l2 > 0 gave a float64 cost."""
    p = _params(xp, device, dtype="float32")
    X = xp.asarray(np.ones((3, 5)), dtype=xp.float32, device=device)
    Z, linear_cache = xpnet.linear_forward(X, p["W1"], p["b1"])
    dZ64 = xp.asarray(np.ones((4, 5)), dtype=xp.float64, device=device)
    with pytest.raises(TypeError, match=r"dZ has dtype .*float64 but W has .*float32"):
        xpnet.linear_backward(dZ64, linear_cache)
    _, cache = xpnet.linear_activation_forward(X, p["W1"], p["b1"], "relu")
    with pytest.raises(TypeError, match=r"dA has dtype .*float64 but cache.Z has .*float32"):
        xpnet.linear_activation_backward(dZ64, cache)
    AL = xp.asarray(np.full((1, 5), 0.5), dtype=xp.float32, device=device)
    Y = xp.asarray(np.ones((1, 5)), dtype=xp.float32, device=device)
    p64 = _params(xp, device, dtype="float64")
    with pytest.raises(TypeError, match=r"W1 has dtype .*float64 but AL has .*float32"):
        xpnet.cost(AL, Y, p64, l2=0.1)


def test_cost_refuses_logits_passed_as_AL():
    """AL = 1.5 (logits where probabilities belong) was clipped to 1 - ε and gave a
    finite, wrong cost (14.4); NaN still gives NaN."""
    Y = np.array([[1.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match=r"AL holds values outside \[0, 1\] \(from -2.0 to "
                                         r"1.5\).*logits=Z"):  # fmt: skip
        xpnet.cost(np.array([[1.5, -2.0, 0.5]]), Y)
    assert math.isnan(float(xpnet.cost(np.array([[np.nan, 0.5, 0.5]]), Y)))
    assert float(xpnet.cost(np.array([[1.0, 0.0, 1.0]]), Y)) < 1e-12  # the bounds are allowed


# --------------------------------------------------------------------------- masks and update


def test_a_mask_of_another_dtype_is_refused(xp, device):
    """A float64 mask with float32 parameters turned A[L] and every gradient float64."""
    p = _params(xp, device, dtype="float32")
    X = xp.asarray(np.ones((3, 5)), dtype=xp.float32, device=device)
    D = xp.asarray(np.full((4, 5), 2.0), dtype=xp.float64, device=device)
    with pytest.raises(TypeError, match=r"masks\[0\] has dtype .*float64.* params\['W1'\] has"):
        xpnet.forward(X, p, ["relu", "sigmoid"], masks=[D, None])
    Y = xp.asarray(np.ones((1, 5)), dtype=xp.float64, device=device)
    with pytest.raises(TypeError, match=r"masks\[0\] has dtype"):
        xpnet.gradient_check(p, X, Y, ["relu", "sigmoid"], masks=[D, None])


@pytest.mark.skip_xp_backends(Backend.NUMPY, reason="the mask is a NumPy array: same library")
def test_a_mask_of_another_library_is_refused(xp, device):
    """A NumPy mask with torch (or other) parameters was accepted and mixed in."""
    p = _params(xp, device)
    X = xp.asarray(np.ones((3, 5)), dtype=xp.float64, device=device)
    with pytest.raises(TypeError, match=r"masks\[0\]: numpy"):
        xpnet.forward(X, p, ["relu", "sigmoid"], masks=[np.full((4, 5), 2.0), None])


def test_a_mask_on_another_device_is_refused():
    strict = pytest.importorskip("array_api_strict")
    xp = xpnet.get_namespace("array_api_strict")
    device1 = xpnet._backend.resolve_device(xp, "device1")
    p = _params(xp, device1)
    X = xp.asarray(np.ones((3, 5)), dtype=xp.float64, device=device1)
    D = xp.asarray(np.full((4, 5), 2.0), dtype=xp.float64, device=strict.Device("CPU_DEVICE"))
    with pytest.raises(ValueError, match=r"masks\[0\] is on device"):
        xpnet.forward(X, p, ["relu", "sigmoid"], masks=[D, None])


def test_update_refuses_gradients_of_another_dtype(xp, device):
    """update(params32, grads64, α) returned float64 parameters."""
    p = _params(xp, device, dtype="float32")
    grads = {f"d{k}": xp.ones(a.shape, dtype=xp.float64, device=device) for k, a in p.items()}
    with pytest.raises(TypeError, match=r"grads\['dW1'\] has dtype .*float64.* params\['W1'\]"):
        xpnet.update(p, grads, 0.1)


# --------------------------------------------------------------------------- optimizers


@pytest.mark.parametrize(
    ("name", "hyper", "match"),
    [
        ("adam", {"beta1": 1.0}, r"beta1=1.0 is outside \[0, 1\)"),
        ("adam", {"beta2": 1.5}, r"beta2=1.5 is outside \[0, 1\)"),
        ("momentum", {"beta": 1.0}, r"beta=1.0 is outside \[0, 1\)"),
        ("rmsprop", {"epsilon": 0.0}, "epsilon must be positive"),
        ("adam", {"epsilon": math.nan}, "epsilon must be positive"),
    ],
)
def test_optimizer_update_checks_its_hyperparameters(name, hyper, match):
    """beta1=1 gave NaN parameters, epsilon=0 divided 0 by 0, beta2=1.5 was taken."""
    with pytest.raises(ValueError, match=match):
        optimizers.optimizer_update(name, **hyper, xp=np)


@pytest.mark.parametrize(
    ("update", "hyper", "match"),
    [
        (optimizers.adam_update, {"beta1": 1.0, "beta2": 0.999, "epsilon": 1e-8}, "beta1"),
        (optimizers.adam_update, {"beta1": 0.9, "beta2": -0.1, "epsilon": 1e-8}, "beta2"),
        (optimizers.momentum_update, {"beta": 1.0}, "beta"),
        (optimizers.rmsprop_update, {"beta2": 0.999, "epsilon": 0.0}, "epsilon"),
    ],
)
def test_the_optimizers_own_updates_check_their_hyperparameters(update, hyper, match):
    p = xpnet.initialize_parameters([2, 1], seed=0)
    grads = {f"d{k}": np.ones_like(a) for k, a in p.items()}
    state = optimizers.initialize_optimizer_state("adam", p, xp=np)
    kw = {} if update is optimizers.momentum_update else {"xp": np}
    with pytest.raises(ValueError, match=match):
        update(p, grads, state, 0.01, **hyper, **kw)


def test_optimizer_state_functions_name_an_unknown_optimizer():
    """initialize_optimizer_state("sgd", ...) and optimizer_state_keys raised KeyError: 'sgd'."""
    p = xpnet.initialize_parameters([2, 1], seed=0)
    with pytest.raises(ValueError, match=r"optimizer='sgd' is not known; expected one of"):
        optimizers.initialize_optimizer_state("sgd", p, xp=np)
    with pytest.raises(ValueError, match=r"optimizer='sgd' is not known; expected one of"):
        optimizers.optimizer_state_keys("sgd", p)


# --------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    ("args", "kw", "error", "match"),
    [
        ((2, 0.1, "inverse_time"), {"decay_rate": -2}, ValueError, "decay_rate must be positive"),
        ((3, 0.1, "scheduled"), {"decay_rate": -0.5, "time_interval": 1}, ValueError,
         "decay_rate must be positive"),
        ((3, 0.1, "scheduled"), {"time_interval": 0}, ValueError, "time_interval must be"),
        ((3, 0.1, "scheduled"), {"time_interval": 2.5}, TypeError, "time_interval must be"),
        ((3, 0.1, "exp"), {}, ValueError, "learning_rate_decay='exp' is not known"),
        ((0, 0.1, "exp"), {}, ValueError, "learning_rate_decay='exp' is not known"),
        ((-1, 0.1, "inverse_time"), {}, ValueError, "epoch=-1"),
        ((2, -0.1, "inverse_time"), {}, ValueError, "alpha0 must be positive"),
    ],
)  # fmt: skip
def test_learning_rate_at_checks_its_arguments(args, kw, error, match):
    """Negative rates, ZeroDivisionError, and "'str' object is not callable" before."""
    with pytest.raises(error, match=match):
        learning_rate_at(*args, **kw)


# --------------------------------------------------------------------------- initializers


@pytest.mark.parametrize(
    ("scale", "error"), [(math.nan, ValueError), (-0.01, ValueError), ("0.01", TypeError)]
)
def test_initialize_parameters_checks_scale(scale, error):
    """scale=nan gave NaN weights; scale="0.01" a raw NumPy error."""
    with pytest.raises(error, match="scale"):
        xpnet.initialize_parameters([2, 3, 1], "random", scale=scale)


# --------------------------------------------------------------------------- cost, data, keep_prob


def test_cost_docstring_states_the_clip_of_each_output():
    """The docstring said [ε, 1-ε] for both outputs; the softmax cost clips to [ε, 1]."""
    doc = " ".join(xpnet.cost.__doc__.split())
    assert "[ε, 1-ε] for C = 1" in doc
    assert "[ε, 1] for C >= 2" in doc
    # and the code does so: a softmax probability of exactly 1 costs 0, not -log(1 - ε)
    AL = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert float(xpnet.cost(AL, np.array([[0, 1]]))) == 0.0


@pytest.mark.parametrize("make", [moons, circles, make_synthetic])
@pytest.mark.parametrize("noise", [-1, math.nan])
def test_data_sets_name_a_bad_noise(make, noise):
    """noise=-1 gave NumPy's "scale < 0", which does not name ``noise`` (make_synthetic
    took it, flipping the labels' relation to X)."""
    with pytest.raises(ValueError, match=r"noise=.* must be finite and >= 0"):
        make(noise=noise)


@pytest.mark.parametrize(
    ("make", "kw", "error", "match"),
    [
        (moons, {"m": 2.5}, TypeError, r"m must be an integer >= 2 .*got 2.5"),
        (circles, {"m": 300.0}, TypeError, r"m must be an integer >= 2 .*got 300.0"),
        (planar_flower, {"m": 3}, ValueError, r"m=3 must be an even number"),
        (make_synthetic, {"n_x": 0}, ValueError, r"n_x=0 must be >= 1 \(features\)"),
        (moons, {"seed": "a"}, TypeError, r"seed must be an integer in \[0, 2\*\*32 - 1\]"),
        (circles, {"seed": -1}, ValueError, r"seed must be an integer .*got -1"),
    ],
)
def test_data_sets_name_a_bad_count_or_seed(make, kw, error, match):
    """m=2.5 gave "'float' object cannot be interpreted as an integer", seed="a" a NumPy
    casting error: neither named the argument."""
    with pytest.raises(error, match=match):
        make(**kw)


def test_initialize_parameters_takes_a_backend_name_or_module():
    """xp="torch" raised "'str' object has no attribute '__name__'" and xp=torch "module
    'torch' has no attribute '__array_namespace_info__'"."""
    torch = pytest.importorskip("torch")
    ref = xpnet.initialize_parameters([2, 3, 1], seed=0)
    for xp in ("torch", torch):
        p = xpnet.initialize_parameters([2, 3, 1], seed=0, xp=xp)
        assert isinstance(p["W1"], torch.Tensor)
        np.testing.assert_array_equal(p["W1"].numpy(), ref["W1"])
    with pytest.raises(ValueError, match=r"xp='tourch' is not a known backend"):
        xpnet.initialize_parameters([2, 3, 1], xp="tourch")


def test_keep_prob_errors_name_the_entry_and_count_layers():
    p = xpnet.initialize_parameters([3, 4, 1], seed=0)
    with pytest.raises(ValueError, match=r"keep_prob\[0\]=1.5 is outside \(0, 1\]"):
        xpnet.dropout_masks(p, 5, [1.5])
    with pytest.raises(ValueError, match=r"keep_prob has 2 entries but the network has 1 hidden "
                                         r"layer; give one per hidden layer"):  # fmt: skip
        xpnet.dropout_masks(p, 5, [0.5, 0.5])
    one_layer = xpnet.initialize_parameters([3, 1], seed=0)
    with pytest.raises(ValueError, match=r"keep_prob=1.5 is outside \(0, 1\]"):
        xpnet.dropout_masks(one_layer, 5, 1.5)  # no hidden layer, but still a bad number


def test_dropout_without_a_hidden_layer_is_refused():
    """keep_prob < 1 on a network with no hidden layer (logistic regression) dropped nothing
    and said nothing: training ran exactly as keep_prob=1."""
    match = r"keep_prob=0.5 but the network has no hidden layer.*use keep_prob=1.0"
    with pytest.raises(ValueError, match=match):
        xpnet.NeuralNetwork([3, 1], keep_prob=0.5)
    with pytest.raises(ValueError, match=match):
        xpnet.dropout_masks(xpnet.initialize_parameters([3, 1], seed=0), 5, 0.5)
    assert xpnet.NeuralNetwork([3, 1], keep_prob=1.0).keep_probs == ()


def test_shape_errors_name_what_the_function_was_given():
    """forward, gradient_check, cost and backward take params and AL, not layer_dims or X:
    their messages said "layer_dims[0] (n_x)" and "X has m"."""
    P = xpnet.initialize_parameters([3, 4, 1], "he", seed=0)
    acts = ["relu", "sigmoid"]
    with pytest.raises(ValueError, match=r"but params\['W1'\]\.shape\[1\] \(n_x\) is 3"):
        xpnet.forward(np.ones((4, 5)), P, acts)
    with pytest.raises(ValueError, match=r"but params\['W1'\]\.shape\[1\] \(n_x\) is 3"):
        xpnet.gradient_check(P, np.ones((4, 5)), np.ones((1, 5)), acts)
    AL, caches = xpnet.forward(np.ones((3, 5)), P, acts)
    with pytest.raises(ValueError, match=r"Y has shape \(1, 4\) but AL has m = 5"):
        xpnet.cost(AL, np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"Y has shape \(1, 4\) but AL has m = 5"):
        xpnet.backward(AL, np.ones((1, 4)), caches)


def test_backward_checks_label_values_as_cost_does():
    """A label outside 0..C-1 made an all-zero one-hot column (a wrong gradient, no
    error), and Y = 2 with a sigmoid output gave dZ = AL - 2; cost already refused both."""
    X = np.random.default_rng(0).standard_normal((3, 4))
    P3 = xpnet.initialize_parameters([3, 3], "he", seed=0)
    AL, caches = xpnet.forward(X, P3, ["softmax"])
    with pytest.raises(ValueError, match=r"class labels \[5\] outside 0..C-1"):
        xpnet.backward(AL, np.array([[0, 1, 5, 2]]), caches)
    P1 = xpnet.initialize_parameters([3, 1], "he", seed=0)
    AL, caches = xpnet.forward(X, P1, ["sigmoid"])
    with pytest.raises(ValueError, match="binary labels 0 and 1 only"):
        xpnet.backward(AL, np.array([[0.0, 1.0, 2.0, 1.0]]), caches)
