"""``xpnet bench`` and the benchmark suite's options, without timing anything that matters.

The command is a shim over pytest: its options become pytest options of
``benchmarks/conftest.py``, which the bench files read in ``pytest_generate_tests``.
These tests check the translation, the grid the options give (pytest's collection), and
that ``--xpnet-report`` writes the report at the end of a (one-cell) session.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import child_env

from xpnet import cli

ROOT = Path(__file__).resolve().parents[1]


def _needs_bench_extra() -> None:
    """Running the benchmark suite needs pytest-benchmark (and the report, pandas)."""
    why = "running benchmarks/ needs the [bench] extra: pip install -e '.[test,bench]'"
    pytest.importorskip("pytest_benchmark", reason=why)
    pytest.importorskip("pandas", reason=why)


def _pytest(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    path = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    env = child_env(PYTHONPATH=path)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_bench_passes_every_option_to_pytest(tmp_path):
    args = cli._parse(
        ["bench", "--quick", "--backend", "numpy,torch", "--m", "10,100", "--n-x", "5",
         "--impl", "vectorized", "--budget", "3", "--suite", "dot,vectorization",
         "--out", str(tmp_path), "--no-progress", "-k", "logreg"]
    )  # fmt: skip
    argv = cli.pytest_args(args, ROOT)
    files = [a for a in argv if a.endswith(".py")]
    assert files == [str(ROOT / "benchmarks" / f"bench_{s}.py") for s in ("dot", "vectorization")]
    for expected in (
        "--xpnet-quick",
        "--xpnet-backends=numpy,torch",
        "--xpnet-m=10,100",
        "--xpnet-n-x=5",
        "--xpnet-impl=vectorized",
        "--xpnet-budget=3.0",
        f"--xpnet-report={tmp_path.resolve()}",
        f"--benchmark-json={tmp_path.resolve() / 'raw.json'}",
        "console_output_style=classic",
    ):
        assert expected in argv
    assert argv[-2:] == ["-k", "logreg"]
    # the defaults: the full grid, pytest's progress counter, no narrowing
    plain = cli.pytest_args(cli._parse(["bench"]), ROOT)
    assert "--xpnet-quick" not in plain and "-k" not in plain and "-q" not in plain
    assert not any(a.startswith(("--xpnet-m=", "--xpnet-budget=")) for a in plain)


def test_bench_refuses_an_unknown_suite():
    with pytest.raises(SystemExit, match="--suite everything is not known"):
        cli.pytest_args(cli._parse(["bench", "--suite", "everything"]), ROOT)


def test_options_choose_the_grid():
    _needs_bench_extra()
    result = _pytest(
        "benchmarks/bench_vectorization.py", "benchmarks/bench_roofline.py", "--collect-only",
        "-q", "--xpnet-quick", "--xpnet-backends=numpy", "--xpnet-m=7,70", "--xpnet-n-x=3",
        "--xpnet-impl=vectorized",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    ids = sorted(line for line in result.stdout.splitlines() if "::" in line)
    vec = [f"{t}[numpy-vectorized-m{m}-nx3]" for t in ("logreg", "shallow") for m in (7, 70)]
    roof = [f"{t}[numpy-n256-m512-{d}]" for t in ("matmul", "step") for d in ("float32", "float64")]
    assert ids == sorted(
        [f"benchmarks/bench_roofline.py::test_roofline_{r}" for r in roof]
        + [f"benchmarks/bench_vectorization.py::test_step_{v}" for v in vec]
    )
    # no compiling backend asked for: the compiled roofline is left out, not skipped
    assert "1 deselected" in result.stdout


def test_a_bad_option_value_is_a_usage_error():
    result = _pytest("benchmarks/bench_dot.py", "--collect-only", "--xpnet-m=ten")
    assert result.returncode == 4  # pytest's usage error
    assert "--xpnet-m" in result.stderr and "'ten'" in result.stderr


def test_xpnet_report_writes_the_report_at_the_end_of_the_session(tmp_path):
    _needs_bench_extra()
    out = tmp_path / "report"
    result = _pytest(
        "benchmarks/bench_dot.py", "-k", "vectorized", "--xpnet-quick", f"--xpnet-report={out}",
        "--benchmark-max-time=0.001", "--benchmark-min-rounds=1",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "xpnet benchmark report" in result.stdout and "Performance targets" in result.stdout
    raw = json.loads((out / "raw.json").read_text())
    assert [b["name"] for b in raw["benchmarks"]] == ["test_dot[numpy-vectorized]"]
    speedups = json.loads((out / "speedups.json").read_text())
    assert [d["backend"] for d in speedups["dot"]] == ["numpy"]
    assert speedups["dot"][0]["vectorized_s"] > 0 and speedups["dot"][0]["loops_s"] is None
    md = (out / "report.md").read_text()
    assert "Grid: **quick**" in md and "## The lecture's dot product" in md


def test_benchmark_json_into_a_folder_that_does_not_exist_yet(tmp_path):
    """pytest-benchmark writes --benchmark-json only after the whole run; the suite's
    conftest creates its folder first, so a long run's results are not lost at the end
    (bench_dask.py --benchmark-json=B/raw.json with no B failed there)."""
    _needs_bench_extra()
    target = tmp_path / "not" / "yet" / "raw.json"
    result = _pytest(
        "benchmarks/bench_dot.py", "-k", "vectorized", "--xpnet-quick",
        f"--benchmark-json={target}", "--benchmark-max-time=0.001", "--benchmark-min-rounds=1",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    raw = json.loads(target.read_text())
    assert [b["name"] for b in raw["benchmarks"]] == ["test_dot[numpy-vectorized]"]


def _ab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "ci" / "ab_kernels.py"), *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_ab_kernels_times_two_trees_and_refuses_different_math(tmp_path):
    """ci/ab_kernels.py loads two checkouts side by side; this tree against itself gives
    a B/A ratio per cell, and a tree whose step computes something else is refused."""
    done = _ab(str(ROOT), str(ROOT), "--cells", "tiny,logreg", "--seconds", "0.05", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ratios = [float(line.rsplit("B/A ", 1)[1]) for line in done.stdout.splitlines()[1:]]
    assert len(ratios) == 2 and all(r > 0 for r in ratios)
    # a copy of the package whose update adds 1 to every parameter: not the same step
    other = tmp_path / "other"
    (other / "src").mkdir(parents=True)
    shutil.copytree(ROOT / "src" / "xpnet", other / "src" / "xpnet")
    prop = other / "src" / "xpnet" / "propagation.py"
    text = prop.read_text()
    old = 'return {k: p - learning_rate * grads[f"d{k}"] for k, p in params.items()}'
    assert old in text
    prop.write_text(text.replace(old, old.replace("p - learning_rate", "1 + p - learning_rate")))
    refused = _ab(str(ROOT), str(other), "--cells", "tiny", "--seconds", "0.05", cwd=tmp_path)
    assert refused.returncode != 0 and "not the same step" in refused.stderr
