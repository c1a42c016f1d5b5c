"""Mini-batches are gathered from whichever memory layout X has; the layout never changes
the result.

NumPy, CuPy and torch expose a layout: X (n_x, m) stored example by example (``data.T``
of samples-first data) is gathered row by row without a copy, and a row-major X is
transposed once per call (``xpnet._backend.examples_as_rows``), so that every batch has the
same layout and the BLAS rounds it the same way in a fit and in ``partial_fit``.
These are checks of those libraries' layouts, so they take the libraries directly.
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet._backend import examples_as_rows

DIMS = [6, 5, 1]


def _data(m=203, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((m, DIMS[0]))  # samples first, as users hold it
    y = (data[:, 0] + 0.5 * data[:, 1] > 0).astype(np.float64)
    return data, y[None, :]


def _fit(X, Y, epochs, backend="numpy", **kw):
    net = xpnet.NeuralNetwork(DIMS, optimizer="adam", batch_size=32, learning_rate=0.01,
                              num_iterations=epochs, record_every=1, seed=3, backend=backend,
                              **kw)  # fmt: skip
    return net.fit(X, Y)


def test_examples_as_rows_numpy_views_and_copies():
    data, _ = _data()
    XF = data.T  # the (n_x, m) view of samples-first data
    rows = examples_as_rows(XF, copy=False)
    assert rows is not None and np.shares_memory(rows, data) and rows.flags.c_contiguous
    XC = np.ascontiguousarray(XF)
    assert examples_as_rows(XC, copy=False) is None
    copied = examples_as_rows(XC, copy=True)
    assert copied.flags.c_contiguous and not np.shares_memory(copied, XC)
    np.testing.assert_array_equal(copied, XC.T)


@pytest.mark.parametrize("epochs", [1, 4])
@pytest.mark.parametrize("shuffle", [True, False, "course"])
def test_layout_does_not_change_a_numpy_fit(epochs, shuffle):
    """A row-major X is transposed once; a samples-first X gathers rows from the view.
    Both give the same model."""
    data, Y = _data()
    ref = _fit(np.ascontiguousarray(data.T), Y, epochs, shuffle=shuffle)
    other = _fit(data.T, Y, epochs, shuffle=shuffle)
    for k, v in ref.params_.items():
        np.testing.assert_allclose(other.params_[k], v, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(other.costs_, ref.costs_, rtol=1e-12)
    assert len(ref.costs_) == epochs


def test_examples_as_rows_torch_views_and_copies():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    data, Y = _data()
    XF = torch.from_numpy(data).T
    rows = examples_as_rows(XF, copy=False)
    assert rows is not None and rows.is_contiguous() and rows.data_ptr() == XF.data_ptr()
    XC = XF.contiguous()
    assert examples_as_rows(XC, copy=False) is None
    assert examples_as_rows(XC, copy=True).is_contiguous()
    ref = _fit(XC, torch.from_numpy(Y), 3, backend="torch")
    other = _fit(XF, torch.from_numpy(Y), 3, backend="torch")
    for k, v in ref.params_.items():
        np.testing.assert_allclose(xpnet.to_numpy(other.params_[k]), xpnet.to_numpy(v),
                                   rtol=1e-12, atol=1e-14)  # fmt: skip


def test_layouts_without_a_layout_api_take_along_axis_one():
    strict = pytest.importorskip("array_api_strict", reason="array_api_strict is not installed")
    data, Y = _data()
    assert examples_as_rows(strict.asarray(data.T), copy=True) is None
    ref = _fit(np.ascontiguousarray(data.T), Y, 2)
    net = _fit(strict.asarray(data.T), strict.asarray(Y), 2, backend="array_api_strict")
    for k, v in ref.params_.items():
        np.testing.assert_allclose(xpnet.to_numpy(net.params_[k]), v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layout", ["row-major", "samples-first"])
@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_partial_fit_epochs_equal_a_longer_fit_bit_for_bit(library, layout):
    """fit(5) and fit(3) + 2 x partial_fit are the same run, to the last bit: a one-epoch
    call gathered a row-major X along axis 1 into strided batches while a longer fit
    gathered rows, and the GEMM rounded the two layouts differently (torch's MKL on AMD
    CPUs and NumPy's OpenBLAS differed by an ulp)."""
    lib = pytest.importorskip(library, reason=f"{library} is not installed")
    data, Y = _data()
    X = np.ascontiguousarray(data.T) if layout == "row-major" else data.T
    if library == "torch":  # from_numpy keeps the layout
        X, Y = (
            lib.from_numpy(X.T).T if layout == "samples-first" else lib.from_numpy(X),
            lib.from_numpy(Y),
        )
    whole = _fit(X, Y, 5, backend=library, keep_prob=0.8)
    net = _fit(X, Y, 3, backend=library, keep_prob=0.8)
    net.partial_fit(X, Y)
    net.partial_fit(X, Y)
    assert net.costs_ == whole.costs_
    for k, v in whole.params_.items():
        np.testing.assert_array_equal(xpnet.to_numpy(net.params_[k]), xpnet.to_numpy(v))
