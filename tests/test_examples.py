"""The gallery's examples run as plain scripts and print the course's numbers.

The numbers below are the course notebooks' own printed output, kept here apart from the
examples so that a change to an example cannot silently change what it is compared with.
The cat examples need the course's HDF5 files (``XPNET_CAT_TRAIN``, ``XPNET_CAT_TEST``);
without them their number checks are skipped with that reason.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("plot_*.py"))
CAT_SCRIPTS = ["plot_week2_logistic_regression.py", "plot_week4_deep_cat.py"]


def run(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run an example in a fresh interpreter, as a user would; return its stdout."""
    full_env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=600,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def printed_costs(out: str) -> dict[int, float]:
    return {int(i): float(c) for i, c in re.findall(r"Cost after iteration (\d+): ([\d.]+)", out)}


def printed_percent(out: str, label: str) -> float:
    (value,) = re.findall(rf"^{label}: ([\d.]+) %$", out, flags=re.MULTILINE)
    return float(value)


@pytest.mark.parametrize("script", SCRIPTS)
def test_examples_are_in_gallery_format(script):
    source = (EXAMPLES / script).read_text()
    doc = ast.get_docstring(ast.parse(source), clean=False)
    assert doc is not None, f"{script} needs a module docstring with an RST title"
    title, underline = doc.strip().splitlines()[:2]
    assert set(underline) == {"="} and len(underline) >= len(title), (title, underline)
    assert source.count("\n# %%\n") >= 2, f"{script} should be split into # %% cells"


def test_planar_flower_prints_the_course_numbers():
    out = run("plot_week3_planar_flower.py")
    costs = printed_costs(out)
    assert sorted(costs) == list(range(0, 10000, 1000))
    course = [0.693048, 0.288083, 0.254385, 0.233864, 0.226792, 0.222644, 0.219731]
    np.testing.assert_allclose([costs[i] for i in range(0, 7000, 1000)], course, atol=1e-6)
    assert printed_percent(out, "Accuracy") == 90.75  # 363 of the 400 points


@pytest.mark.slow
def test_planar_flower_on_torch_gives_the_course_costs():
    """The docstring said the numbers "do not change" on another backend; on torch the
    run ends at 362 of 400 points, one point within rounding of the boundary (the costs
    drift in their 6th decimal only once they oscillate, after iteration 7000)."""
    pytest.importorskip("torch")
    costs = printed_costs(out := run("plot_week3_planar_flower.py", "--backend", "torch"))
    course = [0.693048, 0.288083, 0.254385, 0.233864, 0.226792, 0.222644, 0.219731]
    np.testing.assert_allclose([costs[i] for i in range(0, 7000, 1000)], course, atol=1e-6)
    assert printed_percent(out, "Accuracy") in (90.5, 90.75)  # 362 or 363 of 400


def _blocks(out: str) -> dict[str, str]:
    """The output of an example that trains several models, split at its "-- name" lines."""
    parts = re.split(r"^-- (\w+)\n", out, flags=re.MULTILINE)[1:]
    return dict(zip(parts[::2], parts[1::2], strict=True))


@pytest.mark.slow
def test_optimization_prints_the_course_numbers():
    out = _blocks(run("plot_course2_optimization.py"))
    course = {  # cost after epochs 0, 1000, ..., 4000; accuracy in %
        "gd": ([0.702405, 0.668101, 0.635288, 0.600491, 0.573367], 71.67),
        "momentum": ([0.702413, 0.668167, 0.635388, 0.600591, 0.573444], 71.67),
        "adam": ([0.702166, 0.167845, 0.141316, 0.138788, 0.136066], 94.33),
    }
    assert sorted(out) == sorted(course)
    for name, (costs, accuracy) in course.items():
        epochs = dict(re.findall(r"Cost after epoch (\d+): ([\d.]+)", out[name]))
        assert list(epochs) == ["0", "1000", "2000", "3000", "4000"]
        np.testing.assert_allclose([float(c) for c in epochs.values()], costs, atol=1e-6)
        assert printed_percent(out[name], "Accuracy") == accuracy


def _assert_accuracies(out, expected):
    """Each printed block (one per model) shows exactly the expected train and test
    accuracies; ``expected`` maps the block's name to (train %, test %)."""
    assert sorted(out) == sorted(expected)
    for name, (train, test) in expected.items():
        assert printed_percent(out[name], "train accuracy") == train, name
        assert printed_percent(out[name], "test accuracy") == test, name


