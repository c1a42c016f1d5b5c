"""Training on Dask: chunked along m, on the default scheduler and on a real LocalCluster.

Every comparison is against the NumPy backend in float64 within 1e-10 (costs after
each of k iterations and the parameters after k iterations). The distributed
tests share one 2-worker ``LocalCluster`` (separate worker processes), started and
closed by a module-scoped fixture; they are skipped with the reason when
``distributed`` is not installed.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="Dask is not installed (pip install xpnet[dask])")
import dask  # noqa: E402

import xpnet  # noqa: E402
from xpnet import dask_io  # noqa: E402
from xpnet._dask import persist_examples  # noqa: E402

RTOL = 1e-10
ATOL = 1e-12
K = 4  # iterations compared
DIMS = [5, 4, 3, 1]
KW: dict[str, Any] = dict(
    hidden_activation="tanh", learning_rate=0.5, num_iterations=K, record_every=1, seed=3
)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return xpnet.datasets.make_synthetic(m=1000, n_x=5, seed=1)


@pytest.fixture(scope="module")
def reference(data: tuple[np.ndarray, np.ndarray]) -> xpnet.NeuralNetwork:
    X, Y = data
    return xpnet.NeuralNetwork(DIMS, backend="numpy", **KW).fit(X, Y)


def assert_same_training(net: xpnet.NeuralNetwork, ref: xpnet.NeuralNetwork) -> None:
    """Costs at every iteration and the final parameters equal the NumPy run's."""
    assert net.backend_ == "dask"
    assert net.n_iter_ == ref.n_iter_ == K
    assert [i for i, _ in net.costs_] == [i for i, _ in ref.costs_] == list(range(K))
    np.testing.assert_allclose(
        [c for _, c in net.costs_], [c for _, c in ref.costs_], rtol=RTOL, atol=ATOL
    )
    assert set(net.params_) == set(ref.params_)
    for k, p in net.params_.items():
        assert isinstance(p, da.Array), f"params_[{k!r}] is {type(p)}, not a Dask array"
        assert p.numblocks == (1, 1), f"params_[{k!r}] has {p.numblocks} blocks"
        np.testing.assert_allclose(xpnet.to_numpy(p), ref.params_[k], rtol=RTOL, atol=ATOL)


@pytest.fixture
def no_whole_X_on_client(monkeypatch: pytest.MonkeyPatch, data):
    """Fail if anything computes an array as large as X into this (the client) process.

    Wraps ``dask.compute``, ``Array.compute`` and ``Array.__array__``; what fit and
    predict may bring back is parameter-sized (or one bool/scalar), checked on the
    arrays asked for and on what ``dask.compute`` returns.
    """
    X, _ = data
    limit = X.size // 4  # predictions (1, m) may come back; X (5, m) may not
    seen: list[int] = []

    def check(arrays: tuple[Any, ...]) -> None:
        for a in arrays:
            for leaf in a.values() if isinstance(a, dict) else [a]:
                if isinstance(leaf, da.Array):
                    seen.append(leaf.size)
                    assert leaf.size <= limit, (
                        f"an array of shape {leaf.shape} was computed to the client"
                    )

    def returned(result: Any) -> None:
        if isinstance(result, dict):
            result = list(result.values())
        if isinstance(result, list | tuple):
            for r in result:
                returned(r)
        elif isinstance(result, np.ndarray):
            seen.append(result.size)
            assert result.size <= limit, f"an array of shape {result.shape} came back to the client"

    real_compute, real_method, real_array = dask.compute, da.Array.compute, da.Array.__array__

    def compute(*args: Any, **kw: Any) -> Any:
        check(args)
        out = real_compute(*args, **kw)
        returned(out)  # also what comes back from Delayed graphs (the full-batch step's sums)
        return out

    def method(self: Any, **kw: Any) -> Any:
        check((self,))
        return real_method(self, **kw)

    def array(self: Any, *args: Any, **kw: Any) -> Any:
        check((self,))
        return real_array(self, *args, **kw)

    monkeypatch.setattr(dask, "compute", compute)
    monkeypatch.setattr(da.Array, "compute", method)
    monkeypatch.setattr(da.Array, "__array__", array)
    return seen


