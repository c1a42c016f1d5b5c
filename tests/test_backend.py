"""Backend names, devices and moving arrays between libraries."""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_on

import xpnet
from xpnet._backend import backend_name, get_namespace
from xpnet._testing import Backend, parse_backends


def test_every_backend_name_is_known():
    assert xpnet.BACKENDS == ("numpy", "cupy", "torch", "jax", "dask", "array_api_strict")


def test_test_backend_ids_and_what_they_mean():
    """The ids of the tests' and benchmarks' backends; each maps to a ``backend=`` name
    xpnet accepts and, for two of them, a ``device=``."""
    assert [b.value for b in Backend] == [
        "numpy", "array_api_strict", "array_api_strict-device1", "torch", "jax", "dask",
        "cupy", "torch-cuda",
    ]  # fmt: skip
    assert {b.library for b in Backend} == set(xpnet.BACKENDS)
    assert {b: b.device_spec for b in Backend if b.device_spec} == {
        Backend.ARRAY_API_STRICT_DEVICE1: "device1",
        Backend.TORCH_CUDA: "cuda",
    }
    assert [b for b in Backend if b.gpu] == [Backend.CUPY, Backend.TORCH_CUDA]
    with pytest.raises(ValueError, match=r"unknown backends \['tf'\].*'torch-cuda'"):
        parse_backends("numpy, tf")


def test_the_gpu_ci_names_known_test_backends():
    """ci/gpu/run.sh passes its list as XPNET_BACKENDS: every id in it must exist."""
    script = (Path(__file__).resolve().parents[1] / "ci" / "gpu" / "run.sh").read_text()
    ids = re.search(r"XPNET_GPU_TEST_BACKENDS:=([\w,-]+)", script).group(1)
    assert parse_backends(ids) == [Backend.NUMPY, Backend.JAX, Backend.CUPY, Backend.TORCH_CUDA]


def test_unknown_backend_lists_the_valid_names():
    with pytest.raises(ValueError, match="backend='tensorflow'.*numpy.*array_api_strict"):
        get_namespace("tensorflow")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_cupy_absent_names_the_pip_extra():
    with pytest.raises(xpnet.BackendUnavailableError, match=r"xpnet\[cuda12\]"):
        get_namespace("cupy")
    with pytest.raises(xpnet.BackendUnavailableError, match=r"xpnet\[cuda12\]"):
        xpnet.NeuralNetwork([2, 1], backend="cupy")


def test_round_trip_through_every_backend(xp, backend, device):
    host = np.arange(6.0).reshape(2, 3)
    on = xpnet.to_backend(host, backend.library, device=device)
    assert_on(on, xp, device)
    assert backend_name(get_namespace(backend.library)) == backend.library
    np.testing.assert_array_equal(xpnet.to_numpy(on), host)


def test_namespace_module_is_accepted():
    assert backend_name(get_namespace(np)) == "numpy"


def test_torch_to_numpy_backend_uses_dlpack_or_copies_correctly():
    torch = pytest.importorskip("torch")
    t = torch.arange(4.0, dtype=torch.float64).reshape(2, 2)
    out = xpnet.to_backend(t, "numpy")
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, t.numpy())


def test_jax_float64_without_x64_is_refused():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(ValueError, match="jax_enable_x64"):
            xpnet.NeuralNetwork([2, 1], backend="jax", dtype="float64")
        xpnet.NeuralNetwork([2, 1], backend="jax", dtype="float32")  # float32 is fine
    finally:
        jax.config.update("jax_enable_x64", True)


