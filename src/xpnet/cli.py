"""``xpnet bench``: run the benchmark suite of a source checkout and write the report.

The benchmarks (``benchmarks/``) and the report builder (``ci/report.py``) live in the
repository, not in the installed package; the command finds them next to the package
source (an editable install from a clone) or under ``--root``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from ._progress import ProgressBar

SUITES = (
    "vectorization", "dot", "roofline", "abstraction", "peers", "latency", "dask",
    "fit", "optimizers", "sklearn",
)  # fmt: skip
#: Long suites left out unless named: Dask's cluster scaling, whole fits with their compile
#: times, the 60,000-example Adam epochs and the digits fits.
OPT_IN = ("dask", "fit", "optimizers", "sklearn")


def find_root(root: str | None = None) -> Path:
    """The source checkout holding ``benchmarks/`` and ``ci/report.py``.

    Raises
    ------
    SystemExit
        With the fix, when the package is not installed from a checkout.
    """
    candidates = [Path(root)] if root else [Path(__file__).resolve().parents[2], Path.cwd()]
    for c in candidates:
        if (c / "benchmarks" / "conftest.py").is_file() and (c / "ci" / "report.py").is_file():
            return c
    raise SystemExit(
        "xpnet bench: no benchmark suite found (looked for benchmarks/conftest.py and "
        f"ci/report.py under {', '.join(str(c) for c in candidates)}); the benchmarks ship "
        'with the source, not the wheel: clone the repository, pip install -e ".[bench]" '
        "from it, and run xpnet bench there (or pass --root PATH_TO_CHECKOUT)"
    )


def _load_report_module(root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("xpnet_ci_report", root / "ci" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _ProgressPlugin:
    """pytest plugin: a progress bar over the collected benchmark cells."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: ProgressBar | None = None
        self.counts = {"passed": 0, "skipped": 0, "failed": 0}

    def pytest_collection_finish(self, session: Any) -> None:
        self.bar = ProgressBar(len(session.items), "xpnet bench", enabled=self.enabled, unit="cell")

    def pytest_runtest_logreport(self, report: Any) -> None:
        if self.bar is None:
            return
        done = report.when == "call" or (report.when == "setup" and not report.passed)
        if report.when == "call" or done:
            self.counts[report.outcome] = self.counts.get(report.outcome, 0) + 1
            postfix = " ".join(f"{k}={v}" for k, v in self.counts.items() if v)
            self.bar.update(1, f"{postfix} {report.nodeid.split('::')[-1][:48]}")

    def pytest_sessionfinish(self, session: Any) -> None:
        if self.bar is not None:
            self.bar.update(0, " ".join(f"{k}={v}" for k, v in self.counts.items() if v))
            self.bar.close()


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="xpnet", description="xpnet command-line tools")
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser(
        "bench",
        help="run the vectorization/roofline/peer benchmarks and write the report",
        description="Run benchmarks/ with pytest-benchmark, print the speedup table and "
        "write report.md, results.json, speedups.json and PNG plots to --out.",
    )
    b.add_argument(
        "--backend",
        default="numpy",
        help="comma list of backends for the vectorization grid: numpy, torch, jax, "
        "array_api_strict, cupy, torch-cuda (default: numpy)",
    )
    b.add_argument("--quick", action="store_true", help="the small grid (a minute or two)")
    b.add_argument("--m", help="comma list of m (vectorization grid), e.g. 10,1000")
    b.add_argument("--n-x", dest="n_x", help="comma list of n_x (vectorization grid)")
    b.add_argument("--impl", help="comma list of impls: loops,per_example,vectorized")
    b.add_argument(
        "--budget",
        type=float,
        help="seconds a CPU loop cell may take (estimated) before it is skipped; "
        "default 10 (full) or 1.5 (quick); a GPU gets 1/20 of it",
    )
    b.add_argument(
        "--suite",
        default=",".join(s for s in SUITES if s not in OPT_IN),
        help=f"comma list of suites from {', '.join(SUITES)} "
        f"(default: all but {', '.join(OPT_IN)})",
    )
    b.add_argument("--out", default="report", help="report directory (default: report)")
    b.add_argument("--root", help="source checkout (default: found from the package)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.add_argument("-k", dest="keyword", help="pytest -k expression to narrow the cells")
    return ap.parse_args(argv)


def bench(args: argparse.Namespace) -> int:
    """Run the suite, build the report, print the speedup table. Returns the exit code."""
    try:
        import pytest
        import pytest_benchmark  # noqa: F401
    except ImportError as exc:
        raise SystemExit(
            f"xpnet bench needs pytest and pytest-benchmark ({exc}); install them with "
            'pip install -e ".[bench]"'
        ) from exc
    root = find_root(args.root)
    suites = [s.strip() for s in args.suite.split(",") if s.strip()]
    unknown = sorted(set(suites) - set(SUITES))
    if unknown:
        raise SystemExit(f"--suite {','.join(unknown)} is not known; choose from {list(SUITES)}")
    files = [root / "benchmarks" / f"bench_{s}.py" for s in suites]
    files = [f for f in files if f.is_file()]
    if not files:
        raise SystemExit(f"--suite {args.suite}: no bench files found in {root / 'benchmarks'}")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "raw.json"
    pytest_args = [
        *map(str, files),
        f"--rootdir={root}",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--benchmark-json={raw}",
        "--benchmark-sort=fullname",
        f"--xpnet-backends={args.backend}",
    ]
    pytest_args += (
        ["--benchmark-max-time=0.1", "--benchmark-min-rounds=3"]
        if args.quick
        else ["--benchmark-max-time=1.0", "--benchmark-min-rounds=5"]
    )
    if args.quick:
        pytest_args.append("--xpnet-quick")
    for opt, value in (
        ("m", args.m),
        ("n-x", args.n_x),
        ("impl", args.impl),
        ("budget", args.budget),
    ):
        if value is not None:
            pytest_args.append(f"--xpnet-{opt}={value}")
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    plugin = _ProgressPlugin(enabled=not args.no_progress)
    log = out / "pytest.log"
    start = time.perf_counter()
    with open(log, "w") as fh, contextlib.redirect_stdout(fh):
        code = pytest.main([*pytest_args, "--capture=sys"], plugins=[plugin])
    elapsed = time.perf_counter() - start
    if code not in (0, 5) or not raw.is_file():
        sys.stderr.write(f"xpnet bench: pytest exited with {code}; see {log}\n")
        with contextlib.suppress(OSError):
            sys.stderr.write("".join(log.read_text().splitlines(keepends=True)[-30:]))
        if not raw.is_file():
            return int(code) or 1
    report = _load_report_module(root)
    s = report.build_report([raw], out)
    print("\n".join(report.speedup_tables(s)))
    print("\n## Performance targets\n")
    for t in s["targets"]:
        print(f"- {t['target']}: {t['figure']} (goal {t['goal']}) -> {t['status']}")
    print(f"\nbenchmarks took {elapsed:.0f} s; report: {out / 'report.md'}", file=sys.stderr)
    return 0 if code in (0, 5) else int(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xpnet`` console script and of ``python -m xpnet``."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    args = _parse(argv)
    if args.command == "bench":
        return bench(args)
    raise SystemExit(f"unknown command {args.command!r}")  # pragma: no cover - argparse guards
