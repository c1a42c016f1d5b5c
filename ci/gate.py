"""Fail CI on performance regressions, judged only on ratios measured in the same run.

    python ci/gate.py REPORT_DIR/speedups.json

Never gates on an absolute time: the machines are shared and noisy. Each check compares
two cells of the same run, with a margin far wider than the run-to-run noise. A check
whose cells are not in the run (a suite that produced nothing, a NaN ratio) fails: a
gate that passes on missing data checks nothing. ``--allow-missing`` reports those as
"not measured" instead, for a run of some suites only.
The issue's targets themselves (500×, 85 %, 1.15×, ...) are reported in report.md as
MET / MISSED; this gate only catches breakage (a vectorized step that stopped being
vectorized, an abstraction layer that suddenly costs 2×).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The checks and their margins are rows of the one table of targets, ci/targets.py,
# shared with ci/report.py: a row's ``gate`` is the margin, ``gate_measure`` its cells.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from targets import gate_checks  # noqa: E402


def checks(s: dict[str, Any]) -> list[tuple[str, float | None, str, float]]:
    """(description, measured ratio or None, op, threshold) for every gate check."""
    return gate_checks(s)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("speedups", help="speedups.json written by ci/report.py")
    ap.add_argument(
        "--allow-missing",
        action="store_true",
        help="report checks without cells as not measured instead of failing them",
    )
    args = ap.parse_args(argv)
    path = Path(args.speedups)
    if not path.is_file():
        print(f"gate: {path} does not exist; run ci/report.py (or xpnet bench) first")
        return 2
    s = json.loads(path.read_text())
    failed = missing = 0
    rows = checks(s)
    if all(value is None for _, value, _, _ in rows):
        print("gate: no comparable cells in this run; nothing to check")
        return 1
    for name, value, op, limit in rows:
        if value is None or not math.isfinite(value):
            missing += 1
            print(f"  {'not measured' if args.allow_missing else 'FAIL (no cells)'}  {name}")
            continue
        ok = value >= limit if op == ">=" else value <= limit
        failed += not ok
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {value:.3g} (gate {op} {limit})")
    passed = len(rows) - failed - missing
    print(f"gate: {passed}/{len(rows)} checks passed, {failed} failed, {missing} not measured")
    return 1 if failed or (missing and not args.allow_missing) else 0


if __name__ == "__main__":
    sys.exit(main())
