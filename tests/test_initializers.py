"""Initial weights: the course's schemes, drawn on the host, identical on every backend."""

from __future__ import annotations

import array_api_extra as xpx
import numpy as np
import pytest
from helpers import assert_on

import xpnet

DIMS = [50, 40, 30, 1]


def test_same_seed_gives_the_same_weights_everywhere(xp, device):
    for init in xpnet.INITS:
        host = xpnet.initialize_parameters(DIMS, init, seed=7)
        on_xp = xpnet.initialize_parameters(DIMS, init, seed=7, xp=xp, device=device)
        for k, p in host.items():
            assert_on(on_xp[k], xp, device)
            assert on_xp[k].dtype == xp.float64
            xpx.testing.assert_close(
                on_xp[k], xp.asarray(p, dtype=xp.float64, device=device), rtol=0
            )


@pytest.mark.parametrize(
    ("init", "std"),
    [
        ("random", lambda n_prev, n: 0.01),
        ("lecun", lambda n_prev, n: 1 / np.sqrt(n_prev)),
        ("he", lambda n_prev, n: np.sqrt(2 / n_prev)),
        ("xavier", lambda n_prev, n: np.sqrt(2 / (n_prev + n))),
    ],
)
def test_scale_of_each_scheme(init, std):
    dims = [400, 300, 1]
    params = xpnet.initialize_parameters(dims, init, seed=0)
    W1 = params["W1"]
    assert W1.shape == (300, 400)
    assert np.std(W1) == pytest.approx(std(400, 300), rel=0.02)
    assert np.all(params["b1"] == 0) and params["b1"].shape == (300, 1)


def test_zeros_and_seed_behaviour():
    zeros = xpnet.initialize_parameters([3, 1], "zeros")
    assert all(np.all(p == 0) for p in zeros.values())
    a = xpnet.initialize_parameters(DIMS, "he", seed=1)
    b = xpnet.initialize_parameters(DIMS, "he", seed=2)
    assert not np.array_equal(a["W1"], b["W1"])


def test_float32_placement(xp, device):
    params = xpnet.initialize_parameters(
        [4, 3, 1], "he", seed=0, xp=xp, device=device, dtype="float32"
    )
    assert params["W2"].dtype == xp.float32
    assert_on(params["b2"], xp, device)


def test_unknown_init_lists_the_valid_names():
    with pytest.raises(ValueError, match="init='glorot'.*zeros.*xavier"):
        xpnet.initialize_parameters([3, 1], "glorot")
