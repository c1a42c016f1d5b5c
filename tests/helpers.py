"""Assertions and helpers shared by the tests."""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np


def assert_on(a: Any, xp: ModuleType, device: Any) -> None:
    """``a`` is an array of namespace ``xp`` on ``device``: for results that have no
    reference value (``xpx.testing.assert_close`` checks the same against its
    ``desired`` where there is one)."""
    assert array_api_compat.array_namespace(a) is xp, (
        f"expected an array of {xp.__name__}, got {type(a).__module__}.{type(a).__name__}"
    )
    assert array_api_compat.device(a) == device, (
        f"expected device {device!r}, got {array_api_compat.device(a)!r}"
    )


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a pytest run that a test starts itself, without the parent's
    ``PYTEST_*`` variables: under ``pytest -n`` a worker's xdist variables reached the
    child session, which then wrote no benchmark JSON and no report."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, **extra}


def tol(dtype: str) -> float:
    """The agreed tolerance against the NumPy float64 reference."""
    return 1e-10 if dtype == "float64" else 1e-4


def numeric_gradients(cost_of, params, h=1e-6):
    """Central differences (J(θ + h) - J(θ - h)) / 2h for every entry of every host
    parameter; keys are the gradients' names ("dW1", ...)."""
    numeric = {}
    for key, P in params.items():
        G = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            plus = {**params, key: P.copy()}
            minus = {**params, key: P.copy()}
            plus[key][idx] += h
            minus[key][idx] -= h
            G[idx] = (cost_of(plus) - cost_of(minus)) / (2 * h)
        numeric[f"d{key}"] = G
    return numeric


def gd_step(activations, xp, l2=0.0):
    """A pure full-batch gradient-descent step on namespace ``xp``, built from xpnet's
    kernels: ``step(params, opt_state, X, Y, lr, rng) -> (params, opt_state, J, rng)``
    with J the cost before the update (the shape of the training loop's step)."""
    from xpnet.activations import get_activation
    from xpnet.propagation import (
        backward_vectorized,
        forward_vectorized,
        total_cost,
        update_parameters,
    )

    acts = [get_activation(a) for a in activations]

    output = acts[-1].name

    def step(params, opt_state, X, Y, lr, rng):
        AL, caches = forward_vectorized(X, params, acts, xp=xp)
        J = total_cost(caches[-1].Z, Y, params, l2, output=output, xp=xp)
        grads = backward_vectorized(AL, Y, caches, l2, xp=xp)
        return update_parameters(params, grads, lr), opt_state, J, rng

    return step
