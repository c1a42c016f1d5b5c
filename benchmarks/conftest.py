"""The benchmark suite's options, its skipped-cell record, the machine record and the report.

The options are pytest options; each bench file builds its grid from them in its own
``pytest_generate_tests`` (``_common.options(metafunc.config)``), and a test reads them
through the ``opts`` fixture. ``--xpnet-report DIR`` builds ``ci/report.py``'s report from
the run's pytest-benchmark JSON when the session ends (what ``xpnet bench`` does).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from xpnet._testing import Backend, parse_backends

sys.path.insert(0, str(Path(__file__).parent))
from _common import NOT_IN_GRID, Options, _text, options  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _list(cast):
    def parse(text: str) -> tuple:
        return tuple(cast(s.strip()) for s in text.split(",") if s.strip())

    parse.__name__ = f"comma list of {cast.__name__}"  # argparse names it in its errors
    return parse


def _backend_ids(text: str) -> tuple[str, ...]:
    """The ids in the order given, each checked against ``xpnet._testing.Backend``."""
    try:
        parse_backends(text, source="--xpnet-backends")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _count(text: str) -> int:
    return int(float(text))  # "3e6" is accepted


# flag -> (Options field, type, help); None: a switch
OPTIONS = {
    "--xpnet-quick": ("quick", None, "the small grid that runs in a few minutes"),
    "--xpnet-backends": ("backends", _backend_ids, "comma list of backend ids: "
                         + ",".join(b.value for b in Backend)),
    "--xpnet-m": ("m", _list(int), "comma list of m for the vectorization grid"),
    "--xpnet-n-x": ("n_x", _list(int), "comma list of n_x for the vectorization grid"),
    "--xpnet-impl": ("impl", _list(str), "comma list of impls: loops,per_example,vectorized"),
    "--xpnet-budget": ("budget_s", float, "seconds a CPU loop cell may take (estimated); "
                       "default 10, or 1.5 with --xpnet-quick; a GPU gets 1/20 of it"),
    "--xpnet-paired-s": ("paired_s", float, "seconds of one interleaved (paired) timing; "
                         "default 12, or 2 with --xpnet-quick"),
    "--xpnet-dask-m": ("dask_m", _list(_count), "comma list of m of bench_dask "
                       "(default 1e5,1e6,3e6,1e7)"),
    "--xpnet-dask-numpy-max": ("dask_numpy_max", _count, "largest m that bench_dask also "
                               "fits on NumPy (default 3e6)"),
    "--xpnet-data-dir": ("data_dir", str, "parent of bench_dask's temporary data directory"),
}  # fmt: skip


def pytest_addoption(parser):
    group = parser.getgroup("xpnet", "xpnet benchmark grid")
    for flag, (field, type_, help_) in OPTIONS.items():
        if type_ is None:
            group.addoption(flag, dest=f"xpnet_{field}", action="store_true", help=help_)
        else:
            group.addoption(flag, dest=f"xpnet_{field}", type=type_, default=None, help=help_)
    group.addoption(
        "--xpnet-report",
        metavar="DIR",
        type=Path,
        help="write ci/report.py's report (report.md, speedups.json, ...) to DIR at the end; "
        "the pytest-benchmark JSON goes to DIR/raw.json unless --benchmark-json names a file",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "xpnet_not_in_grid: placeholder of an empty grid")
    config.pluginmanager.register(_DropUnmeasured(), "xpnet-drop-unmeasured")
    report = config.getoption("xpnet_report")
    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
        if not config.getoption("benchmark_json", None):
            config.option.benchmark_json = report / "raw.json"  # read by pytest-benchmark after us
    json_path = config.getoption("benchmark_json", None)
    if isinstance(json_path, (str, os.PathLike)):
        # pytest-benchmark opens the file only after the whole run, and fails there
        # (FileNotFoundError) if its folder is missing: create it before anything runs.
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def opts(request) -> Options:
    """The run's options (``--xpnet-quick``, ``--xpnet-budget``, ...)."""
    return options(request.config)


