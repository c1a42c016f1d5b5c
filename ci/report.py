"""Turn pytest-benchmark JSON from ``benchmarks/`` into a report directory.

    python ci/report.py RAW.json [RAW2.json ...] --out DIR

writes ``DIR/results.json`` (the raw runs, merged), ``DIR/speedups.json`` (every ratio the
report shows), ``DIR/report.md`` and PNG plots (speedup vs m, time vs m per impl), one set
per device. Every time used is the *minimum* over rounds (per gradient step), the figure
least disturbed by other work on a shared machine; medians are kept in results.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import targets  # noqa: E402 - ci/targets.py: the one table of targets, shared with gate.py
from targets import GPU_BACKENDS, NO_GPU  # noqa: E402

# ----------------------------------------------------------------------------- loading


def load_runs(paths: Iterable[str | Path]) -> dict[str, Any]:
    """Merge pytest-benchmark JSON files into one dict: benchmarks, skipped, machine_info.

    A ``results.json`` this module wrote (already merged) is read back as it is, so a
    committed report can be rebuilt from its own results file.
    """
    merged: dict[str, Any] = {"benchmarks": [], "skipped": [], "machine_info": {}, "runs": []}
    for path in paths:
        data = json.loads(Path(path).read_text())
        merged["machine_info"] = merged["machine_info"] or data.get("machine_info", {})
        if "runs" in data:  # a results.json written by build_report
            merged["runs"] += data["runs"]
            merged["benchmarks"] += data.get("benchmarks", [])
            merged["skipped"] += data.get("skipped", [])
            continue
        merged["runs"].append(
            {k: data.get(k) for k in ("datetime", "version", "commit_info") if k in data}
        )
        for b in data.get("benchmarks", []):
            stats = {k: b["stats"][k] for k in ("min", "max", "mean", "median", "stddev", "rounds")}
            merged["benchmarks"].append(
                {
                    "name": b["name"],
                    "fullname": b["fullname"],
                    "params": b.get("params") or {},
                    "stats": stats,
                    "extra_info": b.get("extra_info", {}),
                }
            )
        merged["skipped"].extend(data.get("xpnet_skipped", []))
    return merged


def _file(b: dict[str, Any]) -> str:
    return Path(b["fullname"].split("::")[0]).stem


def _test(b: dict[str, Any]) -> str:
    return b["fullname"].split("::")[-1].split("[")[0]


def step_time(b: dict[str, Any]) -> float:
    """Seconds per gradient step: the minimum round time / ``steps_per_call``."""
    return b["stats"]["min"] / b["extra_info"].get("steps_per_call", 1)


# ----------------------------------------------------------------------------- analysis


def vectorization(runs: dict[str, Any]) -> dict[str, Any]:
    """Times and speedups of the vectorization grid, keyed by model/backend/n_x/m/impl."""
    times: dict[tuple, float] = {}
    events: dict[tuple, float] = {}
    for b in runs["benchmarks"]:
        if _file(b) == "bench_vectorization":
            e = b["extra_info"]
            times[(e["model"], e["backend"], e["n_x"], e["m"], e["impl"])] = step_time(b)
            if e.get("gpu_time_min_s"):
                events[(e["model"], e["backend"], e["n_x"], e["m"], e["impl"])] = e[
                    "gpu_time_min_s"
                ]
    skipped: dict[tuple, str] = {}
    for s in runs["skipped"]:
        if "bench_vectorization" in s["fullname"]:
            p = s["params"]
            model = "logreg" if "logreg" in s["name"] else "shallow"
            skipped[(model, p["backend"], p["n_x"], p["m"], p["impl"])] = s["reason"]
    cells = []
    keys = sorted({k[:4] for k in (*times, *skipped)}, key=lambda k: (k[0], k[1], k[2], k[3]))
    for model, backend, n_x, m in keys:
        cell: dict[str, Any] = {"model": model, "backend": backend, "n_x": n_x, "m": m}
        for impl in ("loops", "per_example", "vectorized"):
            key = (model, backend, n_x, m, impl)
            cell[f"{impl}_s"] = times.get(key)
            cell[f"{impl}_gpu_s"] = events.get(key)
            if key in skipped:
                cell[f"{impl}_skipped"] = skipped[key]
        vec = cell["vectorized_s"]
        for impl in ("loops", "per_example"):
            t = cell[f"{impl}_s"]
            cell[f"speedup_vs_{impl}"] = t / vec if (t and vec) else None
        cells.append(cell)
    return {"cells": cells}


def gpu_overtake(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model, backend other than NumPy (the GPUs; CPU backends too, labelled by their
    name) and n_x: the smallest m from which its vectorized step is faster than NumPy's at
    that m and at every larger m measured."""
    by = defaultdict(dict)
    for c in cells:
        if c["vectorized_s"]:
            by[(c["model"], c["backend"], c["n_x"])][c["m"]] = c["vectorized_s"]
    out = []
    for (model, backend, n_x), gpu in sorted(by.items()):
        if backend == "numpy":
            continue
        cpu = by.get((model, "numpy", n_x), {})
        ms = sorted(m for m in gpu if m in cpu)
        overtake = None
        for i, m in enumerate(ms):
            if all(gpu[k] < cpu[k] for k in ms[i:]):
                overtake = m
                break
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
    t: dict[tuple, float] = {}
    n: dict[tuple, int] = {}
    for b in runs["benchmarks"]:
        if _file(b) == "bench_dot":
            e = b["extra_info"]
            t[(e["backend"], e["impl"])] = step_time(b)
            n[(e["backend"], e["impl"])] = e["n"]
    out = []
    for backend in sorted({k[0] for k in t}):
        loops, vec = t.get((backend, "loops")), t.get((backend, "vectorized"))
        # A loop over fewer elements (quick mode on a GPU) is scaled to the vector length.
        if loops and n[(backend, "loops")] != n[(backend, "vectorized")]:
            loops *= n[(backend, "vectorized")] / n[(backend, "loops")]
        out.append(
            {
                "backend": backend,
                "loops_s": loops,
                "vectorized_s": vec,
                "speedup": loops / vec if loops and vec else None,
                "n": n.get((backend, "vectorized")),
                "n_loop": n.get((backend, "loops")),
            }
        )
    return out


