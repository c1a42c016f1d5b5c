"""What can be checked of the GPU run without a GPU: the scripts of ``ci/gpu/`` (valid bash,
one shared wheel list, pins that satisfy pyproject.toml), and the report builder on
results files.

The results files in ``tests/data/gpu_report/`` were produced by actually running the
benchmark code paths here, through ``ci/gpu/run.sh --part bench`` on a 2-core CPU with
the torch *CPU* backend in the GPU backend's place (``XPNET_GPU_BACKENDS=torch``), and
``pytest --junitxml`` on tests/test_activations.py; they are labelled as the CPU they ran
on. No GPU figure is in them: the GPU sample test below stays skipped until the first
real GPU run's files are committed.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import child_env

ROOT = Path(__file__).resolve().parents[1]
GPU_DIR = ROOT / "ci" / "gpu"
DATA = Path(__file__).parent / "data" / "gpu_report"
# What the GPU image already has (the device tool's KINDS.md), so needs no wheel.
ON_IMAGE = {
    "numpy",
    "h5py",
    "pytest",
    "hypothesis",
    "pytest-benchmark",
    "matplotlib",
    "py-cpuinfo",
    "torch",
    "jax",
    "cupy-cuda13x",
    "scikit-learn",
    "tqdm",
    "pandas",
    "tabulate",
    "pytest-xdist",
    "pytest-timeout",
}


#: What the report tooling needs beyond the ``[test]`` extra (it is in ``[bench]``).
NEEDS_BENCH = "the report tooling (ci/) needs the [bench] extra: pip install -e '.[test,bench]'"


def _load(name: str):
    """ci/NAME.py as a module (ci/ on the path while it imports its sibling targets.py);
    the test skips, naming the extra, where the tooling's dependencies are missing."""
    pytest.importorskip("pandas", reason=NEEDS_BENCH)
    pytest.importorskip("tabulate", reason=NEEDS_BENCH)
    sys.path.insert(0, str(ROOT / "ci"))
    try:
        path = ROOT / "ci" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"xpnet_ci_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "ci"))


def _targets():
    """The targets table as ci/report.py imported it (the one ci/gate.py reads too)."""
    _load("report")
    return sys.modules["targets"]


def _flat(md: str) -> str:
    """report.md with each table row's cell padding removed: ``| a | b |``."""
    lines = []
    for line in md.splitlines():
        if line.startswith("|"):
            line = "| " + " | ".join(c.strip() for c in line.strip().strip("|").split("|")) + " |"
        lines.append(line)
    return "\n".join(lines)


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][A-Za-z0-9.]*)", line)
            assert match, f"{path.name}: {line!r} is not pinned as NAME==VERSION"
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


# ----------------------------------------------------------------------------- scripts


