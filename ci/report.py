"""Turn pytest-benchmark JSON from ``benchmarks/`` into a report directory.

    python ci/report.py RAW.json [RAW2.json ...] --out DIR [--junit XML --env JSON --timing TXT]

writes ``DIR/results.json`` (the raw runs, merged), ``DIR/speedups.json`` (every figure the
report shows; ci/targets.py and ci/gate.py read it), ``DIR/report.md`` and PNG plots (speedup
vs m, time vs m per impl), one set per device. Every time is the *minimum* over rounds per
gradient step, the figure least disturbed by other work on a shared machine; medians stay in
results.json.

The work is split by concern, each a sibling module of this one:

* ``report_analysis.py``: the raw runs in, plain data out (``speedups.json``);
* ``targets.py``: the performance targets as data, read by the analysis and ``gate.py``;
* ``report_markdown.py``: report.md, as a layout of table sections;
* ``report_plots.py``: the PNG plots.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_analysis import analyse, load_runs  # noqa: E402 - ci/ is on the path just above
from report_markdown import render, summary  # noqa: E402
from report_plots import plot  # noqa: E402

__all__ = ["analyse", "build_report", "load_runs", "main", "render", "summary"]


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN and infinities become null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    return [_clean(v) for v in obj] if isinstance(obj, list | tuple) else obj


def build_report(
    paths: Sequence[str | Path],
    out: str | Path,
    junit: str | Path | None = None,
    env: str | Path | None = None,
    timing: str | Path | None = None,
) -> dict[str, Any]:
    """Write results.json, speedups.json, report.md and the plots to ``out``; ``junit``
    (pytest's JUnit XML) adds the tests per backend, ``env`` (ci/gpu/env.py's env.json) the
    GPU machine, ``timing`` (ci/gpu/run.sh's timing.txt) its steps. Returns the analysis
    (the content of speedups.json)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = load_runs(paths)
    if not runs["benchmarks"]:
        raise SystemExit(f"no benchmark results in {list(map(str, paths))}: did the run fail?")
    env_data = json.loads(Path(env).read_text()) if env and Path(env).is_file() else None
    s = analyse(runs, junit=junit, env=env_data)
    s["timing_file"] = str(timing) if timing else None
    (out / "results.json").write_text(json.dumps(_clean(runs), indent=1))
    (out / "speedups.json").write_text(json.dumps(_clean(s), indent=1))
    (out / "report.md").write_text(render(runs, s, plot(s, out)))
    return s


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", nargs="+", help="pytest-benchmark --benchmark-json files")
    ap.add_argument("--out", required=True, help="report directory to write")
    ap.add_argument("--junit", help="pytest --junitxml file: tests per backend (GPU run)")
    ap.add_argument("--env", help="env.json written by ci/gpu/env.py (GPU run)")
    ap.add_argument("--timing", help="timing.txt written by ci/gpu/run.sh (GPU run)")
    args = ap.parse_args(argv)
    s = build_report(args.json, args.out, junit=args.junit, env=args.env, timing=args.timing)
    print(summary(s))
    print(f"\nreport written to {args.out}/report.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
