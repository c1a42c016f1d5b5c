"""Saved models lose nothing and run no code (issue 4): ``model.save`` / ``xpnet.load``."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest
from helpers import assert_on

import xpnet
import xpnet.io

DIMS = [3, 5, 1]


def _problem(m=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, m))
    Y = ((X[0] + 0.5 * X[1]) > 0).astype(np.float64).reshape(1, m)
    return X, Y


def _train(xp, backend, device, **kw):
    X, Y = _problem()
    kw = {"num_iterations": 25, "record_every": 5, "learning_rate": 0.5, **kw}
    net = xpnet.NeuralNetwork(DIMS, backend=backend.library, device=device, **kw)
    return net.fit(
        xp.asarray(X, dtype=xp.float64, device=device),
        xp.asarray(Y, dtype=xp.float64, device=device),
    )


def _host(params):
    return {k: xpnet.to_numpy(v) for k, v in params.items()}


def _assert_bit_equal(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        assert a[k].tobytes() == b[k].tobytes(), f"{k} differs"


@pytest.fixture
def saved(tmp_path):
    net = xpnet.NeuralNetwork(
        DIMS, hidden_activation=xpnet.leaky_relu(0.2), num_iterations=10, record_every=3, l2=0.1
    )
    X, Y = _problem()
    net.fit(X, Y)
    path = tmp_path / "model.npz"
    net.save(path)
    return net, path


# ============================================================================ round trips


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_is_bit_exact_on_the_same_backend(xp, backend, device, tmp_path, dtype):
    net = _train(
        xp, backend, device, dtype=dtype, hidden_activation="tanh", l2=0.05, init="xavier", seed=7
    )
    path = tmp_path / "m.npz"
    net.save(path)
    back = xpnet.load(path, backend=backend.library, device=device)
    _assert_bit_equal(_host(back.params_), _host(net.params_))
    assert back.backend_ == net.backend_
    for p in back.params_.values():
        assert_on(p, xp, device)
    assert back.costs_ == net.costs_ and back.n_iter_ == net.n_iter_
    assert back.layer_dims == net.layer_dims
    assert back.activations == net.activations
    for attr in ("learning_rate", "num_iterations", "init", "init_scale", "seed", "l2", "impl",
                 "record_every"):  # fmt: skip
        assert getattr(back, attr) == getattr(net, attr), attr
    X, _ = _problem(m=17, seed=3)
    p1 = xpnet.to_numpy(net.predict_proba(xp.asarray(X, dtype=getattr(xp, dtype), device=device)))
    p2 = xpnet.to_numpy(back.predict_proba(xp.asarray(X, dtype=getattr(xp, dtype), device=device)))
    assert p1.tobytes() == p2.tobytes()


def test_trained_on_one_backend_loaded_on_another(xp, backend, device, tmp_path):
    """Trained on xp, loaded on NumPy (and NumPy-trained loaded on xp): identical float64."""
    net = _train(xp, backend, device)
    path = tmp_path / "m.npz"
    net.save(path)
    on_numpy = xpnet.load(path)
    assert on_numpy.backend is None and on_numpy.backend_ == "numpy"
    _assert_bit_equal(_host(on_numpy.params_), _host(net.params_))
    X, _ = _problem(m=40, seed=5)
    np.testing.assert_array_equal(
        xpnet.to_numpy(on_numpy.predict(X)),
        xpnet.to_numpy(net.predict(xp.asarray(X, dtype=xp.float64, device=device))),
    )
    np.testing.assert_allclose(
        xpnet.to_numpy(on_numpy.predict_proba(X)),
        xpnet.to_numpy(net.predict_proba(xp.asarray(X, dtype=xp.float64, device=device))),
        rtol=1e-12,  # same parameters; only the libraries' matmul summation order may differ
    )
    # and the other way: trained on NumPy, loaded onto xp's backend and device
    host_net = xpnet.NeuralNetwork(DIMS, num_iterations=25, learning_rate=0.5)
    host_net.fit(*_problem())
    host_net.save(path)
    moved = xpnet.load(path, backend=backend.library, device=device)
    _assert_bit_equal(_host(moved.params_), _host(host_net.params_))
    np.testing.assert_array_equal(
        xpnet.to_numpy(moved.predict(xp.asarray(X, dtype=xp.float64, device=device))),
        xpnet.to_numpy(host_net.predict(X)),
    )


def test_loaded_model_can_keep_training(saved):
    net, path = saved
    back = xpnet.load(path)
    X, Y = _problem()
    back.fit(X, Y)
    net.fit(X, Y)
    _assert_bit_equal(_host(back.params_), _host(net.params_))


def test_file_is_a_plain_npz_with_json_metadata(saved):
    net, path = saved
    with np.load(path, allow_pickle=False) as npz:
        assert set(npz.files) == {"W1", "b1", "W2", "b2", "opt.t", "__xpnet_metadata__"}
        assert npz["opt.t"].shape == () and npz["opt.t"] == 10  # gd keeps only t
        meta = json.loads(str(npz["__xpnet_metadata__"][()]))
    assert meta["format"] == "xpnet.NeuralNetwork" and meta["format_version"] == 2
    assert meta["xpnet_version"] == xpnet.__version__
    assert meta["layer_dims"] == DIMS
    assert meta["hidden_activation"] == {"name": "leaky_relu", "slope": 0.2}
    assert meta["output_activation"] == "sigmoid"
    assert meta["dtype"] == "float64"
    assert meta["hyperparameters"]["l2"] == 0.1
    assert meta["costs"] == [[i, c] for i, c in net.costs_] and meta["n_iter"] == 10


def test_save_before_fit(tmp_path):
    with pytest.raises(RuntimeError, match="not fitted"):
        xpnet.NeuralNetwork(DIMS).save(tmp_path / "m.npz")
    assert not os.listdir(tmp_path)


def test_custom_activation_cannot_be_saved(tmp_path):
    custom = xpnet.Activation("relu", lambda Z, xp: Z, lambda Z, xp: Z * 0 + 1)
    net = xpnet.NeuralNetwork(DIMS, hidden_activation=custom, num_iterations=2).fit(*_problem())
    with pytest.raises(ValueError, match="custom Activation"):
        net.save(tmp_path / "m.npz")
    assert not os.listdir(tmp_path)


def test_pickle_and_deepcopy_keep_a_fitted_model_on_every_backend(xp, backend, device):
    """pickle (joblib, scikit-learn's parallel search) and deepcopy drop only the
    compiled-step cache: a JAX model held a jax Device there and could not be pickled."""
    import copy
    import pickle

    net = _train(xp, backend, device, batch_size=16, keep_prob=0.8)
    X, Y = (xp.asarray(a, dtype=xp.float64, device=device) for a in _problem())
    for twin in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        _assert_bit_equal(_host(twin.params_), _host(net.params_))
        twin.partial_fit(X, Y)
        assert twin.n_iter_ == net.n_iter_ + 1
    net.partial_fit(X, Y)  # the original, with its cache, goes on the same way
    _assert_bit_equal(_host(twin.params_), _host(net.params_))


# ============================================================================ bad files


def _assert_load_error(path, *fragments):
    with pytest.raises(xpnet.ModelFileError) as info:
        xpnet.load(path)
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    assert str(path) in msg
    for f in fragments:
        assert f in msg, (f, msg)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file(saved, keep):
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    _assert_load_error(path, "not a loadable xpnet model file")


@pytest.mark.parametrize("where", [0.3, 0.6])
def test_corrupted_file(saved, where):
    _, path = saved
    data = bytearray(path.read_bytes())
    i = int(len(data) * where)
    data[i : i + 16] = bytes(255 - b for b in data[i : i + 16])
    path.write_bytes(bytes(data))
    _assert_load_error(path, "truncated or corrupted")


def test_foreign_files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("W1,b1\n1,2\n")
    _assert_load_error(text, "does not start like an .npz")
    npy = tmp_path / "array.npy"
    np.save(npy, np.ones(3))
    _assert_load_error(npy, "does not start like an .npz")
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.ones(3))
    _assert_load_error(other, "no '__xpnet_metadata__'", "['weights']")
    plain_zip = tmp_path / "a.zip"
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("hello.txt", "hi")
    _assert_load_error(plain_zip, "no '__xpnet_metadata__'")
    with pytest.raises(FileNotFoundError, match="no xpnet model file"):
        xpnet.load(tmp_path / "missing.npz")


def _rewrite_meta(path, edit):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["__xpnet_metadata__"][()]))
    edit(meta, arrays)
    arrays["__xpnet_metadata__"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def test_newer_format_version(saved):
    _, path = saved
    _rewrite_meta(path, lambda m, a: m.update(format_version=99, xpnet_version="9.0"))
    _assert_load_error(path, "format version 99", "xpnet 9.0", "upgrade xpnet")


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda m, a: m.update(format="something.else"), "does not declare format"),
        (lambda m, a: m.pop("layer_dims"), "lacks or mangles"),
        (lambda m, a: m.update(layer_dims=[3, 4, 1]), "W1 is float64 (5, 3)"),
        (lambda m, a: a.pop("b2"), "needs ['W1', 'W2', 'b1', 'b2']"),
        (lambda m, a: m.update(dtype="int8"), "dtype='int8'"),
        (lambda m, a: m.update(hidden_activation="swish"), "'swish' is not known"),
        (lambda m, a: m["hyperparameters"].update(learning_rate=-1), "learning_rate"),
        (lambda m, a: m["hyperparameters"].update(exec="import os"), "unknown hyperparameters"),
        (  # a generator named by the file is looked up in a fixed list, never called by name
            lambda m, a: m["rng"]["shuffle"]["state"].update(bit_generator="seed"),
            "unknown bit generator 'seed'",
        ),
        (lambda m, a: m["rng"]["shuffle"].update(state={"x": 1}), "generator states are invalid"),
    ],
)
def test_incompatible_contents(saved, edit, fragment):
    _, path = saved
    _rewrite_meta(path, edit)
    _assert_load_error(path, fragment)


def test_invalid_json_metadata(saved):
    _, path = saved
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["__xpnet_metadata__"] = np.array("{not json")
    np.savez(path, **arrays)
    _assert_load_error(path, "not valid JSON")


class _Payload:
    """Unpickling this object would create a marker file: loading must never do it."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loading_never_executes_code(saved, tmp_path):
    _, path = saved
    marker = tmp_path / "pwned"
    _Payload.marker = str(marker)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload()
    arrays["W1"] = evil
    np.savez(path, **arrays)  # numpy pickles the object array into W1.npy
    assert str(marker).encode() in path.read_bytes()  # the payload really is in the file
    _assert_load_error(path, "pickled", "arbitrary code")
    assert not marker.exists()


# ============================================================================ atomic save


class _Crash(Exception):
    pass


def test_crash_mid_save_keeps_the_existing_file(saved, monkeypatch, tmp_path):
    net, path = saved
    before = path.read_bytes()

    def half_write_then_crash(f, arrays):
        f.write(before[: len(before) // 2])  # some bytes reach the disk, then the process dies
        raise _Crash("simulated crash during the write")

    monkeypatch.setattr(xpnet.io, "_write_npz", half_write_then_crash)
    net.learning_rate = 0.123  # a different model state would have been saved
    with pytest.raises(_Crash):
        net.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    assert xpnet.load(path).learning_rate != 0.123


def test_crash_mid_save_with_no_previous_file(saved, monkeypatch, tmp_path):
    net, _ = saved
    target = tmp_path / "new.npz"

    def crash(f, arrays):
        raise KeyboardInterrupt

    monkeypatch.setattr(xpnet.io, "_write_npz", crash)
    with pytest.raises(KeyboardInterrupt):
        net.save(target)
    assert not target.exists() and sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_save_overwrites_atomically_via_replace(saved, monkeypatch):
    net, path = saved
    calls = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append((a, b)), real(a, b)))
    net.save(path)
    assert len(calls) == 1 and os.fspath(calls[0][1]) == os.fspath(path)
    assert os.path.dirname(calls[0][0]) == os.path.dirname(os.path.abspath(path))
    xpnet.load(path)


def test_numpy_scalar_settings_save_and_the_seed_survives(tmp_path):
    """np.int64 / np.float32 / np.bool_ settings: save raised json's "not JSON
    serializable", and an np.int64 seed was written as None (a loaded model's next fit
    drew other weights)."""
    X, Y = _problem()
    kw = dict(num_iterations=3, learning_rate=np.float32(0.25), batch_size=np.int64(16),
              record_every=np.int64(1), keep_prob=np.float32(0.9), shuffle=np.True_)  # fmt: skip
    net = xpnet.NeuralNetwork([X.shape[0], 4, 1], seed=np.int64(5), **kw).fit(X, Y)
    net.save(tmp_path / "m.npz")
    back = xpnet.load(tmp_path / "m.npz")
    assert back.seed == 5 and type(back.seed) is int
    assert back.learning_rate == float(np.float32(0.25)) and back.batch_size == 16
    plain = xpnet.NeuralNetwork([X.shape[0], 4, 1], seed=5, **kw).fit(X, Y)
    for k, p in plain.params_.items():
        np.testing.assert_array_equal(back.params_[k], p)


def test_a_random_state_seed_continues_after_loading(tmp_path):
    """seed=RandomState draws shuffles and dropout masks from one generator, interleaved;
    loading made two independent copies, so partial_fit after loading left the run."""
    X, Y = _problem()
    kw = dict(optimizer="adam", keep_prob=0.7, batch_size=16, record_every=1)
    dims = [X.shape[0], 5, 1]
    ref = xpnet.NeuralNetwork(dims, num_iterations=5, seed=np.random.RandomState(3), **kw)
    ref.fit(X, Y)
    net = xpnet.NeuralNetwork(dims, num_iterations=3, seed=np.random.RandomState(3), **kw)
    net.fit(X, Y).save(tmp_path / "m.npz")
    back = xpnet.load(tmp_path / "m.npz")
    assert back._rngs[0] is back._rngs[1]
    back.partial_fit(X, Y)
    back.partial_fit(X, Y)
    assert back.costs_ == ref.costs_
    for k, p in ref.params_.items():
        np.testing.assert_array_equal(back.params_[k], p)


def test_load_reports_the_callers_backend_and_device_errors_as_theirs(saved):
    _, saved = saved
    """A bad backend= or device= (or JAX without 64-bit mode for a float64 file) is the
    caller's mistake: it was reported as a corrupt file (ModelFileError)."""
    with pytest.raises(ValueError, match="backend='nonesuch' is not a known backend") as info:
        xpnet.load(saved, backend="nonesuch")
    assert not isinstance(info.value, xpnet.ModelFileError)
    with pytest.raises(ValueError) as info:
        xpnet.load(saved, backend="numpy", device="gpu")
    assert not isinstance(info.value, xpnet.ModelFileError)