# --------------------------------------------------------------------------- default scheduler

CHUNKINGS = {
    "one-chunk": (5, 1000),
    "even-100": (5, 100),
    "uneven": (5, (300, 1, 250, 449)),
    "many-small": (5, 37),
}


@pytest.mark.parametrize("chunks", CHUNKINGS.values(), ids=CHUNKINGS.keys())
def test_fit_matches_numpy_any_chunking(data, reference, chunks, no_whole_X_on_client) -> None:
    X, Y = data
    Xd = da.from_array(X, chunks=chunks)
    Yd = da.from_array(Y, chunks=(1, 200))  # misaligned with X: fit rechunks Y to X's m-chunks
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(Xd, Yd)
    assert_same_training(net, reference)
    assert no_whole_X_on_client, "the guard saw no compute at all: it did not wrap fit"


def test_fit_with_l2_and_relu_matches_numpy(data) -> None:
    X, Y = data
    kw = {**KW, "hidden_activation": "relu", "l2": 0.7}
    ref = xpnet.NeuralNetwork(DIMS, backend="numpy", **kw).fit(X, Y)
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **kw).fit(
        da.from_array(X, chunks=(5, 123)), da.from_array(Y, chunks=(1, 123))
    )
    assert_same_training(net, ref)


def test_host_arrays_go_to_dask_chunked_along_m(data, reference) -> None:
    X, Y = data
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(X, Y)  # NumPy in, Dask model
    assert_same_training(net, reference)
    wide = np.ones((400, 5000))  # 16 MB; "auto" alone would split both axes at 1 MiB
    with dask.config.set({"array.chunk-size": "1MiB"}):
        Xd = xpnet.to_backend(wide, "dask")
    assert Xd.chunks[0] == (400,), f"host X was split along n_x: {Xd.chunks[0]}"
    assert len(Xd.chunks[1]) > 1 and max(Xd.chunks[1]) * 400 * 8 <= 2**20


def test_float32_input_is_cast_and_matches(data, reference) -> None:
    X, Y = data
    Xd = da.from_array(X.astype(np.float32), chunks=(5, 250))
    ref = xpnet.NeuralNetwork(DIMS, backend="numpy", **KW).fit(X.astype(np.float32), Y)
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(Xd, da.from_array(Y))
    assert_same_training(net, ref)


# --------------------------------------------------------------------------- chunking rules


def test_chunks_along_features_are_rechunked_to_one(data, reference) -> None:
    X, Y = data
    Xd = da.from_array(X, chunks=(2, 250))  # n_x = 5 split as (2, 2, 1)
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(Xd, da.from_array(Y))
    assert_same_training(net, reference)
    P = net.predict_proba(Xd)
    assert P.chunks == ((1,), (250, 250, 250, 250)), "m-chunks were not kept"


def test_feature_chunks_with_too_wide_column_is_a_clear_error(data) -> None:
    X, Y = data
    Xd = da.from_array(X, chunks=(2, 250))
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW)
    with dask.config.set({"array.chunk-size": "16B"}):  # one column is 5 * 8 = 40 bytes
        with pytest.raises(ValueError, match=r"feature axis n_x .*rechunk\(\{0: -1\}\)"):
            net.fit(Xd, da.from_array(Y))


def test_feature_chunks_rechunk_respects_chunk_size(data, reference) -> None:
    X, Y = data
    Xd = da.from_array(X, chunks=(1, 1000))  # 5 blocks of one full row each
    with dask.config.set({"array.chunk-size": "4KiB"}):  # a merged (5, 1000) block is 40 kB
        net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(Xd, da.from_array(Y))
        P = net.predict_proba(Xd)
    assert P.numblocks[1] > 1 and max(P.chunks[1]) * 5 * 8 <= 4096
    assert_same_training(net, reference)