def pytest_collection_modifyitems(config, items):
    """Leave out the placeholder cells of grids that are empty in this run."""
    keep = [item for item in items if not item.get_closest_marker(NOT_IN_GRID.name)]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


# ----------------------------------------------------------------------------- report hooks
# pytest-benchmark's JSON holds only the cells that ran. Skipped cells (budget, no GPU)
# are recorded here and added to the JSON, so the report can list them as skipped.

_SKIPPED = pytest.StashKey[list]()


def _jsonable(value):
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and isinstance(rep.longrepr, tuple):
        params = getattr(getattr(item, "callspec", None), "params", {})
        item.config.stash.setdefault(_SKIPPED, []).append(
            {
                "name": item.name,
                "fullname": item.nodeid,
                "params": {k: _jsonable(v) for k, v in params.items()},
                "reason": str(rep.longrepr[2]).removeprefix("Skipped: "),
            }
        )


_JSON_WRITTEN = pytest.StashKey[bool]()
_SUMMARY = pytest.StashKey[str]()


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["xpnet_skipped"] = list(config.stash.get(_SKIPPED, []))
    config.stash[_JSON_WRITTEN] = True  # pytest-benchmark writes the file right after this


def _report_module():
    """ci/report.py, loaded from this checkout (it imports its sibling ci/targets.py)."""
    spec = importlib.util.spec_from_file_location("xpnet_ci_report", ROOT / "ci" / "report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class _DropUnmeasured:
    """A plugin whose ``pytest_sessionfinish`` runs before pytest-benchmark's (which
    writes the JSON): it drops the cells that have no round, naming them in the JSON's
    skipped list. A SIGINT at a suite's time limit (``ci/gpu/run.sh``) stops one
    mid-measurement, and pytest-benchmark's writer then fails on it ("min() arg is an
    empty sequence"), losing every finished cell of the suite."""

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session):
        config = session.config
        bs = getattr(config, "_benchmarksession", None)
        if bs is not None:
            for bench in [b for b in bs.benchmarks if not b and not b.has_error]:
                bs.benchmarks.remove(bench)
                config.stash.setdefault(_SKIPPED, []).append(
                    {
                        "name": bench.name,
                        "fullname": bench.fullname,
                        "params": {k: _jsonable(v) for k, v in (bench.params or {}).items()},
                        "reason": "stopped before its first round ended (the suite's time limit)",
                    }
                )
        yield


def pytest_sessionfinish(session):
    """With ``--xpnet-report DIR``: the report of this run's JSON (pytest-benchmark wrote it
    in its own ``pytest_sessionfinish``, which wraps this one)."""
    config = session.config
    out = config.getoption("xpnet_report")
    if out is None:
        return
    if not config.stash.get(_JSON_WRITTEN, False):
        config.stash[_SUMMARY] = f"no benchmark ran, so no report was written to {out}"
        return
    report = _report_module()
    s = report.build_report([config.getoption("benchmark_json")], out)
    config.stash[_SUMMARY] = f"{report.summary(s)}\n\nreport: {out / 'report.md'}"


def pytest_terminal_summary(terminalreporter, config):
    if _SUMMARY in config.stash:
        terminalreporter.write_sep("=", "xpnet benchmark report")
        terminalreporter.write_line(config.stash[_SUMMARY])


def pytest_benchmark_update_machine_info(config, machine_info):
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in ("xpnet", "numpy", "array-api-compat", "torch", "jax", "scikit-learn", "cupy"):
        for dist in (pkg, f"{pkg}-cuda12x", f"{pkg}-cuda13x") if pkg == "cupy" else (pkg,):
            try:
                versions[pkg] = version(dist)
                break
            except PackageNotFoundError:
                continue
    info = {"versions": versions, "threads": os.cpu_count(), "gpu": "none", "blas": []}
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {k: d.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for d in threadpool_info()
            if d.get("user_api") == "blas"
        ]
    except ImportError:
        pass
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    if info["gpu"] == "none":
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount():
                info["gpu"] = _text(cupy.cuda.runtime.getDeviceProperties(0)["name"])
        except Exception:  # noqa: BLE001 - no CuPy or no driver: no GPU
            pass
    machine_info["xpnet"] = info
