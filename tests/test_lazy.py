"""The kernels and the public forward/cost/backward/update run under ``jax.jit`` and
build Dask graphs without computing them.

array-api-extra's ``lazy_xp_function`` tags the functions below; the ``lazy``
fixture calls ``patch_lazy_xp_functions``, which, for this module only, replaces
each tagged name with a jitted version on JAX and with a version that fails on any
``compute()``/``persist()`` on Dask. On the other backends the functions run as
they are. A change that adds a Python branch on an array value, a ``float()`` or a
data-dependent shape to these functions fails here, on every CI run.
"""

from __future__ import annotations

import array_api_extra as xpx
import numpy as np
import pytest
import reference as ref
from helpers import assert_on, tol

pytest.importorskip("array_api_extra")
from array_api_extra.testing import lazy_xp_function, patch_lazy_xp_functions  # noqa: E402

from xpnet import backward, cost, forward, update  # noqa: E402
from xpnet._testing import Backend  # noqa: E402
from xpnet.activations import get_activation  # noqa: E402
from xpnet.propagation import (  # noqa: E402
    backward_vectorized,
    forward_vectorized,
    total_cost,
    update_parameters,
)

lazy_xp_function(forward_vectorized)
lazy_xp_function(backward_vectorized)
lazy_xp_function(total_cost)
lazy_xp_function(update_parameters)
lazy_xp_function(forward)
lazy_xp_function(backward)
lazy_xp_function(update)
# cost() checks that Y holds 0/1 labels: on Dask that check is one compute of Y
# (documented, at the API boundary); under jax.jit the check is skipped for traced Y.
lazy_xp_function(cost, allow_dask_compute=1)

DIMS = [3, 4, 3, 1]


@pytest.fixture
def lazy(xp, request):
    """``xp``, with the tagged functions of this module jitted (JAX) or forbidden
    from computing (Dask) for the duration of the test."""
    with patch_lazy_xp_functions(request, xp=xp):
        yield xp


def _problem(xp, device, dtype, hidden):
    X, Y, params = ref.random_problem(DIMS, m=6, seed=3)
    acts = [hidden] * (len(DIMS) - 2) + ["sigmoid"]

    def on(a):
        return xp.asarray(a, dtype=getattr(xp, dtype), device=device)

    return (X, Y, params, acts), (on(X), on(Y), {k: on(p) for k, p in params.items()})


@pytest.mark.parametrize("hidden", ["relu", "tanh"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_kernels_trace_and_match_reference(lazy, device, dtype, hidden):
    xp = lazy
    (X, Y, params, acts), (Xb, Yb, pb) = _problem(xp, device, dtype, hidden)
    activations = [get_activation(a) for a in acts]
    l2, lr = 0.3, 0.5
    AL, caches = forward_vectorized(Xb, pb, activations, xp=xp)
    J = total_cost(caches[-1].Z, Yb, pb, l2, output=acts[-1], xp=xp)
    grads = backward_vectorized(AL, Yb, caches, l2, xp=xp)
    new = update_parameters(pb, grads, lr)

    AL_ref, cache_ref = ref.forward(X, params, acts)
    grads_ref = ref.backward(AL_ref, Y, cache_ref, params, acts, l2)
    assert_on(AL, xp, device)
    xpx.testing.assert_close(
        AL, xp.asarray(AL_ref, dtype=getattr(xp, dtype), device=device), rtol=tol(dtype)
    )
    xpx.testing.assert_close(
        J,
        xp.asarray(ref.cost(AL_ref, Y, params, l2), dtype=getattr(xp, dtype), device=device),
        rtol=tol(dtype),
    )
    for k, p in params.items():
        assert_on(new[k], xp, device)
        xpx.testing.assert_close(
            grads[f"d{k}"],
            xp.asarray(grads_ref[f"d{k}"], dtype=getattr(xp, dtype), device=device),
            rtol=tol(dtype),
            atol=tol(dtype),
        )
        xpx.testing.assert_close(
            new[k],
            xp.asarray(p - lr * grads_ref[f"d{k}"], dtype=getattr(xp, dtype), device=device),
            rtol=tol(dtype),
            atol=tol(dtype),
        )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_public_api_traces_and_matches_reference(lazy, device, dtype):
    xp = lazy
    (X, Y, params, acts), (Xb, Yb, pb) = _problem(xp, device, dtype, "relu")
    AL, caches = forward(Xb, pb, acts)
    J = cost(AL, Yb, pb, l2=0.2, logits=caches[-1].Z)
    grads = backward(AL, Yb, caches, l2=0.2)
    new = update(pb, grads, 0.1)

    AL_ref, cache_ref = ref.forward(X, params, acts)
    grads_ref = ref.backward(AL_ref, Y, cache_ref, params, acts, 0.2)
    xpx.testing.assert_close(
        AL, xp.asarray(AL_ref, dtype=getattr(xp, dtype), device=device), rtol=tol(dtype)
    )
    xpx.testing.assert_close(
        J,
        xp.asarray(ref.cost(AL_ref, Y, params, 0.2), dtype=getattr(xp, dtype), device=device),
        rtol=tol(dtype),
    )
    for k, p in params.items():
        xpx.testing.assert_close(
            new[k],
            xp.asarray(p - 0.1 * grads_ref[f"d{k}"], dtype=getattr(xp, dtype), device=device),
            rtol=tol(dtype),
            atol=tol(dtype),
        )


@pytest.mark.skip_xp_backends(
    *[b for b in Backend if b is not Backend.JAX],
    reason="only JAX traces; the other backends run the functions as they are",
)
def test_jit_is_really_applied(lazy, device):
    """The patch is in force: on JAX the tagged forward sees tracers, so a Python
    ``bool()`` of an array value inside it would fail (checked through cost's label
    check, which must be skipped, not crash, for traced labels)."""
    xp = lazy
    import jax

    seen = []

    def probe(Z, *, xp):
        seen.append(isinstance(Z, jax.core.Tracer))
        return Z

    act = get_activation("linear")
    (_, _, _, _), (Xb, _, pb) = _problem(xp, device, "float64", "relu")
    import dataclasses

    traced_linear = dataclasses.replace(act, fn=probe)
    forward_vectorized(Xb, pb, [traced_linear, traced_linear, get_activation("sigmoid")], xp=xp)
    assert seen and all(seen)


def test_cost_still_checks_labels_outside_tracing(xp, device):
    """Skipping the label check for traced Y must not drop it for concrete arrays."""
    Yb = xp.asarray(np.array([[0.0, 2.0, 1.0]]), dtype=xp.float64, device=device)
    AL = xp.asarray(np.array([[0.2, 0.5, 0.9]]), dtype=xp.float64, device=device)
    with pytest.raises(ValueError, match="binary labels"):
        cost(AL, Yb)
