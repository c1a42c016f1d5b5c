"""Options of the benchmark suite; they are passed to ``_common`` as environment variables
before collection, so the grids are fixed when the bench files are imported."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from xpnet._testing import Backend

sys.path.insert(0, str(Path(__file__).parent))

OPTIONS = {
    "--xpnet-quick": ("XPNET_BENCH_QUICK", "the small grid that runs in a few minutes"),
    "--xpnet-backends": (
        "XPNET_BENCH_BACKENDS",
        "comma list of backend ids: " + ",".join(b.value for b in Backend),
    ),
    "--xpnet-m": ("XPNET_BENCH_M", "comma list of m for the vectorization grid"),
    "--xpnet-n-x": ("XPNET_BENCH_N_X", "comma list of n_x for the vectorization grid"),
    "--xpnet-impl": ("XPNET_BENCH_IMPL", "comma list of impls: loops,per_example,vectorized"),
    "--xpnet-budget": ("XPNET_BENCH_BUDGET", "seconds a CPU loop cell may take (estimated)"),
}


def pytest_addoption(parser):
    group = parser.getgroup("xpnet", "xpnet benchmark grid")
    for opt, (env, help_) in OPTIONS.items():
        if opt == "--xpnet-quick":
            group.addoption(opt, action="store_true", default=False, help=help_)
        else:
            group.addoption(opt, default=None, help=f"{help_} (env {env})")


def pytest_configure(config):
    for opt, (env, _) in OPTIONS.items():
        value = config.getoption(opt.lstrip("-").replace("-", "_"))
        if value is True:
            os.environ[env] = "1"
        elif value not in (None, False):
            os.environ[env] = str(value)


# ----------------------------------------------------------------------------- report hooks
# pytest-benchmark's JSON holds only the cells that ran. Skipped cells (budget, no GPU)
# are recorded here and added to the JSON, so the report can list them as skipped.

_SKIPPED: list[dict] = []


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
        _SKIPPED.append(
            {
                "name": item.name,
                "fullname": item.nodeid,
                "params": {k: _jsonable(v) for k, v in params.items()},
                "reason": str(rep.longrepr[2]).removeprefix("Skipped: "),
            }
        )


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["xpnet_skipped"] = list(_SKIPPED)


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
                info["gpu"] = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        except Exception:  # noqa: BLE001 - no CuPy or no driver: no GPU
            pass
    machine_info["xpnet"] = info