def roofline(runs: dict[str, Any]) -> list[dict[str, Any]]:
    t: dict[tuple, dict[str, Any]] = defaultdict(dict)
    for b in runs["benchmarks"]:
        if _file(b) == "bench_roofline":
            e = b["extra_info"]
            t[(e["backend"], e["n"], e["m"], e["dtype"])][e["kind"]] = (step_time(b), e)
    out = []
    for (backend, n, m, dtype), kinds in sorted(t.items()):
        row: dict[str, Any] = {"backend": backend, "n": n, "m": m, "dtype": dtype}
        if "step" in kinds:
            ts, e = kinds["step"]
            row.update(
                step_s=ts,
                flops=e["flops"],
                nominal_flops=e["nominal_flops"],
                step_gflops=e["flops"] / ts / 1e9,
                device=e.get("device"),
                gpu_step_s=e.get("gpu_time_min_s"),
            )
        if "matmul" in kinds:
            tm, e = kinds["matmul"]
            row.update(
                matmul_s=tm,
                matmul_gflops=e["flops"] / tm / 1e9,
                gpu_matmul_s=e.get("gpu_time_min_s"),
            )
        if "step_s" in row and "matmul_s" in row:
            row["fraction_separate"] = row["matmul_s"] / row["step_s"]
            row["fraction"] = row["fraction_separate"]
        if "step" in kinds and "paired_matmul" in kinds["step"][1]:
            # judged on the interleaved timing of the step and its matmuls
            row["fraction"] = kinds["step"][1]["paired_matmul"]["fraction"]
        out.append(row)
    return out


def _by_impl(runs: dict[str, Any], file: str) -> dict[tuple, dict[str, float]]:
    t: dict[tuple, dict[str, float]] = defaultdict(dict)
    for b in runs["benchmarks"]:
        if _file(b) == file:
            e = b["extra_info"]
            t[(tuple(e["dims"]), e["m"], e["dtype"])][f"{e['backend']}:{e['impl']}"] = step_time(b)
    return t


def _paired(runs: dict[str, Any], file: str, key: str) -> dict[tuple, dict[str, Any]]:
    """Interleaved (paired) timings stored by a cell under ``extra_info[key]``, per
    (backend, dims, m, dtype)."""
    out: dict[tuple, dict[str, Any]] = {}
    for b in runs["benchmarks"]:
        e = b["extra_info"]
        if _file(b) == file and key in e:
            out[(e["backend"], tuple(e["dims"]), e["m"], e["dtype"])] = e[key]
    return out


