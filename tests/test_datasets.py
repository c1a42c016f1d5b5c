"""The course's planar data, the synthetic generator and the HDF5 loader."""

from __future__ import annotations

import numpy as np
import pytest

from xpnet.datasets import load_h5_images, make_synthetic, planar_flower


def test_planar_flower_follows_the_course_recipe():
    X, Y = planar_flower(m=400, a=4, seed=1)
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    assert Y[0, :200].sum() == 0 and Y[0, 200:].sum() == 200
    # Recompute the recipe with NumPy's legacy global RNG, as the course does.
    state = np.random.get_state()
    try:
        np.random.seed(1)
        pts = []
        for j in range(2):
            t = np.linspace(j * 3.12, (j + 1) * 3.12, 200) + np.random.randn(200) * 0.2
            r = 4 * np.sin(4 * t) + np.random.randn(200) * 0.2
            pts.append(np.stack([r * np.sin(t), r * np.cos(t)]))
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(X, np.concatenate(pts, axis=1))
    X2, _ = planar_flower(seed=2)
    assert not np.array_equal(X, X2)


def test_planar_flower_leaves_the_global_rng_alone():
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    planar_flower(seed=1)
    assert np.random.rand() == expected


def test_make_synthetic_shapes_and_labels():
    X, Y = make_synthetic(50, 7, seed=0, dtype=np.float32)
    assert X.shape == (7, 50) and Y.shape == (1, 50) and X.dtype == np.float32
    assert set(np.unique(Y)) == {0.0, 1.0}


def test_h5_loader_flattens_and_scales(tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 4, 4, 3), dtype=np.uint8)
    labels = np.array([0, 1, 1, 0, 1, 0])
    path = tmp_path / "train_catvnoncat.h5"
    with h5py.File(path, "w") as f:
        f["train_set_x"] = images
        f["train_set_y"] = labels
        f["list_classes"] = np.array([b"non-cat", b"cat"])
    X, Y, classes = load_h5_images(path)
    assert X.shape == (48, 6) and Y.shape == (1, 6)
    np.testing.assert_allclose(X[:, 2], images[2].reshape(-1) / 255.0)
    np.testing.assert_array_equal(Y[0], labels)
    assert classes == ["non-cat", "cat"]


def test_h5_loader_missing_file_is_clear(tmp_path):
    pytest.importorskip("h5py")
    with pytest.raises(FileNotFoundError, match="ships no data"):
        load_h5_images(tmp_path / "nope.h5")
