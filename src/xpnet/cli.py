"""``xpnet bench``: run the benchmark suite of a source checkout and write the report.

A thin shim over pytest: it translates its options into pytest's (``--xpnet-*`` of
``benchmarks/conftest.py``, pytest-benchmark's own) and runs ``pytest`` on the bench files,
with pytest's own progress output. The report (``ci/report.py``) is built by the suite's
conftest at the end of the session (``--xpnet-report``), so plain ``pytest`` gives the same.

The benchmarks and the report builder live in the repository, not in the installed
package; the command finds them next to the package source (an editable install from a
clone) or under ``--root``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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
    b.add_argument(
        "--no-progress",
        action="store_true",
        help="quiet pytest output without the progress counter (for CI logs)",
    )
    b.add_argument("-k", dest="keyword", help="pytest -k expression to narrow the cells")
    return ap.parse_args(argv)


def pytest_args(args: argparse.Namespace, root: Path) -> list[str]:
    """The pytest command line of ``xpnet bench`` (after ``python -m pytest``)."""
    suites = [s.strip() for s in args.suite.split(",") if s.strip()]
    unknown = sorted(set(suites) - set(SUITES))
    if unknown:
        raise SystemExit(f"--suite {','.join(unknown)} is not known; choose from {list(SUITES)}")
    files = [root / "benchmarks" / f"bench_{s}.py" for s in suites]
    files = [f for f in files if f.is_file()]
    if not files:
        raise SystemExit(f"--suite {args.suite}: no bench files found in {root / 'benchmarks'}")
    out = Path(args.out).resolve()
    argv = [*map(str, files), f"--rootdir={root}", "-p", "no:cacheprovider"]
    argv += [f"--benchmark-json={out / 'raw.json'}", "--benchmark-sort=fullname"]
    argv += ["--benchmark-max-time=0.1", "--benchmark-min-rounds=3"] if args.quick else [
        "--benchmark-max-time=1.0", "--benchmark-min-rounds=5"]  # fmt: skip
    argv += [f"--xpnet-report={out}", f"--xpnet-backends={args.backend}"]
    argv += ["--xpnet-quick"] if args.quick else []
    options = {"m": args.m, "n-x": args.n_x, "impl": args.impl, "budget": args.budget}
    argv += [f"--xpnet-{opt}={value}" for opt, value in options.items() if value is not None]
    # --no-progress: pytest's quiet mode, without the percentage counter (a CI log)
    argv += ["-q", "-o", "console_output_style=classic"] if args.no_progress else []
    return argv + (["-k", args.keyword] if args.keyword else [])


def bench(args: argparse.Namespace) -> int:
    """Run the suite with pytest, which writes the report. Returns the exit code (0 also
    where every cell was skipped or deselected, pytest's 5)."""
    try:
        import pytest
        import pytest_benchmark  # noqa: F401
    except ImportError as exc:
        raise SystemExit(
            f"xpnet bench needs pytest and pytest-benchmark ({exc}); install them with "
            'pip install -e ".[bench]"'
        ) from exc
    argv = pytest_args(args, find_root(args.root))
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "raw.json"
    raw.unlink(missing_ok=True)  # a stale file must not pass for this run's results
    code = pytest.main(argv)
    if not raw.is_file():
        sys.stderr.write(f"xpnet bench: no benchmark results (pytest exited with {code})\n")
        return int(code) or 1
    return 0 if code in (0, 5) else int(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xpnet`` console script and of ``python -m xpnet``."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    args = _parse(argv)
    if args.command == "bench":
        return bench(args)
    raise SystemExit(f"unknown command {args.command!r}")  # pragma: no cover - argparse guards