def abstraction(runs: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    paired = _paired(runs, "bench_abstraction", "paired")
    for (dims, m, dtype), t in sorted(_by_impl(runs, "bench_abstraction").items()):
        hand = t.get("numpy:handwritten")
        row = {
            "dims": list(dims),
            "m": m,
            "dtype": dtype,
            "handwritten_s": hand,
            "xpnet_s": t.get("numpy:xpnet"),
            "xpnet_public_s": t.get("numpy:xpnet-public"),
        }
        row["ratio"] = row["xpnet_s"] / hand if hand and row["xpnet_s"] else None
        row["ratio_public"] = (
            row["xpnet_public_s"] / hand if hand and row["xpnet_public_s"] else None
        )
        pair = paired.get(("numpy", dims, m, dtype))
        row["paired_ratio"] = pair["ratio"] if pair else None
        out.append(row)
    return out


def peers(runs: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    paired = _paired(runs, "bench_peers", "paired_torch_cpu")
    for (dims, m, dtype), t in sorted(_by_impl(runs, "bench_peers").items()):
        row: dict[str, Any] = {"dims": list(dims), "m": m, "dtype": dtype, "times_s": t}
        for backend in ("numpy", "torch"):
            pair = paired.get((backend, dims, m, dtype))
            row[f"paired_{backend}_vs_torch_cpu"] = pair["ratio"] if pair else None
        ours = t.get("numpy:xpnet")
        for key, label in (("torch:torch_nn", "vs_torch_cpu"), ("numpy:sklearn_mlp", "vs_sklearn")):
            row[label] = ours / t[key] if ours and t.get(key) else None
        for gpu in GPU_BACKENDS:
            mine, theirs = t.get(f"{gpu}:xpnet"), t.get("torch-cuda:torch_nn")
            row[f"{gpu}_vs_torch_cuda"] = mine / theirs if mine and theirs else None
        out.append(row)
    return out


def dask_scaling(runs: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for b in runs["benchmarks"]:
        if _file(b) == "bench_dask":
            e = b["extra_info"]
            row = {
                k: e.get(k)
                for k in ("m", "client_peak_mb", "time_per_iter_s", "numpy_time_per_iter_s")
            }
            row["name"] = b["name"]
            if row["time_per_iter_s"] and row["numpy_time_per_iter_s"]:
                row["ratio_vs_numpy"] = row["time_per_iter_s"] / row["numpy_time_per_iter_s"]
            out.append(row)
    return sorted(out, key=lambda r: (r["m"] or 0, r["name"]))


# ----------------------------------------------------------------------------- targets


def tests_summary(junit: str | Path | None) -> dict[str, Any] | None:
    """Per backend id, from a pytest JUnit XML file: passed / failed / skipped, and the
    *regressions*: tests that pass on NumPy but fail or error on that backend."""
    if junit is None or not Path(junit).is_file():
        return None
    import xml.etree.ElementTree as ET

    outcome: dict[tuple[str, str], str] = {}
    reasons: dict[str, set[str]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        base, _, params = f"{case.get('classname')}::{case.get('name')}".partition("[")
        params = params.removesuffix("]")
        backend, key = _split_backend(params)
        key = f"{base}[{key}]"
        kinds = {child.tag: child for child in case}
        result = (
            "failed"
            if kinds.keys() & {"failure", "error"}
            else "skipped"
            if "skipped" in kinds
            else "passed"
        )
        outcome[(backend, key)] = result
        if result == "skipped":
            reasons.setdefault(backend, set()).add((kinds["skipped"].get("message") or "")[:160])
    backends: dict[str, dict[str, int]] = {}
    for (backend, key), result in outcome.items():
        r = backends.setdefault(backend, {"passed": 0, "failed": 0, "skipped": 0, "regressions": 0})
        r[result] += 1
        if result == "failed" and outcome.get(("numpy", key)) == "passed":
            r["regressions"] += 1
    skips = {b: sorted(v) for b, v in reasons.items()}
    return {"file": str(junit), "backends": backends, "skip_reasons": skips}


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
    for b in _TEST_BACKENDS:
        if f"-{b}-" in padded:
            return b, padded.replace(f"-{b}-", "-{xp}-", 1)[1:-1]
    return "(no backend)", params


def latency(runs: dict[str, Any], peer_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The small network's step against the launch-bound floor (bench_latency) and torch's
    nn step, eager and compiled (bench_peers), per backend and dtype."""
    out = []
    for b in runs["benchmarks"]:
        if _file(b) != "bench_latency":
            continue
        e = b["extra_info"]
        dims, m, dtype, backend = e["dims"], e["m"], e["dtype"], e["backend"]
        peer = next(
            (p for p in peer_rows if p["dims"] == dims and p["m"] == m and p["dtype"] == dtype),
            None,
        )
        t = peer["times_s"] if peer else {}
        torch_dev = "torch-cuda" if backend in GPU_BACKENDS else "torch"
        row: dict[str, Any] = {
            "backend": backend,
            "dims": dims,
            "m": m,
            "dtype": dtype,
            "device": e.get("device"),
            "kernel_count": e.get("kernel_count"),
            "count_method": e.get("count_method"),
            "floor_s": step_time(b),
            "gpu_floor_s": e.get("gpu_time_min_s"),
            "graph_floor_s": e.get("graph_floor_s"),
            "step_s": t.get(f"{backend}:xpnet"),
            "torch_eager_s": t.get(f"{torch_dev}:torch_nn"),
            "torch_compiled_s": t.get(f"{torch_dev}:torch_nn_compiled"),
        }
        for key, ref in (
            ("vs_floor", "floor_s"),
            ("vs_graph_floor", "graph_floor_s"),
            ("vs_torch_eager", "torch_eager_s"),
            ("vs_torch_compiled", "torch_compiled_s"),
        ):
            row[key] = row["step_s"] / row[ref] if row["step_s"] and row.get(ref) else None
        out.append(row)
    return sorted(out, key=lambda r: (r["backend"], r["dtype"]))


#: extra_info keys that describe a cell, shown beside a paired ratio (in this order).
_CELL_KEYS = ("backend", "impl", "peer", "solver", "dims", "m", "dtype", "hidden",
              "batch_size", "iterations")  # fmt: skip


def paired_ratios(runs: dict[str, Any]) -> list[dict[str, Any]]:
    """Every interleaved timing any benchmark stored (``extra_info["paired*"]`` from
    ``_common.paired_min``): file, key, the cell's parameters and the ratio a / b."""
    out = []
    for b in runs["benchmarks"]:
        e = b["extra_info"]
        for key, rec in sorted(e.items()):
            if not (key.startswith("paired") and isinstance(rec, dict) and "ratio" in rec):
                continue
            names = [k[:-2] for k in rec if k.endswith("_s")]
            out.append(
                {
                    "file": _file(b),
                    "key": key,
                    "cell": {k: e[k] for k in _CELL_KEYS if k in e},
                    "names": names,
                    "times_s": {k[:-2]: rec[k] for k in rec if k.endswith("_s")},
                    "ratio": rec["ratio"],
                    "compile_s": e.get("compile_s"),
                }
            )
    return out


def analyse(
    runs: dict[str, Any], junit: str | Path | None = None, env: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything report.md shows, as plain data (written to speedups.json): the analyses
    above, the test outcomes of ``junit`` and the machine record ``env`` (ci/gpu/env.py),
    and every target of ``ci/targets.py`` with its figure and status."""
    s: dict[str, Any] = {"statistic": "min over rounds, seconds per gradient step"}
    s["vectorization"] = vectorization(runs)
    s["gpu_overtake"] = gpu_overtake(s["vectorization"]["cells"])
    s["dot"] = dot(runs)
    s["roofline"] = roofline(runs)
    s["abstraction"] = abstraction(runs)
    s["peers"] = peers(runs)
    s["dask"] = dask_scaling(runs)
    s["latency"] = latency(runs, s["peers"])
    s["paired"] = paired_ratios(runs)
    s["tests"] = tests_summary(junit)
    s["env"] = env
    gpu_ran = any(b["extra_info"].get("backend") in GPU_BACKENDS for b in runs["benchmarks"])
    s["gpu_ran"] = gpu_ran
    s["targets"] = targets.evaluate(s)
    return s


# ----------------------------------------------------------------------------- markdown


def _cell_text(cell: dict[str, Any]) -> str:
    parts = []
    for k, v in cell.items():
        if k == "dims":
            parts.append("[" + ", ".join(map(str, v)) + "]")
        elif k in ("backend", "impl", "dtype", "hidden", "peer", "solver"):
            parts.append(str(v))
        else:
            parts.append(f"{k}={v}")
    return " ".join(parts)


def paired_lines(s: dict[str, Any]) -> list[str]:
    """Every paired (interleaved) ratio of the run, grouped by benchmark file."""
    rows = s.get("paired") or []
    if not rows:
        return []
    L = [
        "",
        "## Paired ratios (a / b timed alternately in one loop)",
        "",
        "Each row times two callables in alternating blocks and keeps the minimum per "
        "call (`_common.paired_min`), so machine drift enters both; compile times, where "
        "a cell compiled, are the first call's.",
        "",
    ]
    L += _table(
        ["benchmark", "cell", "a / b", "a", "b", "ratio", "compile"],
        (
            [
                f"{r['file']} `{r['key']}`",
                _cell_text(r["cell"]),
                " / ".join(r["names"]),
                *[_fmt_t(r["times_s"][n]) for n in r["names"][:2]],
                _fmt_x(r["ratio"]),
                f"{r['compile_s']:.1f} s" if r.get("compile_s") else "—",
            ]
            for r in rows
        ),
    )
    return L


def _fmt_t(t: float | None) -> str:
    if t is None:
        return "—"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def _fmt_x(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}×" if x >= 100 else f"{x:.3g}×"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines


def speedup_tables(s: dict[str, Any]) -> list[str]:
    """Markdown: speedup of the vectorized step per m × n_x, per model, backend and impl."""
    cells = s["vectorization"]["cells"]
    lines: list[str] = []
    for model in sorted({c["model"] for c in cells}):
        for backend in sorted({c["backend"] for c in cells if c["model"] == model}):
            sub = [c for c in cells if c["model"] == model and c["backend"] == backend]
            n_xs = sorted({c["n_x"] for c in sub})
            ms = sorted({c["m"] for c in sub})
            for impl in ("loops", "per_example"):
                if not any(c[f"{impl}_s"] or c.get(f"{impl}_skipped") for c in sub):
                    continue  # not in this run's grid (a GPU run leaves NumPy's loops out)
                lines.append(
                    f"\n**{model}, {backend}: vectorized speedup over `{impl}`** "
                    f"(vectorized time in brackets)\n"
                )
                rows = []
                for m in ms:
                    row = [f"m={m}"]
                    for n_x in n_xs:
                        c = next((c for c in sub if c["m"] == m and c["n_x"] == n_x), None)
                        if c is None:
                            row.append("—")
                        elif c.get(f"speedup_vs_{impl}"):
                            row.append(
                                f"{_fmt_x(c[f'speedup_vs_{impl}'])} ({_fmt_t(c['vectorized_s'])})"
                            )
                        elif c.get(f"{impl}_skipped"):
                            row.append(
                                "skipped (budget)"
                                if "budget" in c[f"{impl}_skipped"]
                                else "skipped"
                            )
                        else:
                            row.append("—")
                    rows.append(row)
                lines += _table(["", *[f"n_x={n}" for n in n_xs]], rows)
    return lines


def device_tables(s: dict[str, Any]) -> list[str]:
    """Markdown: the vectorized step's time per device, side by side, per model: one column
    per backend (device-event time in brackets where a GPU recorded one) and each backend's
    speedup over NumPy at the same cell."""
    cells = [c for c in s["vectorization"]["cells"] if c["vectorized_s"]]
    lines: list[str] = []
    for model in sorted({c["model"] for c in cells}):
        sub = [c for c in cells if c["model"] == model]
        backends = sorted({c["backend"] for c in sub}, key=lambda b: (b != "numpy", b))
        if len(backends) < 2 and not any(b in GPU_BACKENDS for b in backends):
            continue
        by = {(c["backend"], c["n_x"], c["m"]): c for c in sub}
        header = ["n_x", "m"] + [f"{b}" for b in backends]
        header += [f"{b} / NumPy speedup" for b in backends if b != "numpy"]
        rows = []
        for n_x, m in sorted({(c["n_x"], c["m"]) for c in sub}):
            row: list[Any] = [n_x, m]
            for b in backends:
                c = by.get((b, n_x, m))
                t = c and c["vectorized_s"]
                ev = c and c.get("vectorized_gpu_s")
                row.append(f"{_fmt_t(t)}{f' ({_fmt_t(ev)} events)' if ev else ''}" if t else "—")
            ref = by.get(("numpy", n_x, m))
            for b in backends:
                if b != "numpy":
                    c = by.get((b, n_x, m))
                    ok = ref and c and c["vectorized_s"]
                    row.append(_fmt_x(ref["vectorized_s"] / c["vectorized_s"]) if ok else "—")
            rows.append(row)
        lines += [
            "",
            f"**{model}: vectorized step per device** (wall time after warm-up and "
            "synchronization; device-event time in brackets)",
            "",
        ]
        lines += _table(header, rows)
    if not any(c["backend"] in GPU_BACKENDS for c in cells):
        lines += ["", f"CuPy / torch-CUDA columns: {NO_GPU}."]
    return lines


def tests_lines(s: dict[str, Any]) -> list[str]:
    t = s.get("tests")
    if not t:
        return []
    L = [
        "",
        "## Tests per backend",
        "",
        f"From `{Path(t['file']).name}`. *failing where "
        "NumPy passes*: the same test id with the backend replaced passed on NumPy.",
        "",
    ]
    L += _table(
        ["backend", "passed", "failed", "skipped", "failing where NumPy passes"],
        (
            [b, r["passed"], r["failed"], r["skipped"], r["regressions"]]
            for b, r in sorted(t["backends"].items())
        ),
    )
    for b, reasons in sorted(t.get("skip_reasons", {}).items()):
        L.append(f"\nSkip reasons on {b}: " + "; ".join(f"`{r}`" for r in reasons[:8]))
    return L


def latency_lines(s: dict[str, Any]) -> list[str]:
    L = [
        "",
        "## Small-network step latency: [20, 8, 1], m = 128",
        "",
        "*floor*: k back-to-back launches of a one-element kernel then one synchronization, "
        "k = the step's device operations counted by the torch profiler (CUDA: kernels, "
        "memcpy, memset; CPU: top-level aten operators); *graph floor*: the same k launches "
        "replayed as one CUDA graph. Step and torch times come from the peers benchmark.",
        "",
    ]
    rows = s.get("latency") or []
    if rows:
        L += _table(
            [
                "backend",
                "dtype",
                "device",
                "k",
                "floor",
                "graph floor",
                "xpnet step",
                "step / floor",
                "step / graph floor",
                "torch eager",
                "step / eager",
                "torch compiled",
                "step / compiled",
            ],
            (
                [
                    r["backend"],
                    r["dtype"],
                    r["device"],
                    r["kernel_count"],
                    _fmt_t(r["floor_s"]),
                    _fmt_t(r["graph_floor_s"]),
                    _fmt_t(r["step_s"]),
                    _fmt_x(r["vs_floor"]),
                    _fmt_x(r["vs_graph_floor"]),
                    _fmt_t(r["torch_eager_s"]),
                    _fmt_x(r["vs_torch_eager"]),
                    _fmt_t(r["torch_compiled_s"]),
                    _fmt_x(r["vs_torch_compiled"]),
                ]
                for r in rows
            ),
        )
    if not any(r["backend"] in GPU_BACKENDS for r in rows):
        L += ["", f"CuPy / torch-CUDA: {NO_GPU}."]
    return L


def gpu_peer_lines(s: dict[str, Any]) -> list[str]:
    L = [
        "",
        "## Peers on the GPU (xpnet on CuPy and torch-CUDA, torch-CUDA `nn` eager and "
        "`torch.compile`d)",
        "",
    ]
    keys = ("cupy:xpnet", "torch-cuda:xpnet", "torch-cuda:torch_nn", "torch-cuda:torch_nn_compiled")
    rows = [p for p in s["peers"] if any(p["times_s"].get(k) for k in keys)]
    if not rows:
        return L + [NO_GPU + "."]

    def ratio(p: dict[str, Any], a: str, b: str) -> str:
        ta, tb = p["times_s"].get(a), p["times_s"].get(b)
        return _fmt_x(ta / tb) if ta and tb else "—"

    return L + _table(
        [
            "layers",
            "m",
            "dtype",
            "xpnet CuPy",
            "xpnet torch-CUDA",
            "torch nn eager",
            "torch nn compiled",
            "CuPy / eager",
            "CuPy / compiled",
            "torch-CUDA xpnet / eager",
        ],
        (
            [
                "x".join(map(str, p["dims"])),
                p["m"],
                p["dtype"],
                *(_fmt_t(p["times_s"].get(k)) for k in keys),
                ratio(p, keys[0], keys[2]),
                ratio(p, keys[0], keys[3]),
                ratio(p, keys[1], keys[2]),
            ]
            for p in rows
        ),
    )


def timing_lines(timing: str | Path | None) -> list[str]:
    """The steps of ci/gpu/run.sh (its timing.txt): seconds, exit code, time limits hit."""
    if not timing or not Path(timing).is_file():
        return []
    rows = []
    for line in Path(timing).read_text().splitlines():
        name, _, rest = line.partition(" ")
        seconds, _, result = rest.partition(", ")
        note = {
            "rc 0": "ok",
            "rc 5": "ok (every cell skipped)",
            "rc 124": "time limit reached: "
            "the cells finished before it are in this report, the others are missing",
            "rc 130": "interrupted",
        }.get(result, result)
        if name == "env" and result == "rc 1":
            note = "no GPU seen (ci/gpu/env.py)"
        rows.append([name, seconds.split(",")[0], note])
    return [
        "",
        "## Steps of the GPU run (ci/gpu/run.sh)",
        "",
        *_table(["step", "time", "result"], rows),
    ]


def env_lines(env: dict[str, Any] | None) -> list[str]:
    """The GPU machine as ci/gpu/env.py recorded it."""
    if not env:
        return []
    smi = env.get("nvidia_smi_query", {})
    torch_ = env.get("torch") if isinstance(env.get("torch"), dict) else {}
    cupy_ = env.get("cupy") if isinstance(env.get("cupy"), dict) else {}
    jax_ = env.get("jax") if isinstance(env.get("jax"), dict) else {}
    return [
        f"- nvidia-smi ({smi.get('fields', '?')}): {smi.get('value', '?')}",
        f"- CUDA: torch built for {torch_.get('cuda_build', '?')}, CuPy runtime "
        f"{cupy_.get('runtime', '?')} / driver API {cupy_.get('driver_api', '?')}; "
        f"nvcc {env.get('nvcc', '?')}",
        f"- GPU (torch): {torch_.get('name', 'none')}, {torch_.get('multiprocessors', '?')} SMs, "
        f"{torch_.get('memory_gib', '?')} GiB; JAX backend {jax_.get('backend', '?')} "
        f"{jax_.get('devices', '')}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items()),
    ]


def machine_lines(runs: dict[str, Any]) -> list[str]:
    mi = runs["machine_info"]
    x = mi.get("xpnet", {})
    cpu = mi.get("cpu", {})
    blas = (
        ", ".join(
            f"{b['internal_api']} {b['version']} ({b['num_threads']} threads, {b['architecture']})"
            for b in x.get("blas", [])
        )
        or "unknown"
    )
    versions = ", ".join(f"{k} {v}" for k, v in x.get("versions", {}).items())
    commit = (runs["runs"][0].get("commit_info") or {}) if runs["runs"] else {}
    return [
        f"- CPU: {cpu.get('brand_raw', mi.get('processor', '?'))}, "
        f"{x.get('threads', cpu.get('count', '?'))} logical cores",
        f"- Threads: BLAS {blas}; torch.set_num_threads = {x.get('torch_threads', 'n/a')}",
        f"- GPU: {x.get('gpu', 'none')}",
        f"- Python {mi.get('python_version', '?')} ({mi.get('python_implementation', '')}), "
        f"{mi.get('system', '')} {mi.get('release', '')}",
        f"- Libraries: {versions}",
        f"- Commit: {commit.get('id', '?')[:12]}{' (dirty tree)' if commit.get('dirty') else ''}"
        f", run {runs['runs'][0].get('datetime', '?') if runs['runs'] else '?'}",
    ]


def render(runs: dict[str, Any], s: dict[str, Any], plots: Sequence[str]) -> str:
    quick = any(b["extra_info"].get("quick") for b in runs["benchmarks"])
    L = ["# xpnet benchmark report", ""]
    L.append(
        f"Grid: **{'quick' if quick else 'full'}**. Times are the minimum over rounds "
        "of one gradient step (forward, cost, backward, update) unless stated; ratios "
        "compare cells measured in this same run."
    )
    L += ["", "## Machine", "", *machine_lines(runs), *env_lines(s.get("env"))]
    L += ["", "## Performance targets", ""]
    L += _table(
        ["target", "goal", "measured", "status"],
        ([t["target"], t["goal"], t["figure"], f"**{t['status']}**"] for t in s["targets"]),
    )
    L += timing_lines(s.get("timing_file"))
    L += paired_lines(s)
    L += tests_lines(s)
    L += [
        "",
        "## Vectorization: speedup per m × n_x",
        "",
        "Loop cells whose estimated time exceeds the budget are *skipped (budget)*; "
        "they are never extrapolated. `—`: not in this grid.",
    ]
    L += device_tables(s)
    L += speedup_tables(s)
    skipped = sorted({x["reason"] for x in runs["skipped"] if "budget" not in x["reason"]})
    if skipped:
        L += ["", "Other skips: " + "; ".join(skipped)]
    L += ["", "### Where each backend overtakes NumPy (vectorized step)", ""]
    if s["gpu_overtake"]:
        L += _table(
            ["model", "backend", "n_x", "faster than NumPy from m = (and at every larger m)"],
            (
                [o["model"], o["backend"], o["n_x"], o["overtake_m"] or "never (in grid)"]
                for o in s["gpu_overtake"]
            ),
        )
    if not any(o["backend"] in GPU_BACKENDS for o in s["gpu_overtake"]):
        L.append(f"\nCuPy / torch-CUDA: {NO_GPU}.")
    L += ["", "## The lecture's dot product (10⁶ elements)", ""]
    L += _table(
        ["backend", "for-loop", "loop length", "vectorized (`xp.vecdot`)", "speedup", "course"],
        (
            [
                d["backend"],
                _fmt_t(d["loops_s"]),
                # a shorter loop (a GPU: one kernel per element) is scaled to 10⁶
                f"{d['n_loop']:,}" + (" (scaled)" if d["n_loop"] != d["n"] else "")
                if d["n_loop"]
                else "—",
                _fmt_t(d["vectorized_s"]),
                _fmt_x(d["speedup"]),
                "≈300×",
            ]
            for d in s["dot"]
        ),
    )
    L += [
        "",
        "## Roofline: deep [n, n, n, 1] ReLU network",
        "",
        "FLOPs counted are those performed: 2·rows·inner·cols per matmul; the step skips "
        "dA[0] (the gradient with respect to X), so layer 1 does 2 matmuls, layers 2–3 do 3 "
        "(8 matmuls, not the nominal 9). Fraction = time of the step's matmuls alone (same "
        "shapes, same transposed operands) / step time, both timed alternately in one loop "
        "(*paired*); *separate* divides the two separately benchmarked cells, which drift "
        "apart on a shared machine.",
        "",
    ]
    L += _table(
        [
            "backend",
            "n",
            "m",
            "dtype",
            "step",
            "step GFLOP/s",
            "matmul GFLOP/s",
            "fraction (paired)",
            "fraction (separate)",
            "nominal GFLOP/s (3/layer)",
            "step / matmuls (device events)",
        ],
        (
            [
                r["backend"],
                r["n"],
                r["m"],
                r["dtype"],
                _fmt_t(r.get("step_s")),
                f"{r['step_gflops']:.1f}" if "step_gflops" in r else "—",
                f"{r['matmul_gflops']:.1f}" if "matmul_gflops" in r else "—",
                f"{r['fraction']:.1%}" if "fraction" in r else "—",
                f"{r['fraction_separate']:.1%}" if "fraction_separate" in r else "—",
                f"{r['nominal_flops'] / r['step_s'] / 1e9:.1f}" if "step_s" in r else "—",
                f"{_fmt_t(r.get('gpu_step_s'))} / {_fmt_t(r.get('gpu_matmul_s'))}"
                if r.get("gpu_step_s")
                else "—",
            ]
            for r in s["roofline"]
        ),
    )
    if not any(r["backend"] in GPU_BACKENDS for r in s["roofline"]):
        L += ["", f"Roofline against same-run cuBLAS (CuPy / torch-CUDA): {NO_GPU}."]
    L += ["", "## Abstraction cost (xpnet on NumPy / hand-written NumPy step)", ""]
    L += [
        "*ratio* divides the minima of two separately benchmarked cells; *paired ratio* "
        "times the two steps alternately in one loop (same machine conditions for both) "
        "and is the figure the target is judged on.",
        "",
    ]
    L += _table(
        [
            "layers",
            "m",
            "dtype",
            "hand-written",
            "xpnet kernels",
            "ratio",
            "paired ratio",
            "public API",
            "ratio",
        ],
        (
            [
                "x".join(map(str, a["dims"])),
                a["m"],
                a["dtype"],
                _fmt_t(a["handwritten_s"]),
                _fmt_t(a["xpnet_s"]),
                f"{a['ratio']:.3f}×" if a["ratio"] else "—",
                f"{a['paired_ratio']:.3f}×" if a["paired_ratio"] else "—",
                _fmt_t(a["xpnet_public_s"]),
                f"{a['ratio_public']:.3f}×" if a["ratio_public"] else "—",
            ]
            for a in s["abstraction"]
        ),
    )
    L += ["", "## Peers (ratio = xpnet step time / peer step time; < 1 means xpnet is faster)", ""]
    L += [
        "*paired* ratios time xpnet's step and torch's `nn.Sequential` step alternately in "
        "one loop; *xpnet on torch* runs xpnet's kernels on the torch backend, so both sides "
        "use the same BLAS and thread pool.",
        "",
    ]
    L += _table(
        [
            "layers",
            "m",
            "dtype",
            "xpnet NumPy",
            "torch CPU",
            "xpnet/torch",
            "paired xpnet/torch",
            "xpnet on torch / torch nn (paired)",
            "sklearn MLP",
            "xpnet/sklearn",
            "cupy/torch-CUDA",
        ],
        (
            [
                "x".join(map(str, p["dims"])),
                p["m"],
                p["dtype"],
                _fmt_t(p["times_s"].get("numpy:xpnet")),
                _fmt_t(p["times_s"].get("torch:torch_nn")),
                _fmt_x(p["vs_torch_cpu"]),
                _fmt_x(p["paired_numpy_vs_torch_cpu"]),
                _fmt_x(p["paired_torch_vs_torch_cpu"]),
                _fmt_t(p["times_s"].get("numpy:sklearn_mlp")),
                _fmt_x(p["vs_sklearn"]),
                _fmt_x(p["cupy_vs_torch_cuda"]) if s["gpu_ran"] else NO_GPU,
            ]
            for p in s["peers"]
        ),
    )
    L += latency_lines(s)
    L += gpu_peer_lines(s)
    if s["dask"]:
        L += ["", "## Dask scaling", ""]
        L += _table(
            ["test", "m", "client peak MB", "Dask s/iter", "NumPy s/iter", "ratio"],
            (
                [
                    d["name"],
                    d["m"],
                    d["client_peak_mb"],
                    _fmt_t(d["time_per_iter_s"]),
                    _fmt_t(d["numpy_time_per_iter_s"]),
                    _fmt_x(d.get("ratio_vs_numpy")),
                ]
                for d in s["dask"]
            ),
        )
    if plots:
        L += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(L) + "\n"


# ----------------------------------------------------------------------------- plots


def plot(s: dict[str, Any], out: Path) -> list[str]:
    """Speedup vs m (one line per n_x) and time vs m per impl (log-log), per backend."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    files = []
    cells = s["vectorization"]["cells"]
    for backend in sorted({c["backend"] for c in cells}):
        models = sorted({c["model"] for c in cells if c["backend"] == backend})
        fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.6), squeeze=False)
        for ax, model in zip(axes[0], models, strict=True):
            sub = [c for c in cells if c["backend"] == backend and c["model"] == model]
            for n_x in sorted({c["n_x"] for c in sub}):
                pts = sorted(
                    (c["m"], c["speedup_vs_loops"])
                    for c in sub
                    if c["n_x"] == n_x and c["speedup_vs_loops"]
                )
                if pts:
                    ax.plot(*zip(*pts, strict=True), marker="o", label=f"n_x={n_x}")
            ax.set(
                xscale="log",
                yscale="log",
                xlabel="m",
                ylabel="vectorized speedup vs loops",
                title=f"{model} ({backend})",
            )
            ax.grid(True, which="major", alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
        fig.tight_layout()
        name = f"speedup_vs_m_{backend}.png"
        fig.savefig(out / name, dpi=80)
        plt.close(fig)
        files.append(name)
        for model in models:
            sub = [c for c in cells if c["backend"] == backend and c["model"] == model]
            n_xs = sorted({c["n_x"] for c in sub})
            fig, axes = plt.subplots(
                1, len(n_xs), figsize=(3.2 * len(n_xs), 3.2), squeeze=False, sharey=True
            )
            for ax, n_x in zip(axes[0], n_xs, strict=True):
                for impl in ("loops", "per_example", "vectorized"):
                    pts = sorted(
                        (c["m"], c[f"{impl}_s"]) for c in sub if c["n_x"] == n_x and c[f"{impl}_s"]
                    )
                    if pts:
                        ax.plot(*zip(*pts, strict=True), marker="o", label=impl)
                ax.set(xscale="log", yscale="log", xlabel="m", title=f"n_x={n_x}")
                ax.grid(True, alpha=0.3)
            axes[0][0].set_ylabel(f"s per step ({model}, {backend})")
            if axes[0][0].get_legend_handles_labels()[0]:
                axes[0][0].legend(fontsize=7)
            fig.tight_layout()
            name = f"time_vs_m_{backend}_{model}.png"
            fig.savefig(out / name, dpi=80)
            plt.close(fig)
            files.append(name)
    return files


# ----------------------------------------------------------------------------- entry


def _clean(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def build_report(
    paths: Sequence[str | Path],
    out: str | Path,
    junit: str | Path | None = None,
    env: str | Path | None = None,
    timing: str | Path | None = None,
) -> dict[str, Any]:
    """Write results.json, speedups.json, report.md and the plots to ``out``; ``junit``
    (pytest's JUnit XML) adds the tests per backend, ``env`` (ci/gpu/env.py's env.json)
    the GPU machine.

    Returns the analysis (the content of speedups.json).
    """
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
    plots = plot(s, out)
    (out / "report.md").write_text(render(runs, s, plots))
    return s


def summary(s: dict[str, Any]) -> str:
    """The speedup tables and the targets, for the terminal (``xpnet bench``, this script)."""
    lines = [*speedup_tables(s), "", "## Performance targets", ""]
    for t in s["targets"]:
        lines.append(f"- {t['target']}: {t['figure']} (goal {t['goal']}) -> {t['status']}")
    return "\n".join(lines)


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