def test_unknown_chunk_sizes_are_a_clear_error(data) -> None:
    X, Y = data
    Xd = da.from_array(X, chunks=(5, 100))
    Xu = Xd[:, Xd[0] > -100.0]  # boolean mask: m-chunk sizes become NaN
    assert np.isnan(Xu.shape[1])
    with pytest.raises(ValueError, match=r"unknown chunk sizes.*compute_chunk_sizes"):
        xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(Xu, da.from_array(Y))


def test_fit_rejects_nonfinite_dask_X_before_training(data) -> None:
    X, Y = data
    bad = X.copy()
    bad[2, 777] = np.nan
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW)
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        net.fit(da.from_array(bad, chunks=(5, 100)), da.from_array(Y))
    assert not hasattr(net, "params_")


# --------------------------------------------------------------------------- lazy predict


def test_predict_on_dask_is_lazy_and_matches(data, reference) -> None:
    X, Y = data
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(X, Y)
    calls: list[int] = []
    lock = threading.Lock()

    def count(block: np.ndarray) -> np.ndarray:
        with lock:
            calls.append(block.shape[1])
        return block

    meta = np.empty((0, 0), dtype=X.dtype)  # else map_blocks calls count once to infer it
    Xd = da.from_array(X, chunks=(5, 300)).map_blocks(count, dtype=X.dtype, meta=meta)
    P = net.predict_proba(Xd)
    Yhat = net.predict(Xd)
    assert isinstance(P, da.Array) and isinstance(Yhat, da.Array)
    assert P.shape == Yhat.shape == (1, 1000)
    assert calls == [], f"predict computed {len(calls)} blocks of X; it must stay lazy"
    np.testing.assert_allclose(P.compute(), reference.predict_proba(X), rtol=RTOL, atol=ATOL)
    assert sorted(calls) == [100, 300, 300, 300]
    np.testing.assert_array_equal(Yhat.compute(), reference.predict(X))
    assert net.score(Xd, da.from_array(Y, chunks=(1, 450))) == pytest.approx(reference.score(X, Y))


def test_lazy_predict_raises_on_nonfinite_when_computed(data) -> None:
    X, Y = data
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(X, Y)
    bad = X.copy()
    bad[0, 450] = np.inf
    P = net.predict_proba(da.from_array(bad, chunks=(5, 200)))  # no error yet: lazy
    with pytest.raises(
        ValueError,
        match=r"X contains 1 NaN or infinite value\(s\) in columns "
        r"\[400, 600\)",
    ):
        P.compute()


# --------------------------------------------------------------------------- out-of-core io


def test_write_and_load_npy_roundtrip(tmp_path, data) -> None:
    X, _ = data
    blocks = [X[:, :333], X[:, 333:334], X[:, 334:]]  # uneven blocks
    path = dask_io.write_npy(tmp_path / "X.npy", iter(blocks), shape=X.shape)
    np.testing.assert_array_equal(np.load(path), X)
    Xd = dask_io.load_npy(path, chunk_m=300)
    assert isinstance(Xd, da.Array)
    assert Xd.chunks == ((5,), (300, 300, 300, 100))
    np.testing.assert_array_equal(Xd.compute(), X)
    Xa = dask_io.load_npy(path)  # default: by array.chunk-size
    assert Xa.chunks[0] == (5,)
    np.testing.assert_array_equal(Xa.compute(), X)