@pytest.mark.parametrize("script", ["run.sh", "fetch_wheels.sh"])
def test_gpu_scripts_are_valid_bash(script):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    result = subprocess.run([bash, "-n", str(GPU_DIR / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_run_sh_installs_the_wheels_fetch_wheels_downloads():
    run = (GPU_DIR / "run.sh").read_text()
    fetch = (GPU_DIR / "fetch_wheels.sh").read_text()
    # one list, read by both scripts; run.sh installs offline from the fetched folder
    assert '-r "$root/ci/gpu/requirements.txt"' in run
    assert '-r "$here/requirements.txt" -r "$here/build-requirements.txt"' in fetch
    assert "--no-index --find-links" in run and "--no-deps -e" in run
    assert "--python-version" in fetch and "--only-binary=:all:" in fetch
    assert re.search(r"XPNET_GPU_WHEELS:=\$root/ci/gpu/wheels", run)
    assert re.search(r'dest="\$\{1:-\$here/wheels\}"', fetch)
    gitignore = (ROOT / ".gitignore").read_text().splitlines()
    assert "/ci/gpu/wheels/" in gitignore


def test_wheel_list_covers_what_the_image_lacks():
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins(GPU_DIR / "requirements.txt")
    build = _pins(GPU_DIR / "build-requirements.txt")
    needed = [
        *project["dependencies"],
        *project["optional-dependencies"]["test"],
        *project["optional-dependencies"]["bench"],
    ]
    for spec in needed:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        if name in ON_IMAGE:
            continue
        assert name in pins, f"{name} is needed ({spec}) and not on the GPU image: add it"
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} violates {spec}"
    system = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for spec in system:
        req = Requirement(spec)
        assert req.name in build, f"build requirement {spec} has no wheel in the list"
        assert req.specifier.contains(build[req.name])


def test_run_sh_uses_only_pytest_plugins_the_image_has():
    """The tests step runs in pytest-xdist workers (-n) under pytest-timeout: both must
    be on the GPU image (the device tool's KINDS.md lists them), as nothing installs them."""
    script = (GPU_DIR / "run.sh").read_text()
    assert '-n "$XPNET_GPU_TEST_WORKERS"' in script and "pytest-xdist" in ON_IMAGE
    assert "-p timeout --timeout=" in script and "pytest-timeout" in ON_IMAGE


# ----------------------------------------------------------------------------- report


@pytest.fixture(scope="module")
def cpu_report(tmp_path_factory):
    report = _load("report")
    out = tmp_path_factory.mktemp("cpu_report")
    s = report.build_report(
        [DATA / "cpu-sample-results.json"],
        out,
        junit=DATA / "cpu-sample-junit.xml",
        env=DATA / "cpu-sample-env.json",
        timing=DATA / "cpu-sample-timing.txt",
    )
    return s, _flat((out / "report.md").read_text()), out


def test_report_renders_device_sections_from_a_cpu_run(cpu_report):
    s, md, out = cpu_report
    # device columns: NumPy beside the other backend that ran, with its speedup over NumPy
    assert "| n_x | m | numpy | torch | torch / NumPy speedup |" in md
    assert "CuPy / torch-CUDA columns: not run: no GPU in this run." in md
    # where the other backend overtakes NumPy, per n_x
    rows = [o for o in s["gpu_overtake"] if o["backend"] == "torch"]
    assert {o["n_x"] for o in rows} == {10}
    # the launch floor: a counted operation number and a measured floor per dtype
    lat = s["latency"]
    assert {r["dtype"] for r in lat} == {"float32", "float64"}
    assert all(r["kernel_count"] > 0 and r["floor_s"] > 0 for r in lat)
    f64 = next(r for r in lat if r["dtype"] == "float64")
    assert f64["vs_floor"] == pytest.approx(f64["step_s"] / f64["floor_s"])
    assert "## Small-network step latency: [20, 8, 1], m = 128" in md
    # the dot product's loop length is shown, scaled where it was shorter
    assert "100,000 (scaled)" in md
    # tests per backend from the JUnit file
    assert s["tests"]["backends"]["torch"]["passed"] > 0
    assert "## Tests per backend" in md
    # the machine as ci/gpu/env.py recorded it, and run.sh's steps
    assert "- Versions: xpnet" in md
    assert "| env | 7 s | no GPU seen (ci/gpu/env.py) |" in md
    assert "| latency | 14 s | ok |" in md
    assert (out / "speedups.json").is_file() and (out / "results.json").is_file()


def test_gpu_targets_read_not_run_without_a_gpu(cpu_report):
    s, md, _ = cpu_report
    targets = _targets()
    gpu_keys = {t.key for t in targets.TARGETS if t.gpu}
    rows = [t for t in s["targets"] if t["key"] in gpu_keys]
    assert len(rows) == len(gpu_keys) >= 4
    assert all(t["status"] == targets.NO_GPU for t in rows)
    assert "Peers on the GPU" in md and "Roofline against same-run cuBLAS" in md


def test_results_json_rebuilds_the_same_analysis(cpu_report, tmp_path):
    s, _, out = cpu_report
    again = _load("report").build_report([out / "results.json"], tmp_path)
    assert again["latency"] == json.loads((out / "speedups.json").read_text())["latency"]
    assert again["vectorization"] == s["vectorization"]


def test_tests_summary_counts_failures_where_numpy_passes(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_a" name="test_f[relu-numpy]"/>'
        '<testcase classname="tests.test_a" name="test_f[relu-cupy]"><failure message="x"/>'
        "</testcase>"
        '<testcase classname="tests.test_a" name="test_f[relu-torch-cuda]"/>'
        '<testcase classname="tests.test_a" name="test_f[relu-jax]">'
        '<skipped message="jax: no GPU"/></testcase>'
        '<testcase classname="tests.test_a" name="test_g[numpy]"><error message="e"/></testcase>'
        '<testcase classname="tests.test_a" name="test_g[cupy]"><failure message="y"/>'
        "</testcase>"
        '<testcase classname="tests.test_a" name="test_g[jax]"/>'
        "</testsuite></testsuites>"
    )
    t = _load("report_analysis").tests_summary(junit)
    b = t["backends"]
    assert b["cupy"] == {"passed": 0, "failed": 2, "skipped": 0, "regressions": 1}
    assert b["torch-cuda"]["regressions"] == 0 and b["torch-cuda"]["passed"] == 1
    assert b["jax"]["skipped"] == 1 and t["skip_reasons"]["jax"] == ["jax: no GPU"]
    gpu_tests = _targets()._gpu_tests
    # JAX counts only where the env record shows it on a GPU; elsewhere it is a hole (NaN:
    # the row reads "not measured"), not left out as if it had passed
    off_gpu = dict(gpu_tests({"tests": t}))
    assert sorted(v for v in off_gpu.values() if v == v) == [0, 1]
    assert math.isnan(off_gpu["jax: JAX not on a GPU"])
    assert sorted(v for _, v in gpu_tests({"tests": t, "env": {"jax": {"backend": "gpu"}}})) == [
        0,
        0,
        1,
    ]


def test_a_new_target_row_reaches_report_and_gate(cpu_report, monkeypatch):
    s, _, _ = cpu_report
    report = _load("report")
    targets = sys.modules["targets"]
    extra = targets.Target(
        "dot_torch",
        "dot product 1e6: loop / vectorized, torch",
        ">=",
        10.0,
        lambda s: [("", d["speedup"]) for d in s["dot"] if d["backend"] == "torch"],
        gate=2.0,
    )
    monkeypatch.setattr(targets, "TARGETS", (*targets.TARGETS, extra))
    rows = {t["key"]: t for t in targets.evaluate(s)}
    torch_dot = next(d for d in s["dot"] if d["backend"] == "torch")["speedup"]
    assert rows["dot_torch"]["value"] == torch_dot
    assert rows["dot_torch"]["status"] == ("MET" if torch_dot >= 10 else "MISSED")
    assert any(
        name.startswith("dot product 1e6: loop / vectorized, torch")
        for name, *_ in targets.gate_checks(s)
    )
    md = _flat(
        report.render(
            {"benchmarks": [], "skipped": [], "machine_info": {}, "runs": []},
            {**s, "targets": targets.evaluate(s)},
            [],
        )
    )
    assert "| dot product 1e6: loop / vectorized, torch | ≥ 10× |" in md


def test_report_renders_a_recorded_gpu_sample(tmp_path):
    samples = sorted(DATA.glob("gpu-sample-*results.json"))
    if not samples:
        pytest.skip(
            "no recorded GPU sample yet: commit one from the first GPU run "
            "(ci/gpu/run.sh's results.json, env.json and junit.xml as "
            "tests/data/gpu_report/gpu-sample-{results.json,env.json,junit.xml})"
        )
    report = _load("report")
    s = report.build_report(
        samples, tmp_path, junit=DATA / "gpu-sample-junit.xml", env=DATA / "gpu-sample-env.json"
    )
    assert s["gpu_ran"]
    md = (tmp_path / "report.md").read_text()
    assert (
        "not run: no GPU in this run"
        not in md.split("## Performance targets")[1].split("## Tests")[0]
    )


def test_env_record_says_whether_a_gpu_was_seen(tmp_path):
    env = _load("gpu/env")
    rc = env.main([str(tmp_path)])
    record = json.loads((tmp_path / "env.json").read_text())
    assert {"python", "versions", "torch", "cupy", "jax", "nvidia_smi_query"} <= record.keys()
    assert record["versions"]["numpy"]
    assert rc == (0 if env.gpu_name(record) else 1)
    assert (tmp_path / "nvidia-smi.txt").is_file()


def test_run_sh_refuses_an_unknown_part(tmp_path):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    result = subprocess.run(
        [bash, str(GPU_DIR / "run.sh"), "--part", "everything", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 64
    assert "--part everything is not known; expected all, tests, bench or setup" in result.stderr
    assert not (tmp_path / "out").exists()


def test_gate_reads_the_shared_table_on_the_committed_cpu_report(capsys):
    """The committed full CPU report (written before the table existed) passes the gate,
    and every gate check comes from a row of ci/targets.py."""
    gate = _load("gate")
    speedups = ROOT / "benchmarks" / "results" / "cpu-amd-epyc-2c" / "speedups.json"
    assert gate.main([str(speedups)]) == 0
    printed = capsys.readouterr().out
    checks = gate.checks(json.loads(speedups.read_text()))
    assert len(checks) >= 5 and all(value is not None for _, value, _, _ in checks)
    gated = [t for t in sys.modules["targets"].TARGETS if t.gate is not None]
    for t in gated:
        assert (t.gate_title or t.title) in printed


def test_torch_target_reads_what_compile_auto_runs():
    """The torch-backend peer target judges, per cell, the step compile='auto' runs in a
    default-length fit (the bench cell's auto_compiles): the eager pair or the compiled
    one; a compiled pick whose cell did not run shows the eager pair, labelled."""
    analysis = _load("report_analysis")
    targets = _targets()

    def cell(compiles):
        return {"torch:xpnet": {"auto_compiles": compiles}} if compiles is not None else {}

    row = {"paired_torch_vs_torch_cpu": 1.2, "paired_torch_compiled_vs_torch_cpu": 0.9}
    assert analysis._auto_pick(cell(False), row)["paired_torch_auto_vs_torch_cpu"] == 1.2
    assert analysis._auto_pick(cell(True), row) == {
        "auto_picks": "compiled",
        "paired_torch_auto_vs_torch_cpu": 0.9,
        "paired_torch_auto_runs": None,  # one run: no list of runs
    }
    assert analysis._auto_pick(cell(None), row)["auto_picks"] is None  # an older run
    not_run = {**row, "paired_torch_compiled_vs_torch_cpu": None}

    def peer(dims, m, ratios, compiles):
        return {"dims": dims, "m": m, "dtype": "float32", **ratios,
                **analysis._auto_pick(cell(compiles), ratios)}  # fmt: skip

    peers = [
        peer([20, 8, 1], 128, row, False),
        peer([9, 9, 1], 9, row, True),
        peer([7, 7, 1], 7, not_run, True),
    ]
    figures = targets._torch_auto_vs_torch_cpu({"peers": peers})
    assert figures == [
        ("20x8x1 m=128 float32 (eager)", 1.2),
        ("9x9x1 m=9 float32 (compiled)", 0.9),
        ("7x7x1 m=7 float32 (compiled cell not run, eager shown)", 1.2),
    ]


def test_dask_target_reads_the_million_example_row():
    """Issue 8's Dask target: the m = 10⁶ row of the Dask scaling table, as recorded."""
    targets = _targets()
    rows = [
        {"m": 100_000, "name": "test_dask_scaling[vectorized-dask-m100000-nx100]",
         "ratio_vs_numpy": 1.27},
        {"m": 1_000_000, "name": "test_dask_scaling[vectorized-dask-m1000000-nx100]",
         "ratio_vs_numpy": 0.98},
        {"m": 1_000_000, "name": "test_dask_scaling[other]", "ratio_vs_numpy": None},
    ]  # fmt: skip
    figures = targets._dask_vs_numpy(1_000_000)({"dask": rows})
    assert figures == [("m=1,000,000 vectorized-dask-m1000000-nx100", 0.98)]
    assert targets._dask_vs_numpy(1_000_000)({}) == []  # a run without the Dask suite


def test_gate_fails_on_a_check_without_cells(tmp_path, capsys):
    """A run whose abstraction cells were all missing (a suite that produced nothing) or
    NaN passed the gate ("6/6 checks passed"): only an all-empty run failed."""
    gate = _load("gate")
    s = json.loads(
        (ROOT / "benchmarks" / "results" / "cpu-amd-epyc-2c" / "speedups.json").read_text()
    )
    for cell in s["abstraction"]:
        for key in cell:
            if key.startswith(("ratio", "paired")):
                cell[key] = None
    path = tmp_path / "speedups.json"
    path.write_text(json.dumps(s))
    assert gate.main([str(path)]) == 1
    assert "FAIL (no cells)  abstraction cost" in capsys.readouterr().out
    assert gate.main(["--allow-missing", str(path)]) == 0
    assert "not measured  abstraction cost" in capsys.readouterr().out


def test_a_nan_cell_is_never_part_of_a_met_row():
    """min()/max() skip a NaN after the first value: a target whose second cell was NaN
    read MET on the others (and MISSED with the NaN first)."""
    targets = _targets()
    row = targets.Target("t", "a target", "<=", 1.0, lambda s: [("a", 0.5), ("b", float("nan"))])
    assert row.evaluate({})["status"] == targets.NOT_MEASURED
    flipped = targets.Target(
        "t", "a target", "<=", 1.0, lambda s: [("b", float("nan")), ("a", 0.5)]
    )
    assert flipped.evaluate({})["status"] == targets.NOT_MEASURED


def test_the_adam_epoch_targets_read_only_the_m_60000_cells():
    """A --quick run (m = 6,000) was judged under the m = 60,000 title."""
    targets = _targets()
    pair = {"file": "bench_optimizers", "key": "paired_torch_nn", "ratio": 0.5,
            "cell": {"backend": "numpy", "dims": [784, 128, 1], "m": 6000, "batch_size": 64,
                     "dtype": "float32"}}  # fmt: skip
    row = next(t for t in targets.TARGETS if t.key == "adam_epoch_vs_torch")
    assert row.evaluate({"paired": [pair]})["status"] == targets.NOT_MEASURED
    pair["cell"]["m"] = 60_000
    assert row.evaluate({"paired": [pair]})["status"] == "MET"


def test_the_adam_epochs_gpu_cells_have_their_own_row():
    """Issue 9 asks for <= 1.0x on NumPy and the torch backend, and for the GPU cells
    beside them: the CPU row reads only the CPU backends, the GPU row (figures given)
    every GPU backend, and reads "not run" without a GPU."""
    targets = _targets()
    cell = {"dims": [784, 128, 1], "m": 60_000, "batch_size": 64, "dtype": "float32"}

    def pair(backend, ratio):
        return {"file": "bench_optimizers", "key": "paired_torch_nn", "ratio": ratio,
                "cell": {**cell, "backend": backend}}  # fmt: skip

    cpu = next(t for t in targets.TARGETS if t.key == "adam_epoch_vs_torch")
    gpu = next(t for t in targets.TARGETS if t.key == "adam_epoch_gpu")
    s = {"paired": [pair("numpy", 0.6), pair("torch", 0.8), pair("torch-cuda", 3.0)],
         "gpu_ran": True}  # fmt: skip
    row = cpu.evaluate(s)
    assert row["status"] == "MET" and row["value"] == 0.8 and "cuda" not in row["figure"]
    assert "numpy 784x128x1 batch_size=64" in row["figure"]
    assert gpu.evaluate(s)["status"] == targets.NOT_MEASURED  # CuPy has no cell
    s["paired"].append(pair("cupy", 1.5))
    row = gpu.evaluate(s)
    assert row["status"] == "MET" and row["goal"] == "given"
    assert "torch-cuda 784x128x1 batch_size=64 float32: 3×" in row["figure"]
    assert gpu.evaluate({"paired": s["paired"][:2]})["status"] == targets.NO_GPU


def test_gpu_rows_ask_for_every_gpu_backend():
    """torch-cuda skipping all its tests, or a roofline cell on CuPy alone, read MET: a
    backend with nothing to show was left out of the row."""
    targets = _targets()
    tests = {"backends": {"cupy": {"passed": 5, "failed": 0, "skipped": 95, "regressions": 0},
                          "torch-cuda": {"passed": 0, "failed": 0, "skipped": 100,
                                         "regressions": 0}}}  # fmt: skip
    row = next(t for t in targets.TARGETS if t.key == "gpu_tests")
    result = row.evaluate({"tests": tests, "gpu_ran": True, "env": {"jax": {"backend": "gpu"}}})
    assert (
        result["status"] == targets.NOT_MEASURED and "torch-cuda: no test ran" in result["figure"]
    )
    roof = next(t for t in targets.TARGETS if t.key == "gpu_roofline")
    cell = {"backend": "cupy", "n": 2048, "m": 4096, "dtype": "float32", "fraction": 0.9}
    result = roof.evaluate({"roofline": [cell], "gpu_ran": True})
    assert result["status"] == targets.NOT_MEASURED and "torch-cuda: no cell" in result["figure"]
    torch_cell = {**cell, "backend": "torch-cuda", "fraction": 0.88}
    assert roof.evaluate({"roofline": [cell, torch_cell], "gpu_ran": True})["status"] == "MET"
    assert roof.evaluate({"roofline": [], "gpu_ran": False})["status"] == targets.NO_GPU


def test_a_suite_stopped_at_its_time_limit_keeps_its_finished_cells(tmp_path):
    """run.sh stops a suite at its limit with SIGINT; a cell stopped inside its first
    round has no data, and pytest-benchmark's JSON writer failed on it ("min() arg is an
    empty sequence"), so the suite's file, finished cells and all, was never written. The
    benchmarks' conftest now drops such a cell, naming it in the skipped list."""
    pytest.importorskip("pytest_benchmark", reason=NEEDS_BENCH)
    for name in ("conftest.py", "_common.py"):
        shutil.copy(ROOT / "benchmarks" / name, tmp_path / name)
    (tmp_path / "bench_stop.py").write_text(
        "def test_done(benchmark):\n"
        "    benchmark(lambda: sum(range(100)))\n\n"
        "def test_stopped(benchmark):\n"
        "    def stop():\n"
        "        raise KeyboardInterrupt  # what SIGINT raises, mid-measurement\n"
        "    benchmark.pedantic(stop, rounds=3, iterations=1)\n"
    )
    out = tmp_path / "out.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "bench_stop.py", "-q", "-p", "no:cacheprovider",
         f"--benchmark-json={out}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=child_env(),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr  # interrupted, as at a limit
    data = json.loads(out.read_text())
    assert [b["name"] for b in data["benchmarks"]] == ["test_done"]
    (stopped,) = data["xpnet_skipped"]
    assert stopped["name"] == "test_stopped" and "time limit" in stopped["reason"]


def test_the_torch_cuda_compiled_small_net_target_reads_its_pair():
    """Issue 8's GPU row: xpnet's CUDA-graph step / torch-CUDA eager nn at [20, 8, 1]
    m=128, from the peers cell's interleaved pair (no row read it before)."""
    targets = _targets()
    row = next(t for t in targets.TARGETS if t.key == "gpu_torch_compiled_small")
    peer = {"dims": [20, 8, 1], "m": 128, "dtype": "float32"}
    met = {"peers": [{**peer, "paired_torch_cuda_compiled_vs_torch_cuda": 0.4}], "gpu_ran": True}
    assert row.evaluate(met)["status"] == "MET"
    missed = {"peers": [{**peer, "paired_torch_cuda_compiled_vs_torch_cuda": 0.6}], "gpu_ran": True}
    assert row.evaluate(missed)["status"] == "MISSED"
    assert row.evaluate({"peers": [peer]})["status"] == targets.NO_GPU


def _raw_run(path: Path, commit: str, cells: list[tuple[str, float, dict]]) -> Path:
    """A pytest-benchmark JSON file of ``cells`` (test id, min seconds, extra_info)."""
    stats = {"max": 1.0, "mean": 1.0, "median": 1.0, "stddev": 0.0, "rounds": 3}
    benchmarks = [
        {"name": name.split("::")[-1], "fullname": name, "params": {},
         "stats": {**stats, "min": t}, "extra_info": extra}
        for name, t, extra in cells
    ]  # fmt: skip
    path.write_text(json.dumps({"machine_info": {}, "commit_info": {"id": commit},
                                "datetime": "2026-12-07", "version": "5",
                                "benchmarks": benchmarks}))  # fmt: skip
    return path


def test_a_cell_run_in_several_processes_reads_its_median_run(tmp_path):
    """The same cells in three result files of one commit (three processes) become one
    cell each: its paired ratio is the median run's, every run's ratio is kept and shown,
    and the targets judge the median. Before, each run was a separate cell, so a target
    read the worst run (one process slowed by another tenant decided the row)."""
    analysis = _load("report_analysis")
    targets = sys.modules["targets"]
    adam = "benchmarks/bench_optimizers.py::test_adam_epoch[torch-torch_nn-1024]"
    peer = "benchmarks/bench_peers.py::test_peer[torch-xpnet-1024x1024x1024x1-m2048-float32]"
    cell = {"backend": "torch", "peer": "torch_nn", "dims": [784, 128, 1], "m": 60_000,
            "dtype": "float32", "batch_size": 1024, "optimizer": "adam"}  # fmt: skip
    peer_cell = {"backend": "torch", "impl": "xpnet", "dims": [1024, 1024, 1024, 1],
                 "m": 2048, "dtype": "float32", "auto_compiles": False}  # fmt: skip
    files = [
        _raw_run(
            tmp_path / f"run{i}.json",
            "c0ffee",
            [
                (
                    adam,
                    t,
                    {**cell, "paired_torch_nn": {"xpnet_s": r, "torch_nn_s": 1.0, "ratio": r}},
                ),
                (
                    peer,
                    t,
                    {**peer_cell, "paired_torch_cpu": {"xpnet_s": q, "torch_s": 1.0, "ratio": q}},
                ),
            ],
        )  # fmt: skip
        for i, (t, r, q) in enumerate([(0.30, 1.05, 0.99), (0.25, 0.93, 1.04), (0.27, 0.97, 0.98)])
    ]
    runs = analysis.load_runs(files)
    assert len(runs["benchmarks"]) == 2 and len(runs["runs"]) == 3
    ours = next(b for b in runs["benchmarks"] if b["fullname"] == adam)
    assert ours["stats"]["min"] == 0.25 and ours["stats"]["runs"] == 3
    rec = ours["extra_info"]["paired_torch_nn"]
    assert rec["ratio"] == rec["xpnet_s"] == 0.97 and rec["runs"] == [0.93, 0.97, 1.05]
    s = analysis.analyse(runs)
    rows = {t["key"]: t for t in s["targets"]}
    assert rows["adam_epoch_vs_torch"]["value"] == 0.97
    assert rows["adam_epoch_vs_torch"]["status"] == "MET"
    assert "median of 3 runs: 0.93–1.05×" in rows["adam_epoch_vs_torch"]["figure"]
    assert rows["vs_torch_torch"]["value"] == 0.99
    assert "(eager, median of 3 runs: 0.98–1.04×)" in rows["vs_torch_torch"]["figure"]
    md = _flat(_load("report").render(runs, s, []))
    # the abstraction pair too (its own analysis row)
    tiny = "benchmarks/bench_abstraction.py::test_abstraction[numpy-xpnet-20x8x1-m128-float32]"
    abstraction = [
        _raw_run(tmp_path / f"abs{i}.json", "c0ffee", [(tiny, 1e-4, {
            "backend": "numpy", "impl": "xpnet", "dims": [20, 8, 1], "m": 128,
            "dtype": "float32", "paired": {"xpnet_s": r, "handwritten_s": 1.0, "ratio": r}})])
        for i, r in enumerate([1.2, 1.1, 1.14])
    ]  # fmt: skip
    row = analysis.analyse(analysis.load_runs(abstraction))["targets"]
    row = next(t for t in row if t["key"] == "abstraction_tiny")
    assert row["value"] == 1.14 and row["status"] == "MET"
    assert row["figure"] == "float32, paired, median of 3 runs: 1.1–1.2×: 1.14×"
    assert "| 0.97× (runs: 0.930, 0.970, 1.050) |" in md
    # two runs: the higher of the middle pair, never the better one
    two = analysis.load_runs(files[:2])
    assert two["benchmarks"][0]["extra_info"]["paired_torch_nn"]["ratio"] == 1.05
    rows = {t["key"]: t for t in targets.evaluate(analysis.analyse(two))}
    assert rows["adam_epoch_vs_torch"]["status"] == "MISSED"


def test_runs_of_different_commits_are_not_combined(tmp_path):
    analysis = _load("report_analysis")
    name = "benchmarks/bench_optimizers.py::test_adam_epoch[numpy-torch_nn-64]"
    a = _raw_run(tmp_path / "a.json", "aaaa", [(name, 1.0, {})])
    b = _raw_run(tmp_path / "b.json", "bbbb", [(name, 1.0, {})])
    with pytest.raises(SystemExit, match="measured at 2 commits"):
        analysis.load_runs([a, b])
    assert len(analysis.load_runs([a, a])["benchmarks"]) == 1
