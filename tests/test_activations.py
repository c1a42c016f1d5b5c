"""The activation table: g and g' against the reference, on every backend; no overflow."""

from __future__ import annotations

import array_api_extra as xpx
import numpy as np
import pytest
import reference as ref
from helpers import assert_on

import xpnet
from xpnet.activations import ACTIVATIONS, get_activation, leaky_relu

Z = np.array([[-50.0, -3.0, -0.5, 0.25, 2.0, 40.0]])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_g_and_derivative_match_reference(xp, device, name):
    act = ACTIVATIONS[name]
    Zb = xp.asarray(Z, dtype=xp.float64, device=device)
    out, d = act.g(Zb, xp=xp), act.dg(Zb, xp=xp)
    assert_on(out, xp, device)
    assert_on(d, xp, device)
    xpx.testing.assert_close(
        out, xp.asarray(ref.g(name, Z), dtype=xp.float64, device=device), rtol=1e-12, atol=1e-300
    )
    xpx.testing.assert_close(
        d,
        xp.asarray(ref.g_prime(name, Z), dtype=xp.float64, device=device),
        rtol=1e-12,
        atol=1e-300,
    )


def test_sigmoid_does_not_overflow(xp, device):
    Zb = xp.asarray([[-1e4, -800.0, 0.0, 800.0, 1e4]], dtype=xp.float64, device=device)
    with np.errstate(over="raise"):
        s = xpnet.to_numpy(xpnet.activations.sigmoid(Zb, xp=xp))
    np.testing.assert_array_equal(s, [[0.0, 0.0, 0.5, 1.0, 1.0]])


def test_leaky_slope_is_configurable(xp, device):
    act = leaky_relu(0.2)
    xpx.testing.assert_close(
        act.g(xp.asarray([[-1.0, 2.0]], dtype=xp.float64, device=device), xp=xp),
        xp.asarray([[-0.2, 2.0]], dtype=xp.float64, device=device),
        rtol=1e-15,
    )
    xpx.testing.assert_close(
        act.dg(xp.asarray([[-1.0, 2.0]], dtype=xp.float64, device=device), xp=xp),
        xp.asarray([[0.2, 1.0]], dtype=xp.float64, device=device),
        rtol=1e-15,
    )
    assert get_activation(act.to_spec()) == act
    assert ACTIVATIONS["leaky_relu"].params == (("slope", 0.01),)


def test_unknown_activation_lists_the_table():
    with pytest.raises(ValueError, match="'swish'.*leaky_relu.*tanh"):
        get_activation("swish")


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_backprop_equals_dA_times_derivative(xp, device, name):
    """The fused backward step dZ = dA * g'(Z) (which may reuse A = g(Z)) is g' exactly."""
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    dA = rng.standard_normal(Z.shape)
    Zb, dAb = (
        xp.asarray(Z, dtype=xp.float64, device=device),
        xp.asarray(dA, dtype=xp.float64, device=device),
    )
    fused = act.backprop(dAb, Zb, act.g(Zb, xp=xp), xp=xp)
    assert_on(fused, xp, device)
    xpx.testing.assert_close(
        fused,
        xp.asarray(dA * ref.g_prime(name, Z), dtype=xp.float64, device=device),
        rtol=1e-12,
        atol=1e-300,
    )