def test_save_npy_from_dask_and_shard_directory(tmp_path, data) -> None:
    X, Y = data
    shards = tmp_path / "X"
    shards.mkdir()
    dask_io.save_npy(shards / "part-0.npy", da.from_array(X[:, :600], chunks=(5, 70)))
    dask_io.save_npy(shards / "part-1.npy", X[:, 600:], chunk_m=150)
    Xd = dask_io.load_npy(shards, chunk_m=250)
    assert Xd.chunks == ((5,), (250, 250, 100, 250, 150))  # split at the shard boundary too
    np.testing.assert_array_equal(Xd.compute(), X)


def test_load_npy_errors(tmp_path, data) -> None:
    X, _ = data
    with pytest.raises(FileNotFoundError, match="does not exist"):
        dask_io.load_npy(tmp_path / "missing.npy")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="without .npy files"):
        dask_io.load_npy(tmp_path / "empty")
    np.save(tmp_path / "flat.npy", X[0])
    with pytest.raises(ValueError, match=r"shape \(1000,\).*2-D"):
        dask_io.load_npy(tmp_path / "flat.npy")
    np.save(tmp_path / "ok.npy", X)
    with pytest.raises(ValueError, match="chunk_m=0 must be a positive integer"):
        dask_io.load_npy(tmp_path / "ok.npy", chunk_m=0)
    with pytest.raises(ValueError, match="needs 5 rows"):
        dask_io.write_npy(tmp_path / "w.npy", [X[:4]], shape=X.shape)
    with pytest.raises(ValueError, match="held 10 columns but .* m=1000"):
        dask_io.write_npy(tmp_path / "w.npy", [X[:, :10]], shape=X.shape)
    with pytest.raises(ValueError, match="more than m=1000 columns"):
        dask_io.write_npy(tmp_path / "w.npy", [X, X[:, :1]], shape=X.shape)


def test_save_npy_over_its_own_source_and_a_failed_write_keep_the_data(tmp_path, data):
    """save_npy(p, 2 * load_npy(p)) truncated p before the lazy blocks read it, and wrote
    zeros; a write that failed half-way left a truncated file in place of the old one;
    chunk_m=0 was taken as None and chunk_m=-2 failed after the truncation."""
    X, _ = data
    path = dask_io.save_npy(tmp_path / "X.npy", X)
    dask_io.save_npy(path, dask_io.load_npy(path, chunk_m=300) * 2)
    np.testing.assert_array_equal(np.load(path), 2 * X)
    with pytest.raises(ValueError, match="held 10 columns"):
        dask_io.write_npy(path, [X[:, :10]], shape=X.shape)
    np.testing.assert_array_equal(np.load(path), 2 * X)  # the old file, whole
    for bad in (0, -2, 2.5):
        with pytest.raises(ValueError, match=f"chunk_m={bad!r} must be a positive integer"):
            dask_io.save_npy(path, X, chunk_m=bad)
    np.testing.assert_array_equal(np.load(path), 2 * X)
    assert [p.name for p in tmp_path.iterdir()] == ["X.npy"]  # no temporary file left


def fit_from_npy_files(tmp_path, data, reference, chunk_x: int, chunk_y: int) -> None:
    """Save X, Y as .npy, train on them out of core, compare with NumPy."""
    X, Y = data
    dask_io.save_npy(tmp_path / "X.npy", X)
    dask_io.save_npy(tmp_path / "Y.npy", Y)
    Xd = dask_io.load_npy(tmp_path / "X.npy", chunk_m=chunk_x)
    Yd = dask_io.load_npy(tmp_path / "Y.npy", chunk_m=chunk_y)
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(Xd, Yd)
    assert_same_training(net, reference)


def test_fit_from_npy_files_matches_numpy(tmp_path, data, reference, no_whole_X_on_client):
    fit_from_npy_files(tmp_path, data, reference, chunk_x=128, chunk_y=1000)


# --------------------------------------------------------------------------- distributed


