"""Fail CI on performance regressions, judged only on ratios measured in the same run.

    python ci/gate.py REPORT_DIR/speedups.json

Never gates on an absolute time: the machines are shared and noisy. Each check compares
two cells of the same run, with a margin far wider than the run-to-run noise; a check
whose cells are not in the grid is reported as "not measured" and does not fail.
The issue's targets themselves (500×, 85 %, 1.15×, ...) are reported in report.md as
MET / MISSED; this gate only catches breakage (a vectorized step that stopped being
vectorized, an abstraction layer that suddenly costs 2×).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# (name, value extractor, comparison, threshold). Margins are generous on purpose.
MIN_SPEEDUP_AT_M1000 = 20.0  # vectorized vs loops at m >= 1000 (targets: 500× at n_x=1000)
MIN_DOT_SPEEDUP = 5.0  # the lecture's dot product (course: ~300×)
MIN_ROOFLINE_FRACTION = 0.40  # largest float32 NumPy cell (target: 85 % at n=2048)
MAX_ABSTRACTION = 2.0  # xpnet / hand-written NumPy (targets: 1.15× tiny, 1.02× large)
MAX_VS_TORCH_LARGE = 3.0  # xpnet / torch CPU at the largest peer cell (target: 1.0×)


def checks(s: dict[str, Any]) -> list[tuple[str, float | None, str, float]]:
    """(description, measured ratio or None, op, threshold) for every gate check."""
    out: list[tuple[str, float | None, str, float]] = []
    for c in s["vectorization"]["cells"]:
        if c["backend"] == "numpy" and c["m"] >= 1000 and c["speedup_vs_loops"]:
            out.append(
                (
                    f"{c['model']} m={c['m']} n_x={c['n_x']}: vectorized/loops speedup",
                    c["speedup_vs_loops"],
                    ">=",
                    MIN_SPEEDUP_AT_M1000,
                )
            )
    for d in s["dot"]:
        if d["backend"] == "numpy":
            out.append(("dot product 1e6: loop/vectorized", d["speedup"], ">=", MIN_DOT_SPEEDUP))
    roof = [
        r
        for r in s["roofline"]
        if r["backend"] == "numpy" and r["dtype"] == "float32" and "fraction" in r
    ]
    if roof:
        r = max(roof, key=lambda r: r["n"] * r["m"])
        out.append(
            (
                f"roofline fraction n={r['n']} m={r['m']} float32",
                r["fraction"],
                ">=",
                MIN_ROOFLINE_FRACTION,
            )
        )
    for a in s["abstraction"]:
        dims = "x".join(map(str, a["dims"]))
        out.append(
            (
                f"abstraction cost {dims} m={a['m']} {a['dtype']}",
                a["ratio"],
                "<=",
                MAX_ABSTRACTION,
            )
        )
    torch_cells = [p for p in s["peers"] if p["vs_torch_cpu"]]
    if torch_cells:
        p = max(torch_cells, key=lambda p: p["m"] * sum(p["dims"]))
        dims = "x".join(map(str, p["dims"]))
        out.append(
            (
                f"xpnet/torch CPU {dims} m={p['m']} {p['dtype']}",
                p["vs_torch_cpu"],
                "<=",
                MAX_VS_TORCH_LARGE,
            )
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("speedups", help="speedups.json written by ci/report.py")
    args = ap.parse_args(argv)
    path = Path(args.speedups)
    if not path.is_file():
        print(f"gate: {path} does not exist; run ci/report.py (or xpnet bench) first")
        return 2
    s = json.loads(path.read_text())
    failed = 0
    rows = checks(s)
    if not rows:
        print("gate: no comparable cells in this run; nothing to check")
        return 1
    for name, value, op, limit in rows:
        if value is None:
            print(f"  not measured  {name}")
            continue
        ok = value >= limit if op == ">=" else value <= limit
        failed += not ok
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {value:.3g} (gate {op} {limit})")
    print(f"gate: {len(rows) - failed}/{len(rows)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