def test_initialization_prints_the_course_numbers():
    out = _blocks(run("plot_course2_initialization.py"))
    _assert_accuracies(out, {"zeros": (50.0, 50.0), "random": (83.0, 86.0), "he": (99.33, 96.0)})
    zeros, he = printed_costs(out["zeros"]), printed_costs(out["he"])
    assert sorted(zeros) == list(range(0, 15000, 1000))
    assert set(zeros.values()) == {0.693147}  # log 2: nothing moves from zeros
    np.testing.assert_allclose(
        [he[0], he[1000], he[14000]], [0.883054, 0.687983, 0.073579], atol=1e-6
    )


def test_regularization_narrows_the_train_test_gap():
    """Seeded data, weights and dropout masks: the NumPy run prints these exact numbers."""
    out = _blocks(run("plot_course2_regularization.py"))
    _assert_accuracies(out, {"none": (100.0, 87.7), "l2": (93.33, 91.2), "dropout": (96.67, 87.1)})
    none, l2 = printed_costs(out["none"]), printed_costs(out["l2"])
    assert sorted(none) == sorted(l2) == list(range(0, 5000, 1000))
    assert l2[0] - none[0] == pytest.approx(0.813651, abs=2e-6)  # λ/(2m) Σ‖W‖² at start
    assert none[4000] < 0.01 and l2[4000] > 0.25  # the penalty keeps J[L2] away from 0


@pytest.mark.parametrize("script", CAT_SCRIPTS)
def test_cat_examples_without_data_say_so_and_exit_0(script):
    env = {"XPNET_CAT_TRAIN": "", "XPNET_CAT_TEST": ""}
    out = run(script, env=env)
    assert out.startswith("Skipped: the course's cat images are not given")
    out = run(script, "/nonexistent/train.h5", "/nonexistent/test.h5", env=env)
    assert "Skipped: the cat image file(s)" in out and "do not exist" in out


@pytest.mark.parametrize("script", CAT_SCRIPTS)
def test_cat_examples_train_on_other_image_files(script, tmp_path):
    """Small random 8 x 8 images run the whole script; not the course's files, so the
    script trains and prints but does not compare."""
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    paths = []
    for name, m in (("train", 12), ("test", 6)):
        path = tmp_path / f"{name}.h5"
        with h5py.File(path, "w") as f:
            f[f"{name}_set_x"] = rng.integers(0, 256, (m, 8, 8, 3), dtype=np.uint8)
            f[f"{name}_set_y"] = np.arange(m) % 2
        paths.append(str(path))
    out = run(script, *paths)
    assert "train: X (192, 12), Y (1, 12); test: X (192, 6)" in out
    assert "numbers are not compared" in out
    assert 0 in printed_costs(out) and 2400 >= max(printed_costs(out)) >= 1900
    assert re.search(r"^test accuracy: \d+\.\d\d %$", out, flags=re.MULTILINE)


COURSE_CATS = {  # costs at some iterations, then train and test accuracy in %
    "plot_week2_logistic_regression.py": [
        ({0: 0.693147, 100: 0.584508, 1000: 0.214820, 1900: 0.140872}, 99.04, 70.0)
    ],
    "plot_week4_deep_cat.py": [
        ({0: 0.693050, 100: 0.646432, 2400: 0.048555}, 100.0, 72.0),
        ({0: 0.771749, 100: 0.672053, 2400: 0.092878}, 98.56, 80.0),
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("script", CAT_SCRIPTS)
def test_cat_examples_print_the_course_numbers(script):
    files = [os.environ.get("XPNET_CAT_TRAIN"), os.environ.get("XPNET_CAT_TEST")]
    if not all(files) or not all(Path(f).is_file() for f in files):
        pytest.skip("the course's cat images are absent: set XPNET_CAT_TRAIN, XPNET_CAT_TEST")
    out = run(script)
    # one block of output per model, each starting at its "Cost after iteration 0"
    blocks = re.split(r"(?=Cost after iteration 0:)", out)[1:]
    assert len(blocks) == len(COURSE_CATS[script])
    for block, (costs, train, test) in zip(blocks, COURSE_CATS[script], strict=True):
        ours = printed_costs(block)
        np.testing.assert_allclose([ours[i] for i in costs], list(costs.values()), atol=1e-6)
        assert printed_percent(block, "train accuracy") == pytest.approx(train, abs=0.01)
        assert printed_percent(block, "test accuracy") == pytest.approx(test, abs=0.01)