@pytest.fixture(scope="module")
def client():
    """A real 2-worker LocalCluster (worker processes), closed after the module."""
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install xpnet[dask])"
    )
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        memory_limit="2GiB",
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.mark.slow
@pytest.mark.parametrize("chunks", [(5, 250), (5, (100, 401, 499))], ids=["even", "uneven"])
def test_distributed_fit_matches_numpy(client, data, reference, chunks, no_whole_X_on_client):
    from xpnet._dask import current_client

    assert current_client() is client, "the LocalCluster client is not the current scheduler"
    X, Y = data
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(
        da.from_array(X, chunks=chunks), da.from_array(Y, chunks=(1, 300))
    )
    assert_same_training(net, reference)
    P = net.predict_proba(da.from_array(X, chunks=chunks))
    assert isinstance(P, da.Array)
    np.testing.assert_allclose(P.compute(), reference.predict_proba(X), rtol=RTOL, atol=ATOL)


@pytest.mark.slow
def test_distributed_persists_X_on_the_workers(client, data) -> None:
    import distributed

    X, _ = data
    (Xp,) = persist_examples(da.from_array(X, chunks=(5, 250)))
    futures = list(dict(Xp.__dask_graph__()).values())
    assert len(futures) == 4
    assert all(isinstance(f, distributed.Future) for f in futures), "X was not persisted"
    distributed.wait(futures)
    held = set().union(*map(set, client.has_what().values()))
    assert {f.key for f in futures} <= held, "persisted X blocks are not on the workers"


@pytest.mark.slow
def test_distributed_fit_from_npy_files(client, tmp_path, data, reference) -> None:
    fit_from_npy_files(tmp_path, data, reference, chunk_x=300, chunk_y=500)


# ============================================================================ streamed mini-batches

MB = dict(optimizer="adam", batch_size=50, num_iterations=3, record_every=1, learning_rate=0.01,
          seed=3)  # fmt: skip


@pytest.mark.parametrize("shuffle", [True, "course"])
@pytest.mark.parametrize("keep_prob", [1.0, 0.7])
def test_minibatches_on_one_block_equal_numpy(data, shuffle, keep_prob):
    """One block: the streamed epoch is the NumPy epoch (same shuffles, same host masks)."""
    X, Y = data
    ref = xpnet.NeuralNetwork(DIMS, shuffle=shuffle, keep_prob=keep_prob, **MB).fit(X, Y)
    net = xpnet.NeuralNetwork(DIMS, shuffle=shuffle, keep_prob=keep_prob, backend="dask", **MB)
    net.fit(da.from_array(X, chunks=(5, 1000)), da.from_array(Y, chunks=(1, 1000)))
    np.testing.assert_allclose([c for _, c in net.costs_], [c for _, c in ref.costs_], rtol=RTOL)
    for k, p in net.params_.items():
        assert isinstance(p, da.Array) and p.numblocks == (1, 1)
        np.testing.assert_allclose(xpnet.to_numpy(p), ref.params_[k], rtol=RTOL, atol=ATOL)
    assert net.t_ == ref.t_ == 3 * 20


def test_minibatches_stream_each_block_once_per_epoch(data):
    """Unshuffled, with blocks a multiple of the batch: the batches are NumPy's, and each
    epoch reads every block of X exactly once."""
    X, Y = data
    reads: list[int] = []

    def count(block, block_info=None):
        reads.append(block_info[0]["chunk-location"][1])
        return block

    Xd = da.from_array(X, chunks=(5, 250)).map_blocks(count, dtype=X.dtype)
    Yd = da.from_array(Y, chunks=(1, 250))
    ref = xpnet.NeuralNetwork(DIMS, shuffle=False, **MB).fit(X, Y)
    net = xpnet.NeuralNetwork(DIMS, shuffle=False, backend="dask", **MB)
    with dask.config.set(scheduler="sync"):
        net.fit(Xd, Yd)
    np.testing.assert_allclose([c for _, c in net.costs_], [c for _, c in ref.costs_], rtol=RTOL)
    for k, p in net.params_.items():
        np.testing.assert_allclose(xpnet.to_numpy(p), ref.params_[k], rtol=RTOL, atol=ATOL)
    # fit's input checks read X once (finite values); then 3 epochs x 4 blocks, once each
    epochs = reads[-12:]
    assert sorted(epochs) == sorted([0, 1, 2, 3] * 3), reads
    assert len(reads) <= 4 + 12, reads