def test_jax_float32_integer_labels_without_x64_give_no_warning():
    """The label check built its one-hot in float64, which JAX without 64-bit mode
    truncates with a UserWarning on every softmax fit (the scikit-learn wrapper's too)."""
    jax = pytest.importorskip("jax")
    X = np.random.default_rng(0).standard_normal((3, 30)).astype(np.float32)
    Y = (np.arange(30) % 3).reshape(1, -1)
    jax.config.update("jax_enable_x64", False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            net = xpnet.NeuralNetwork([3, 4, 3], output_activation="softmax", num_iterations=2,
                                      backend="jax", dtype="float32").fit(X, Y)  # fmt: skip
        assert net.params_["W1"].dtype == np.float32
        with pytest.raises(ValueError, match=r"class labels \[3\] outside 0..C-1"):
            net.fit(X, np.where(Y == 2, 3, Y))
    finally:
        jax.config.update("jax_enable_x64", True)


def test_torch_cuda_without_a_gpu_is_a_clear_error():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: the error case cannot happen here")
    with pytest.raises(xpnet.BackendUnavailableError, match="no CUDA device.*device='cpu'"):
        xpnet.NeuralNetwork([2, 1], backend="torch", device="cuda")


def test_jax_unknown_device_is_a_clear_error():
    pytest.importorskip("jax")
    with pytest.raises(xpnet.BackendUnavailableError, match="no such device"):
        xpnet.to_backend([1.0], "jax", device="cpu:7")


# --------------------------------------------------------------------------- torch autograd


def test_fit_on_a_torch_X_that_requires_grad_records_no_autograd_graph():
    """xpnet computes its own gradients: a fit over an X (or from parameters) that
    requires grad must not have autograd record the run (the graph would keep every
    step alive), and it trains exactly as on a plain X."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.standard_normal((3, 40)))
    Y = torch.from_numpy((rng.random((1, 40)) < 0.5).astype(np.float64))
    kw = dict(num_iterations=20, record_every=5, seed=0, backend="torch")
    plain = xpnet.NeuralNetwork([3, 4, 1], **kw).fit(X, Y)
    tracked = xpnet.NeuralNetwork([3, 4, 1], **kw).fit(X.clone().requires_grad_(True), Y)
    for k, p in tracked.params_.items():
        assert not p.requires_grad and p.grad_fn is None, k
        assert torch.equal(p, plain.params_[k]), k
    assert tracked.costs_ == plain.costs_

    layer1, layer2 = torch.nn.Linear(3, 4).double(), torch.nn.Linear(4, 1).double()
    given = {"W1": layer1.weight, "b1": layer1.bias[:, None], "W2": layer2.weight,
             "b2": layer2.bias[:, None]}  # fmt: skip
    before = {k: p.detach().clone() for k, p in given.items()}
    net = xpnet.NeuralNetwork.from_params(given, num_iterations=5)
    assert not any(p.requires_grad for p in net.params_.values())
    net.partial_fit(X, Y)
    assert not any(p.requires_grad for p in net.params_.values())
    for k, p in given.items():  # the user's tensors are read, never written
        assert torch.equal(p.detach(), before[k]), k


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_backward_matches_torch_autograd_through_the_functional_api(hidden, output):
    """The functional API keeps torch's autograd graph (only training detaches), so
    autograd of xpnet's own forward and cost checks xpnet's hand-written backward."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    C = 1 if output == "sigmoid" else 3
    dims, m, l2 = [4, 5, 3, C], 7, 0.3
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = torch.tensor(rng.standard_normal((dims[l], dims[l - 1])),
                                       requires_grad=True)  # fmt: skip
        params[f"b{l}"] = torch.tensor(rng.standard_normal((dims[l], 1)), requires_grad=True)
    X = torch.tensor(rng.standard_normal((dims[0], m)))
    labels = rng.integers(0, max(C, 2), m)
    Y = torch.tensor(labels[None, :] if C == 1 else np.eye(C)[:, labels], dtype=torch.float64)
    acts = [hidden, hidden, output]
    AL, caches = xpnet.forward(X, params, acts)
    J = xpnet.cost(AL, Y, params, l2, logits=caches[-1].Z)
    J.backward()
    grads = xpnet.backward(AL.detach(), Y, caches, l2)
    for k, p in params.items():
        torch.testing.assert_close(grads[f"d{k}"].detach(), p.grad, rtol=1e-10, atol=1e-12)
