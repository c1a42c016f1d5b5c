"""The analysis half of ``ci/report.py``: pytest-benchmark JSON in, plain data out.

``load_runs`` merges the raw files; each function below turns one benchmark file's cells
into rows (times are the minimum over rounds per gradient step); ``analyse`` gathers them,
with the test outcomes and the targets of ``ci/targets.py``, into the dict written to
``speedups.json``. Nothing here formats text.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import targets  # ci/targets.py (ci/ is on sys.path: report.py puts it there)
from targets import GPU_BACKENDS

IMPLS = ("loops", "per_example", "vectorized")
STATS = ("min", "max", "mean", "median", "stddev", "rounds")

# ----------------------------------------------------------------------------- loading


def load_runs(paths: Iterable[str | Path]) -> dict[str, Any]:
    """Merge pytest-benchmark JSON files into one dict: benchmarks, skipped, machine_info,
    runs. A ``results.json`` this module wrote is read back as it is (a committed report
    can be rebuilt from its own results file). A cell found in several files (the same
    test id, run again at the same commit) becomes one: see :func:`combine_repeats`."""
    merged: dict[str, Any] = {"benchmarks": [], "skipped": [], "machine_info": {}, "runs": []}
    commits: list[str | None] = []  # per benchmark entry: the commit its run measured
    for path in paths:
        data = json.loads(Path(path).read_text())
        merged["machine_info"] = merged["machine_info"] or data.get("machine_info", {})
        if "runs" in data:
            for key in ("runs", "benchmarks", "skipped"):
                merged[key] += data.get(key, [])
            commits += [None] * len(data.get("benchmarks", []))
            continue
        merged["runs"].append(
            {k: data[k] for k in ("datetime", "version", "commit_info") if k in data}
        )
        benchmarks = [
            {
                "name": b["name"],
                "fullname": b["fullname"],
                "params": b.get("params") or {},
                "stats": {k: b["stats"][k] for k in STATS},
                "extra_info": b.get("extra_info", {}),
            }
            for b in data.get("benchmarks", [])
        ]
        merged["benchmarks"] += benchmarks
        commits += [(data.get("commit_info") or {}).get("id")] * len(benchmarks)
        merged["skipped"] += data.get("xpnet_skipped", [])
    merged["benchmarks"] = combine_repeats(merged["benchmarks"], commits)
    return merged


def combine_repeats(
    benchmarks: list[dict[str, Any]], commits: list[str | None]
) -> list[dict[str, Any]]:
    """One entry per cell: the runs of a cell measured more than once (the same
    ``fullname`` in several files) combined, in the order cells first appear.

    A paired ratio (``extra_info["paired*"]``) is the *median run's* pair, the higher
    of the two middle ones for an even count, with every run's ratio kept in its
    ``runs`` (sorted): on a shared machine one process can meet another tenant's load
    that its neighbour did not, and the median of several same-run ratios is not moved
    by one such run (the way asv reports a median over processes). The stats are those
    of the run with the smallest minimum (the minimum over all rounds, as for one run),
    with ``stats["runs"]`` the number of runs. Runs at different commits measured
    different code and are refused.

    Raises
    ------
    SystemExit
        When a cell's runs name different commits.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, b in enumerate(benchmarks):
        groups[b["fullname"]].append(i)
    out = []
    for name, idx in groups.items():
        if len(idx) == 1:
            out.append(benchmarks[idx[0]])
            continue
        seen = sorted({commits[i] or "?" for i in idx})
        if len(seen) > 1:
            raise SystemExit(
                f"{name} was measured at {len(seen)} commits ({', '.join(c[:12] for c in seen)}); "
                "runs are combined only when they measured the same code: pass the files "
                "of one commit, or build a report per commit"
            )
        group = [benchmarks[i] for i in idx]
        best = min(group, key=lambda b: b["stats"]["min"])
        extra = dict(group[0]["extra_info"])
        for key, rec in group[0]["extra_info"].items():
            if key.startswith("paired") and isinstance(rec, dict) and "ratio" in rec:
                recs = sorted(
                    (b["extra_info"][key] for b in group if key in b["extra_info"]),
                    key=lambda r: r["ratio"],
                )
                extra[key] = {**recs[len(recs) // 2], "runs": [r["ratio"] for r in recs]}
        out.append({**best, "stats": {**best["stats"], "runs": len(group)}, "extra_info": extra})
    return out


def _file(b: dict[str, Any]) -> str:
    return Path(b["fullname"].split("::")[0]).stem


def rows(runs: dict[str, Any], file: str) -> list[dict[str, Any]]:
    """The cells of bench file ``file``: extra_info, the test's ``name`` and ``t``, seconds
    per gradient step (the minimum round time / ``steps_per_call``)."""
    out = []
    for b in runs["benchmarks"]:
        if _file(b) == file:
            e = b["extra_info"]
            out.append(
                {**e, "name": b["name"], "t": b["stats"]["min"] / e.get("steps_per_call", 1)}
            )
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


# ----------------------------------------------------------------------------- analysis
# Plain data, written to speedups.json; ci/targets.py reads these keys.


def vectorization(runs: dict[str, Any]) -> dict[str, Any]:
    """Per model/backend/n_x/m: each impl's time, device-event time and skip reason, and the
    vectorized step's speedups over the loops."""
    cell_keys = ("model", "backend", "n_x", "m")
    done = {(*(r[k] for k in cell_keys), r["impl"]): r for r in rows(runs, "bench_vectorization")}
    skipped = {
        (
            "logreg" if "logreg" in s["name"] else "shallow",
            *(s["params"][k] for k in ("backend", "n_x", "m", "impl")),
        ): s["reason"]
        for s in runs["skipped"]
        if "bench_vectorization" in s["fullname"]
    }
    cells = []
    for key in sorted({k[:4] for k in (*done, *skipped)}):
        cell: dict[str, Any] = dict(zip(cell_keys, key, strict=True))
        for impl in IMPLS:
            r = done.get((*key, impl), {})
            cell[f"{impl}_s"], cell[f"{impl}_gpu_s"] = r.get("t"), r.get("gpu_time_min_s") or None
            if (*key, impl) in skipped:
                cell[f"{impl}_skipped"] = skipped[(*key, impl)]
        for impl in IMPLS[:2]:
            cell[f"speedup_vs_{impl}"] = _ratio(cell[f"{impl}_s"], cell["vectorized_s"])
        cells.append(cell)
    return {"cells": cells}


def gpu_overtake(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model, backend other than NumPy and n_x: the smallest m from which its vectorized
    step is faster than NumPy's at that m and at every larger m measured."""
    t = {(c["model"], c["backend"], c["n_x"], c["m"]): c["vectorized_s"] for c in cells}
    t = {k: v for k, v in t.items() if v}
    out = []
    for model, backend, n_x in sorted({k[:3] for k in t if k[1] != "numpy"}):
        ms = sorted(
            k[3] for k in t if k[:3] == (model, backend, n_x) and (model, "numpy", n_x, k[3]) in t
        )
        faster = [t[(model, backend, n_x, m)] < t[(model, "numpy", n_x, m)] for m in ms]
        first = next((i for i in range(len(ms)) if all(faster[i:])), None)
        overtake = None if first is None else ms[first]
        out.append(
            {
                "model": model,
                "backend": backend,
                "n_x": n_x,
                "overtake_m": overtake,
                "m_compared": ms,
            }
        )
    return out


def dot(runs: dict[str, Any]) -> list[dict[str, Any]]:
    """Loop and ``xp.vecdot`` time per backend; a shorter loop (a GPU) is scaled to 10⁶."""
    by = defaultdict(dict)
    for r in rows(runs, "bench_dot"):
        by[r["backend"]][r["impl"]] = r
    out = []
    for backend, d in sorted(by.items()):
        loop, vec = d.get("loops", {}), d.get("vectorized", {})
        t = loop.get("t") and loop["t"] * (vec["n"] / loop["n"] if vec else 1)
        out.append(
            {
                "backend": backend,
                "loops_s": t,
                "vectorized_s": vec.get("t"),
                "speedup": _ratio(t, vec.get("t")),
                "n": vec.get("n"),
                "n_loop": loop.get("n"),
            }
        )
    return out


def roofline(runs: dict[str, Any]) -> list[dict[str, Any]]:
    """Per backend/n/m/dtype: step and matmul GFLOP/s and the roofline fraction (paired where
    the step stored its interleaved timing, else the two separate cells)."""
    by: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for r in rows(runs, "bench_roofline"):
        by[(r["backend"], r["n"], r["m"], r["dtype"])][r["kind"]] = r
    out = []
    for (backend, n, m, dtype), kinds in sorted(by.items()):
        row: dict[str, Any] = {"backend": backend, "n": n, "m": m, "dtype": dtype}
        if s := kinds.get("step"):
            row.update(
                step_s=s["t"],
                flops=s["flops"],
                nominal_flops=s["nominal_flops"],
                step_gflops=s["flops"] / s["t"] / 1e9,
                device=s.get("device"),
                gpu_step_s=s.get("gpu_time_min_s"),
            )
        if mm := kinds.get("matmul"):
            row.update(
                matmul_s=mm["t"],
                matmul_gflops=mm["flops"] / mm["t"] / 1e9,
                gpu_matmul_s=mm.get("gpu_time_min_s"),
            )
        if s and mm:
            row["fraction_separate"] = row["fraction"] = mm["t"] / s["t"]
        if s and "paired_matmul" in s:
            row["fraction"] = s["paired_matmul"]["fraction"]
        out.append(row)
    return out


def _by_cell(runs: dict[str, Any], file: str) -> dict[tuple, dict[str, dict]]:
    """(dims, m, dtype) -> {"backend:impl": the cell}."""
    by: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for r in rows(runs, file):
        by[(tuple(r["dims"]), r["m"], r["dtype"])][f"{r['backend']}:{r['impl']}"] = r
    return dict(sorted(by.items()))


def abstraction(runs: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for (dims, m, dtype), c in _by_cell(runs, "bench_abstraction").items():
        hand, ours, public = (
            c.get(f"numpy:{i}", {}) for i in ("handwritten", "xpnet", "xpnet-public")
        )
        out.append(
            {
                "dims": list(dims),
                "m": m,
                "dtype": dtype,
                "handwritten_s": hand.get("t"),
                "xpnet_s": ours.get("t"),
                "xpnet_public_s": public.get("t"),
                "ratio": _ratio(ours.get("t"), hand.get("t")),
                "ratio_public": _ratio(public.get("t"), hand.get("t")),
                "paired_ratio": ours.get("paired", {}).get("ratio"),
                "paired_runs": ours.get("paired", {}).get("runs"),
            }
        )
    return out


def _auto_pick(cell: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """What ``compile="auto"`` runs on torch CPU in a default-length fit of this cell (the
    torch xpnet cell applied the library's rule to its eager step time), and that step's
    paired ratio to torch nn: the eager pair, or the compiled one. ``auto_picks`` says
    "compiled (not run)" when the rule compiles but this run had no compiled cell."""
    info = cell.get("torch:xpnet", {})
    if "auto_compiles" not in info:
        return {"auto_picks": None, "paired_torch_auto_vs_torch_cpu": None}
    if not info["auto_compiles"]:
        return {
            "auto_picks": "eager",
            "paired_torch_auto_vs_torch_cpu": row["paired_torch_vs_torch_cpu"],
            "paired_torch_auto_runs": row.get("paired_torch_runs"),
        }
    compiled = row["paired_torch_compiled_vs_torch_cpu"]
    return {
        "auto_picks": "compiled" if compiled else "compiled (not run)",
        "paired_torch_auto_vs_torch_cpu": compiled,
        "paired_torch_auto_runs": row.get("paired_torch_compiled_runs"),
    }


def peers(runs: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for (dims, m, dtype), c in _by_cell(runs, "bench_peers").items():
        t = {k: r["t"] for k, r in c.items()}
        row: dict[str, Any] = {"dims": list(dims), "m": m, "dtype": dtype, "times_s": t}
        # xpnet's eager step (what compile="auto" runs on the CPU) against torch nn,
        # alternated; the compiled torch step's pair is kept apart
        for key, cell in (("numpy", "numpy:xpnet"), ("torch", "torch:xpnet"),
                          ("torch_compiled", "torch:xpnet-compiled")):  # fmt: skip
            pair = c.get(cell, {}).get("paired_torch_cpu")
            row[f"paired_{key}_vs_torch_cpu"] = pair["ratio"] if pair else None
            row[f"paired_{key}_runs"] = pair.get("runs") if pair else None
        pair = c.get("torch-cuda:xpnet-compiled", {}).get("paired_torch_cuda")
        row["paired_torch_cuda_compiled_vs_torch_cuda"] = pair["ratio"] if pair else None
        row.update(_auto_pick(c, row))
        row["vs_torch_cpu"] = _ratio(t.get("numpy:xpnet"), t.get("torch:torch_nn"))
        row["vs_sklearn"] = _ratio(t.get("numpy:xpnet"), t.get("numpy:sklearn_mlp"))
        for gpu in GPU_BACKENDS:
            row[f"{gpu}_vs_torch_cuda"] = _ratio(
                t.get(f"{gpu}:xpnet"), t.get("torch-cuda:torch_nn")
            )
        out.append(row)
    return out


def dask_scaling(runs: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("m", "client_peak_mb", "time_per_iter_s", "numpy_time_per_iter_s", "name")
    out = [{k: r.get(k) for k in keys} for r in rows(runs, "bench_dask")]
    for d in out:
        if ratio := _ratio(d["time_per_iter_s"], d["numpy_time_per_iter_s"]):
            d["ratio_vs_numpy"] = ratio
    return sorted(out, key=lambda d: (d["m"] or 0, d["name"]))


# longest first, so "array_api_strict-device1" wins over "array_api_strict"
_TEST_BACKENDS = (
    "array_api_strict-device1",
    "array_api_strict",
    "torch-cuda",
    "numpy",
    "torch",
    "jax",
    "dask",
    "cupy",
)


def _split_backend(params: str) -> tuple[str, str]:
    """A test id's parameters -> (the xp fixture's backend id, the id with it as {xp})."""
    padded = f"-{params}-"
    b = next((b for b in _TEST_BACKENDS if f"-{b}-" in padded), None)
    return (b, padded.replace(f"-{b}-", "-{xp}-", 1)[1:-1]) if b else ("(no backend)", params)


def tests_summary(junit: str | Path | None) -> dict[str, Any] | None:
    """Per backend id, from a pytest JUnit XML file: passed / failed / skipped, and the
    *regressions*: tests that pass on NumPy but fail or error on that backend."""
    if junit is None or not Path(junit).is_file():
        return None
    cases = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        base, _, params = f"{case.get('classname')}::{case.get('name')}".partition("[")
        backend, key = _split_backend(params.removesuffix("]"))
        kinds = {child.tag: child for child in case}
        result = (
            "failed"
            if kinds.keys() & {"failure", "error"}
            else "skipped"
            if "skipped" in kinds
            else "passed"
        )
        reason = (kinds["skipped"].get("message") or "")[:160] if result == "skipped" else None
        cases.append(
            {"backend": backend, "key": f"{base}[{key}]", "result": result, "reason": reason}
        )
    df = pd.DataFrame(cases, columns=["backend", "key", "result", "reason"])
    df = df.drop_duplicates(["backend", "key"], keep="last")
    on_numpy = set(df.key[(df.backend == "numpy") & (df.result == "passed")])
    df["regressions"] = (df.result == "failed") & df.key.isin(on_numpy)
    counts = pd.crosstab(df.backend, df.result).reindex(
        columns=["passed", "failed", "skipped"], fill_value=0
    )
    counts["regressions"] = df.groupby("backend").regressions.sum()
    skips = df.dropna(subset=["reason"]).groupby("backend").reason.agg(lambda r: sorted(set(r)))
    return {
        "file": str(junit),
        "backends": {b: {k: int(v) for k, v in r.items()} for b, r in counts.iterrows()},
        "skip_reasons": skips.to_dict(),
    }


def latency(runs: dict[str, Any], peer_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The small network's step against the launch-bound floor (bench_latency) and torch's
    nn step, eager and compiled (bench_peers), per backend and dtype."""
    cpu = runs["machine_info"].get("cpu", {}).get("brand_raw")
    out = []
    for r in rows(runs, "bench_latency"):
        backend = r["backend"]
        peer = next(
            (
                p
                for p in peer_rows
                if (p["dims"], p["m"], p["dtype"]) == (r["dims"], r["m"], r["dtype"])
            ),
            {},
        )
        t, torch_dev = peer.get("times_s", {}), "torch-cuda" if backend in GPU_BACKENDS else "torch"
        row: dict[str, Any] = {
            "backend": backend,
            "dims": r["dims"],
            "m": r["m"],
            "dtype": r["dtype"],
            "device": cpu if r.get("device") == "cpu" and cpu else r.get("device"),
            "kernel_count": r.get("kernel_count"),
            "count_method": r.get("count_method"),
            "floor_s": r["t"],
            "gpu_floor_s": r.get("gpu_time_min_s"),
            "graph_floor_s": r.get("graph_floor_s"),
            "step_s": t.get(f"{backend}:xpnet"),
            "torch_eager_s": t.get(f"{torch_dev}:torch_nn"),
            "torch_compiled_s": t.get(f"{torch_dev}:torch_nn_compiled"),
        }
        for ref in ("floor", "graph_floor", "torch_eager", "torch_compiled"):
            row[f"vs_{ref}"] = _ratio(row["step_s"], row[f"{ref}_s"])
        out.append(row)
    return sorted(out, key=lambda r: (r["backend"], r["dtype"]))


#: extra_info keys that describe a cell, shown beside a paired ratio (in this order).
_CELL_KEYS = (
    "backend",
    "impl",
    "peer",
    "solver",
    "dims",
    "m",
    "dtype",
    "hidden",
    "batch_size",
    "iterations",
)


def paired_ratios(runs: dict[str, Any]) -> list[dict[str, Any]]:
    """Every interleaved timing a benchmark stored (``extra_info["paired*"]``, from
    ``_common.paired_min``): file, key, the cell's parameters and the ratio a / b."""
    out = []
    for b in runs["benchmarks"]:
        e = b["extra_info"]
        for key, rec in sorted(e.items()):
            if key.startswith("paired") and isinstance(rec, dict) and "ratio" in rec:
                times = {k[:-2]: v for k, v in rec.items() if k.endswith("_s")}
                steps = e.get("steps_per_call") or 1
                if steps > 1:  # a's call runs `steps` steps; the ratio is per step: so is a
                    first = next(iter(times))
                    times = {f"{first} (per step of {steps})": times.pop(first) / steps, **times}
                cell = {k: e[k] for k in _CELL_KEYS if k in e}
                out.append(
                    {
                        "file": _file(b),
                        "key": key,
                        "cell": cell,
                        "names": list(times),
                        "times_s": times,
                        "ratio": rec["ratio"],
                        "runs": rec.get("runs"),
                        "compile_s": e.get("compile_s"),
                    }
                )
    return out


def analyse(
    runs: dict[str, Any], junit: str | Path | None = None, env: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything report.md shows, as plain data (speedups.json): the analyses above, the
    test outcomes of ``junit``, the machine record ``env`` (ci/gpu/env.py), and every target
    of ``ci/targets.py`` with its figure and status."""
    s: dict[str, Any] = {"statistic": "min over rounds, seconds per gradient step"}
    s["vectorization"] = vectorization(runs)
    s["gpu_overtake"] = gpu_overtake(s["vectorization"]["cells"])
    s.update(dot=dot(runs), roofline=roofline(runs), abstraction=abstraction(runs))
    s.update(peers=peers(runs), dask=dask_scaling(runs))
    s.update(latency=latency(runs, s["peers"]), paired=paired_ratios(runs))
    s.update(tests=tests_summary(junit), env=env)
    s["gpu_ran"] = any(b["extra_info"].get("backend") in GPU_BACKENDS for b in runs["benchmarks"])
    s["targets"] = targets.evaluate(s)
    return s