def test_course_shuffle_refuses_several_blocks(data):
    X, Y = data
    net = xpnet.NeuralNetwork(DIMS, shuffle="course", backend="dask", **MB)
    with pytest.raises(ValueError, match="shuffle='course' permutes all m examples"):
        net.fit(da.from_array(X, chunks=(5, 500)), da.from_array(Y, chunks=(1, 500)))
    # refused before the model changes: a fitted model stays as it was (it was replaced
    # by fresh parameters, as the check ran in the first epoch)
    net.fit(da.from_array(X, chunks=(5, -1)), da.from_array(Y, chunks=(1, -1)))
    before = {k: xpnet.to_numpy(p) for k, p in net.params_.items()}
    n_iter, costs = net.n_iter_, list(net.costs_)
    with pytest.raises(ValueError, match="shuffle='course' permutes all m examples"):
        net.fit(da.from_array(X, chunks=(5, 500)), da.from_array(Y, chunks=(1, 500)))
    assert net.n_iter_ == n_iter and net.costs_ == costs
    for k, p in before.items():
        np.testing.assert_array_equal(xpnet.to_numpy(net.params_[k]), p)


def test_empty_blocks_along_m_are_dropped(data, reference):
    """A filter (X[:, keep].compute_chunk_sizes()) leaves zero-width blocks: full batch
    raised a DivergenceError blaming the learning rate (the empty block's mean cost was
    0/0 = NaN in the sum over blocks), mini-batches a TypeError on float(None)."""
    X, Y = data
    gaps = (0, 300, 0, 250, 450, 0)  # sums to m = 1000
    Xd, Yd = da.from_array(X, chunks=(5, gaps)), da.from_array(Y, chunks=(1, gaps))
    net = xpnet.NeuralNetwork(DIMS, backend="dask", **KW).fit(Xd, Yd)
    assert_same_training(net, reference)
    assert net.predict(Xd).chunks[1] == (300, 250, 450)
    full = (300, 250, 450)
    ref = xpnet.NeuralNetwork(DIMS, backend="dask", **MB).fit(
        da.from_array(X, chunks=(5, full)), da.from_array(Y, chunks=(1, full))
    )
    got = xpnet.NeuralNetwork(DIMS, backend="dask", **MB).fit(Xd, Yd)
    assert [c for _, c in got.costs_] == [c for _, c in ref.costs_]
    for k, p in got.params_.items():
        np.testing.assert_array_equal(xpnet.to_numpy(p), xpnet.to_numpy(ref.params_[k]))


def test_blocks_narrower_than_the_batch_are_warned_of(data):
    """batch_size=64 over blocks of 10 ran batches of 10 (4x the steps of NumPy's run)
    without a word: batches never span two blocks."""
    X, Y = data
    kw = {**MB, "num_iterations": 1, "batch_size": 64}
    Xd, Yd = da.from_array(X, chunks=(5, 10)), da.from_array(Y, chunks=(1, 10))
    with pytest.warns(UserWarning, match=r"as few as 10 examples, fewer than batch_size=64.*"
                                         r"X\.rechunk\(\{1: 64\}\)"):  # fmt: skip
        net = xpnet.NeuralNetwork(DIMS, backend="dask", **kw).fit(Xd, Yd)
    assert net.t_ == 100  # one batch per block of 10
    wide = (64, 128, 808)  # the last block may be narrower: no warning for it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xpnet.NeuralNetwork(DIMS, backend="dask", **kw).fit(
            da.from_array(X, chunks=(5, wide)), da.from_array(Y, chunks=(1, wide))
        )
