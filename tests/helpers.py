"""Assertions shared by the tests."""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

import xpnet


def assert_on(xp: Any, a: Any) -> None:
    """``a`` is an array of xp's library on xp's device."""
    assert array_api_compat.array_namespace(a) is xp.ns, (
        f"expected an array of {xp.name}, got {type(a).__module__}.{type(a).__name__}"
    )
    assert array_api_compat.device(a) == xp.device, (
        f"expected device {xp.device!r}, got {array_api_compat.device(a)!r}"
    )


def assert_close(actual: Any, expected: Any, *, rtol: float, atol: float = 0.0) -> None:
    """Compare a backend array with a NumPy reference after copying it to the host."""
    np.testing.assert_allclose(xpnet.to_numpy(actual), np.asarray(expected), rtol=rtol, atol=atol)


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
