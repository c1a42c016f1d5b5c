"""One epoch of mini-batch Adam: xpnet against torch nn + torch.optim.Adam and scikit-learn's
MLPClassifier(solver="adam"), at [784, 128, 1] with m = 60,000 in float32 (the second
course's optimizer on an MNIST-sized binary problem).

Each library is timed doing what its user calls for "one more epoch":

* ``xpnet``: ``NeuralNetwork.partial_fit(X, Y)`` (input checks, a shuffle, m / b Adam
  steps), on NumPy and on the torch backend (CPU), and on CuPy and torch-CUDA where a
  GPU exists (the GPU cells issue 9 asks for; they skip, saying so, elsewhere);
* ``torch_nn``: ``torch.randperm``, then per batch ``zero_grad``, ``BCEWithLogitsLoss``,
  ``backward``, ``Adam.step``; samples-first tensors, the same thread count; on the GPU
  the same on CUDA, against both GPU backends (one device, one peer);
* ``sklearn_mlp``: ``MLPClassifier(solver="adam", batch_size=b, alpha=0).partial_fit``,
  which shuffles and runs one epoch of mini-batches.

Every library reads the same samples-first (m, n_x) array: xpnet gets its (n_x, m) view
``data.T``, so its mini-batches gather whole rows (a row-major X would be gathered along
axis 1 once per ``partial_fit``, or transposed once by a ``fit`` of two or more epochs).

All three use the same batch size, learning rate, β₁, β₂, ε and architecture (ReLU hidden
layer, sigmoid output, cross-entropy, no L2). The ratio the target is judged on
(``paired_*``, xpnet / peer <= 1.0) comes from :func:`_common.paired_min`: the two epochs
alternate in one loop, so machine drift enters both.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from _common import base_info, get_backend, is_gpu, paired_min, run_benchmark

import xpnet
from xpnet.datasets import make_synthetic

DIMS = (784, 128, 1)
LR = 1e-3
BATCHES = [64, 1024]
BACKENDS = ["numpy", "torch", "cupy", "torch-cuda"]


def _m(quick: bool) -> int:
    return 6_000 if quick else 60_000


def _data(quick: bool):
    """X (n_x, m) as ``data.T``: a view of the samples-first (m, n_x) array the peers read,
    the way a user holding MNIST-shaped data calls xpnet (no copy)."""
    X, Y = make_synthetic(_m(quick), DIMS[0], seed=0, dtype=np.float32)
    data = np.ascontiguousarray(X.T)
    return data.T, Y


def _xpnet_epoch(backend: str, X, Y, b: int):
    be = get_backend(backend)
    net = xpnet.NeuralNetwork(list(DIMS), optimizer="adam", batch_size=b, learning_rate=LR,
                              dtype="float32", backend=be.name.split("-")[0], device=be.device,
                              record_every=10**9, seed=0)  # fmt: skip
    Xb = xpnet.to_backend(X, be.name.split("-")[0], device=be.device)
    Yb = xpnet.to_backend(Y, be.name.split("-")[0], device=be.device)
    net.partial_fit(Xb, Yb)  # initialise; each timed call is one more epoch

    def epoch():
        net.partial_fit(Xb, Yb)
        xpnet.synchronize(net.params_)

    return epoch


def _torch_epoch(X, Y, b: int, device: str = "cpu"):
    """torch nn + Adam over one epoch of shuffled batches, on ``device`` ("cuda" beside
    the GPU backends: the data, model and permutation there; the epoch ends with a
    synchronization, as xpnet's does)."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(DIMS[0], DIMS[1]), torch.nn.ReLU(), torch.nn.Linear(DIMS[1], 1)
    ).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    Xt = torch.from_numpy(np.ascontiguousarray(X.T)).to(device)
    Yt = torch.from_numpy(np.ascontiguousarray(Y.T)).to(device)
    m = Xt.shape[0]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def epoch():
        perm = torch.randperm(m, device=device)
        for k in range(0, m, b):
            idx = perm[k : k + b]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[idx]), Yt[idx])
            loss.backward()
            opt.step()
        sync()

    return epoch


def _sklearn_epoch(X, Y, b: int):
    neural = pytest.importorskip("sklearn.neural_network", reason="scikit-learn is not installed")
    Xs, ys = np.ascontiguousarray(X.T), Y[0].astype(int)
    clf = neural.MLPClassifier(
        hidden_layer_sizes=DIMS[1:-1], activation="relu", solver="adam", batch_size=b,
        learning_rate_init=LR, alpha=0.0, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
        shuffle=True, random_state=0,
    )  # fmt: skip

    def epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(Xs, ys, classes=[0, 1])

    epoch()
    return epoch


@pytest.mark.parametrize("batch_size", BATCHES)
@pytest.mark.parametrize("peer", ["torch_nn", "sklearn_mlp"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_adam_epoch(benchmark, opts, backend, peer, batch_size):
    be = get_backend(backend)  # skips, with the reason, a GPU backend without a GPU
    if backend != "numpy" and peer == "sklearn_mlp":
        pytest.skip("the sklearn ratio is judged on NumPy, where both run on the same BLAS")
    X, Y = _data(opts.quick)
    ours = _xpnet_epoch(backend, X, Y, batch_size)
    if peer == "torch_nn":
        theirs = _torch_epoch(X, Y, batch_size, "cuda" if is_gpu(backend) else "cpu")
    else:
        theirs = _sklearn_epoch(X, Y, batch_size)
    base_info(benchmark, be, opts, impl="xpnet", peer=peer, dims=list(DIMS), m=_m(opts.quick),
              n_x=DIMS[0], dtype="float32", batch_size=batch_size, optimizer="adam")  # fmt: skip
    run_benchmark(benchmark, ours, opts, backend=backend)
    # a GPU run's whole budget is minutes: its paired seconds (--xpnet-paired-s) there
    budget = opts.paired_total_s if is_gpu(backend) else 6.0 if opts.quick else 20.0
    benchmark.extra_info[f"paired_{peer}"] = paired_min(
        ours, theirs, names=("xpnet", peer), total_s=budget
    )
