"""The backends' own activation kernels (``xpnet._native``) against the Array API forms.

The training step swaps them in (torch: ``torch.relu``, ``threshold_backward``, ...);
each must compute what the activation it replaces computes: the same bits for relu
and leaky ReLU, the same numbers to a few ulps for tanh and sigmoid.
"""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest

import xpnet
from xpnet._native import native_activations
from xpnet.activations import ACTIVATIONS, leaky_relu

# zeros of both signs, values next to 0, the sigmoid's saturated ends, ordinary values
Z = np.array([[-1e4, -40.0, -3.0, -0.5, -1e-30, -0.0, 0.0, 1e-30, 0.25, 2.0, 40.0, 1e4]])
HIDDEN = [ACTIVATIONS[n] for n in sorted(ACTIVATIONS)] + [leaky_relu(0.2)]
EXACT = {"relu", "leaky_relu", "linear"}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("act", HIDDEN, ids=lambda a: f"{a.name}{dict(a.params) or ''}")
def test_native_kernels_compute_the_array_api_formulas(xp, device, act, dtype):
    dt = getattr(xp, dtype)
    Zb = xp.asarray(Z, dtype=dt, device=device)
    rng = np.random.default_rng(0)
    dA = xp.asarray(rng.standard_normal(Z.shape), dtype=dt, device=device)
    (native,) = native_activations([act], xp)
    assert native.name == act.name and native.params == act.params
    assert native.to_spec() == act.to_spec()
    A = act.g(Zb, xp=xp)
    got_A, want_A = xpnet.to_numpy(native.g(Zb, xp=xp)), xpnet.to_numpy(A)
    got_dZ = xpnet.to_numpy(native.backprop(dA, Zb, A, xp=xp))
    want_dZ = xpnet.to_numpy(act.backprop(dA, Zb, A, xp=xp))
    assert got_A.dtype == want_A.dtype and got_dZ.dtype == want_dZ.dtype
    if act.name in EXACT:
        np.testing.assert_array_equal(got_A, want_A)
        np.testing.assert_array_equal(got_dZ, want_dZ)
    else:
        eps = np.finfo(dtype).eps
        np.testing.assert_allclose(got_A, want_A, rtol=4 * eps, atol=np.finfo(dtype).tiny)
        # dA (1 - A²) cancels near |A| = 1, so the two roundings (torch's kernel uses a
        # fused multiply-add) may differ by ~eps |dA| A² there, far above an ulp of dZ;
        # a wrong formula would be off by the size of dZ itself.
        a, d = np.abs(want_A.astype(np.float64)), np.abs(xpnet.to_numpy(dA).astype(np.float64))
        bound = 8 * eps * d * (1 + a + a * a)
        assert np.all(np.abs(got_dZ.astype(np.float64) - want_dZ) <= bound), (got_dZ, want_dZ)


def test_native_relu_keeps_nan(xp, device):
    """ReLU(NaN) stays NaN, as ``xp.maximum`` keeps it: a NaN pre-activation must not
    come out of the forward pass as a silent 0."""
    (relu,) = native_activations([ACTIVATIONS["relu"]], xp)
    Zb = xp.asarray([[float("nan"), -1.0, 1.0]], dtype=xp.float64, device=device)
    out = xpnet.to_numpy(relu.g(Zb, xp=xp))
    assert np.isnan(out[0, 0]) and out[0, 1] == 0.0 and out[0, 2] == 1.0


def test_which_backends_get_native_kernels(xp):
    """torch (CPU or CUDA) gets its own kernels for the vectorized step, NumPy the two
    mask casts by the array's own method (ReLU's backward step, the sigmoid); every
    other backend, and the loop forms everywhere, keep the Array API functions
    unchanged (the same objects)."""
    for impl in ("loops", "per_example"):
        kept = native_activations(HIDDEN, xp, impl=impl)
        assert len(kept) == len(HIDDEN) and all(n is a for n, a in zip(kept, HIDDEN, strict=True))
    got = native_activations(HIDDEN, xp)
    is_torch = array_api_compat.is_torch_namespace(xp)
    is_numpy = array_api_compat.is_numpy_namespace(xp)
    for act, new in zip(HIDDEN, got, strict=True):
        if is_torch and act.name != "linear":
            assert new.fn is not act.fn and new.fused is not act.fused
        elif is_numpy and act.name == "relu":
            assert new.fn is act.fn and new.fused is not act.fused
        elif is_numpy and act.name == "sigmoid":
            assert new.fn is not act.fn and new.fused is act.fused
        else:
            assert new is act


def test_numpy_native_kernels_are_the_array_api_forms_bit_for_bit():
    """NumPy's two replacements differ from the Array API forms only in how the mask
    is cast, so a training step gives the same bits with them as without."""
    import array_api_compat.numpy as xp

    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        Zb = np.concatenate([Z, rng.standard_normal((1, 50)) * 30], axis=1).astype(dtype)
        dA = rng.standard_normal(Zb.shape).astype(dtype)
        for act in (ACTIVATIONS["relu"], ACTIVATIONS["sigmoid"]):
            (native,) = native_activations([act], xp)
            A = act.g(Zb, xp=xp)
            np.testing.assert_array_equal(native.g(Zb, xp=xp), A)
            np.testing.assert_array_equal(
                native.backprop(dA, Zb, A, xp=xp), act.backprop(dA, Zb, A, xp=xp)
            )
