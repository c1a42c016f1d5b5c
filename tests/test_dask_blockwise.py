"""The full-batch step on Dask is one small graph: each block of examples sums its loss and
gradients with the NumPy kernels, the sums are added up, and the host finishes the step
(``xpnet._dask.sum_over_blocks``, ``xpnet.training._train_blockwise``).

Checked against the NumPy backend in float64 within 1e-10: every optimizer, L2, uneven
blocks; then what is special to this path: the size of each step's graph, dropout masks
drawn per block, divergence and interrupts leaving single-chunk Dask parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="Dask is not installed (pip install xpnet[dask])")
import dask  # noqa: E402

import xpnet  # noqa: E402
import xpnet.training  # noqa: E402
from xpnet._dask import sum_over_blocks  # noqa: E402

DIMS = [5, 4, 3, 1]
KW: dict[str, Any] = dict(hidden_activation="relu", num_iterations=5, record_every=1, seed=3)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return xpnet.datasets.make_synthetic(m=700, n_x=5, seed=2)


def _dask(X, Y, chunks=(5, (300, 1, 250, 149))):
    return da.from_array(X, chunks=chunks), da.from_array(Y, chunks=(1, chunks[1]))


def _assert_params_equal(net, ref, rtol=1e-10):
    for k, p in net.params_.items():
        assert isinstance(p, da.Array) and p.numblocks == (1, 1), k
        np.testing.assert_allclose(xpnet.to_numpy(p), ref.params_[k], rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_every_optimizer_and_l2_equal_numpy(data, optimizer, l2):
    X, Y = data
    kw = dict(KW, optimizer=optimizer, l2=l2, learning_rate=0.05)
    ref = xpnet.NeuralNetwork(DIMS, **kw).fit(X, Y)
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **kw).fit(*_dask(X, Y))
    np.testing.assert_allclose([c for _, c in net.costs_], [c for _, c in ref.costs_],
                               rtol=1e-10)  # fmt: skip
    _assert_params_equal(net, ref)
    for k, v in net.opt_state_.items():
        np.testing.assert_allclose(xpnet.to_numpy(v), xpnet.to_numpy(ref.opt_state_[k]),
                                   rtol=1e-10, atol=1e-14)  # fmt: skip


def test_record_every_reads_only_recorded_costs(data):
    X, Y = data
    kw = dict(KW, num_iterations=7, record_every=3, learning_rate=0.1)
    ref = xpnet.NeuralNetwork(DIMS, **kw).fit(X, Y)
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **kw).fit(*_dask(X, Y))
    assert [i for i, _ in net.costs_] == [0, 3, 6] == [i for i, _ in ref.costs_]
    np.testing.assert_allclose([c for _, c in net.costs_], [c for _, c in ref.costs_],
                               rtol=1e-10)  # fmt: skip
    _assert_params_equal(net, ref)


def test_one_step_is_one_task_per_block_and_a_tree_of_sums(data, monkeypatch):
    """The graph of a step does not grow with the network: blocks + (blocks - 1) sums +
    the shared arguments, whatever the number of layers."""
    X, Y = data
    Xd, Yd = _dask(X, Y, chunks=(5, 100))  # 7 blocks
    sizes: list[int] = []
    real = dask.compute

    def compute(*args, **kw):
        graph: dict = {}
        for a in args:
            graph.update(dict(a.__dask_graph__()))
        sizes.append(len(graph))
        return real(*args, **kw)

    monkeypatch.setattr(dask, "compute", compute)
    for dims in ([5, 4, 1], [5, 16, 16, 16, 16, 1]):
        sizes.clear()
        xpnet.NeuralNetwork(dims, backend="dask", num_iterations=3, record_every=1).fit(Xd, Yd)
        step_graphs = sizes[-4:-1]  # the three steps (the last compute: the final params)
        # 7 block tasks (plus the 7 + 7 from_array blocks of X and Y), 6 sums, 3 arguments
        assert step_graphs and all(n <= 7 + 14 + 6 + 3 for n in step_graphs), sizes


def test_sum_over_blocks_adds_every_block_once(data):
    X, Y = data
    Xd, Yd = _dask(X, Y)

    def fn(Xk, Yk, k, scale):
        return {"n": np.asarray(Xk.shape[1] * scale), "sx": Xk.sum(axis=1), "k": np.asarray(1.0)}

    out = sum_over_blocks(fn, Xd, Yd, 2.0)
    assert out["n"] == 2.0 * X.shape[1]
    assert out["k"] == 4  # four blocks
    np.testing.assert_allclose(out["sx"], X.sum(axis=1), rtol=1e-12)


def test_dropout_masks_per_block_are_seeded(data):
    """Dropout on the Dask full-batch path: the same seed gives the same fit; masks are
    drawn per block, so the fit differs from one without dropout and stays finite."""
    X, Y = data
    kw = dict(KW, keep_prob=0.6, learning_rate=0.1)
    a = xpnet.NeuralNetwork(DIMS, backend="dask", **kw).fit(*_dask(X, Y))
    b = xpnet.NeuralNetwork(DIMS, backend="dask", **kw).fit(*_dask(X, Y))
    plain = xpnet.NeuralNetwork(DIMS, backend="dask", **dict(kw, keep_prob=1.0)).fit(*_dask(X, Y))
    assert [c for _, c in a.costs_] == [c for _, c in b.costs_]
    assert np.all(np.isfinite([c for _, c in a.costs_]))
    assert [c for _, c in a.costs_][1:] != [c for _, c in plain.costs_][1:]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_is_numpys_and_keeps_single_chunk_parameters(data):
    """Too large a learning rate: the same DivergenceError as on NumPy (iterations, last
    finite cost), and the same restored parameters, as single-chunk Dask arrays."""
    X, Y = data
    kw = dict(seed=3, learning_rate=1e100, num_iterations=50, record_every=3)
    results = []
    for backend, XY in (("numpy", (X, Y)), ("dask", _dask(X, Y))):
        net = xpnet.NeuralNetwork([5, 4, 1], backend=backend, **kw)
        with pytest.raises(xpnet.DivergenceError) as info:
            net.fit(*XY)
        results.append((str(info.value), net))
    (msg_ref, ref), (msg, net) = results
    assert msg == msg_ref
    assert net.n_iter_ == ref.n_iter_
    assert [i for i, _ in net.costs_] == [i for i, _ in ref.costs_]
    np.testing.assert_allclose([c for _, c in net.costs_], [c for _, c in ref.costs_],
                               rtol=1e-10)  # fmt: skip
    _assert_params_equal(net, ref)


def test_interrupt_leaves_single_chunk_parameters(data, monkeypatch):
    X, Y = data
    calls = {"n": 0}
    real = xpnet.training.sum_over_blocks

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(xpnet.training, "sum_over_blocks", interrupted)
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **dict(KW, learning_rate=0.1))
    with pytest.raises(KeyboardInterrupt):
        net.fit(*_dask(X, Y))
    assert net.n_iter_ == 2
    ref = xpnet.NeuralNetwork(DIMS, **dict(KW, learning_rate=0.1, num_iterations=2)).fit(X, Y)
    _assert_params_equal(net, ref)
