"""Turn pytest-benchmark JSON from ``benchmarks/`` into a report directory.

    python ci/report.py RAW.json [RAW2.json ...] --out DIR [--junit XML --env JSON --timing TXT]

writes ``DIR/results.json`` (the raw runs, merged), ``DIR/speedups.json`` (every figure the
report shows; ci/targets.py and ci/gate.py read it), ``DIR/report.md`` and PNG plots (speedup
vs m, time vs m per impl), one set per device. Every time is the *minimum* over rounds per
gradient step, the figure least disturbed by other work on a shared machine; medians stay in
results.json. Pivots are pandas ``pivot_table``s, tables ``DataFrame.to_markdown``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import targets  # noqa: E402 - ci/targets.py: the one table of targets, shared with gate.py
from targets import GPU_BACKENDS, NO_GPU  # noqa: E402

IMPLS = ("loops", "per_example", "vectorized")
STATS = ("min", "max", "mean", "median", "stddev", "rounds")

# ----------------------------------------------------------------------------- loading


def load_runs(paths: Iterable[str | Path]) -> dict[str, Any]:
    """Merge pytest-benchmark JSON files into one dict: benchmarks, skipped, machine_info,
    runs. A ``results.json`` this module wrote is read back as it is (a committed report
    can be rebuilt from its own results file)."""
    merged: dict[str, Any] = {"benchmarks": [], "skipped": [], "machine_info": {}, "runs": []}
    for path in paths:
        data = json.loads(Path(path).read_text())
        merged["machine_info"] = merged["machine_info"] or data.get("machine_info", {})
        if "runs" in data:
            for key in ("runs", "benchmarks", "skipped"):
                merged[key] += data.get(key, [])
            continue
        merged["runs"].append(
            {k: data[k] for k in ("datetime", "version", "commit_info") if k in data}
        )
        merged["benchmarks"] += [
            {
                "name": b["name"],
                "fullname": b["fullname"],
                "params": b.get("params") or {},
                "stats": {k: b["stats"][k] for k in STATS},
                "extra_info": b.get("extra_info", {}),
            }
            for b in data.get("benchmarks", [])
        ]
        merged["skipped"] += data.get("xpnet_skipped", [])
    return merged


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
            }
        )
    return out


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
                cell = {k: e[k] for k in _CELL_KEYS if k in e}
                out.append(
                    {
                        "file": _file(b),
                        "key": key,
                        "cell": cell,
                        "names": list(times),
                        "times_s": times,
                        "ratio": rec["ratio"],
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


# ----------------------------------------------------------------------------- markdown


def _t(t: float | None) -> str:
    if t is None or t != t:  # None or NaN (a pandas gap)
        return "—"
    unit, scale = next(
        ((u, k) for u, k in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)) if t >= k), ("ns", 1e-9)
    )
    return f"{t / scale:.3g} {unit}"


def _x(x: float | None) -> str:
    return "—" if x is None or x != x else f"{x:,.0f}×" if x >= 100 else f"{x:.3g}×"


def _md(header: Sequence[str], body: Iterable[Sequence[Any]]) -> list[str]:
    """A markdown table (``DataFrame.to_markdown``); None shows as —."""
    cells = [["—" if c is None else str(c) for c in r] for r in body]
    return (
        pd.DataFrame(cells, columns=list(header))
        .to_markdown(index=False, disable_numparse=True)
        .splitlines()
    )


def _table(rows: Iterable[dict[str, Any]], spec: dict[str, Any]) -> list[str]:
    """``spec``: header -> key or function of the row. A key ending in ``_s`` is a time, one
    starting with ``vs_`` or ``paired_`` a ratio."""

    def cell(r: dict[str, Any], f: Any) -> Any:
        if callable(f):
            return f(r)
        return (
            _t(r.get(f))
            if f.endswith("_s")
            else _x(r.get(f))
            if f.startswith(("vs_", "paired_"))
            else r.get(f)
        )

    return _md(list(spec), ([cell(r, f) for f in spec.values()] for r in rows))


def _dims(r: dict[str, Any]) -> str:
    return "x".join(map(str, r["dims"]))


def _speedup_text(c: pd.Series, impl: str) -> str:
    if pd.notna(c[f"speedup_vs_{impl}"]):
        return f"{_x(c[f'speedup_vs_{impl}'])} ({_t(c['vectorized_s'])})"
    reason = c.get(f"{impl}_skipped")
    return (
        ("skipped (budget)" if "budget" in reason else "skipped")
        if isinstance(reason, str)
        else "—"
    )


def speedup_tables(s: dict[str, Any]) -> list[str]:
    """The vectorized step's speedup over each loop impl, m × n_x, per model and backend."""
    cells, lines = pd.DataFrame(s["vectorization"]["cells"]), []
    for (model, backend), sub in cells.groupby(["model", "backend"]) if len(cells) else []:
        for impl in IMPLS[:2]:
            skipped = sub.get(f"{impl}_skipped", pd.Series(dtype=object))
            if not (sub[f"{impl}_s"].notna().any() or skipped.notna().any()):
                continue  # not in this run's grid (a GPU run leaves NumPy's loops out)
            text = sub.assign(text=sub.apply(_speedup_text, axis=1, impl=impl))
            grid = text.pivot_table(
                index="m", columns="n_x", values="text", aggfunc="first"
            ).fillna("—")
            title = f"{model}, {backend}: vectorized speedup over `{impl}`"
            lines.append(f"\n**{title}** (vectorized time in brackets)\n")
            lines += _md(
                ["", *(f"n_x={n}" for n in grid.columns)],
                ([f"m={m}", *r] for m, r in zip(grid.index, grid.values.tolist(), strict=True)),
            )
    return lines


def device_tables(s: dict[str, Any]) -> list[str]:
    """The vectorized step's time per device side by side, per model (device-event time in
    brackets), and each backend's speedup over NumPy at the same cell."""
    cells, lines = pd.DataFrame(s["vectorization"]["cells"]), []
    cells = cells[cells["vectorized_s"].notna()] if len(cells) else cells
    for model, sub in cells.groupby("model") if len(cells) else []:
        backends = sorted(sub["backend"].unique(), key=lambda b: (b != "numpy", b))
        if len(backends) < 2 and not set(backends) & set(GPU_BACKENDS):
            continue
        t = sub.pivot_table(index=["n_x", "m"], columns="backend", values="vectorized_s")
        ev = sub.pivot_table(
            index=["n_x", "m"], columns="backend", values="vectorized_gpu_s"
        ).reindex_like(t)
        table = t.index.to_frame(index=False).astype(str)
        for b in backends:
            table[b] = [
                (_t(x) + (f" ({_t(e)} events)" if e == e else "")) if x == x else "—"
                for x, e in zip(t[b], ev[b], strict=True)
            ]
        for b in [b for b in backends if b != "numpy"]:
            ratios = list(map(_x, t["numpy"] / t[b])) if "numpy" in t else "—"
            table[f"{b} / NumPy speedup"] = ratios
        lines += ["", f"**{model}: vectorized step per device** " + INTRO["device"], ""]
        lines += table.to_markdown(index=False, disable_numparse=True).splitlines()
    if not (len(cells) and cells["backend"].isin(GPU_BACKENDS).any()):
        lines += ["", f"CuPy / torch-CUDA columns: {NO_GPU}."]
    return lines


def summary(s: dict[str, Any]) -> str:
    """The speedup tables and the targets, for the terminal (``xpnet bench``, this script)."""
    lines = [*speedup_tables(s), "", "## Performance targets", ""]
    for t in s["targets"]:
        lines.append(f"- {t['target']}: {t['figure']} (goal {t['goal']}) -> {t['status']}")
    return "\n".join(lines)


def machine_lines(runs: dict[str, Any], env: dict[str, Any] | None) -> list[str]:
    """The machine from pytest-benchmark's machine_info, and the GPU machine as
    ci/gpu/env.py recorded it (``env``)."""
    mi, commit = runs["machine_info"], (runs["runs"] or [{}])[0]
    x, cpu = mi.get("xpnet", {}), mi.get("cpu", {})
    blas = ", ".join(
        f"{b['internal_api']} {b['version']} ({b['num_threads']} threads, {b['architecture']})"
        for b in x.get("blas", [])
    )
    git = commit.get("commit_info") or {}
    lines = [
        f"- CPU: {cpu.get('brand_raw', mi.get('processor', '?'))}, "
        f"{x.get('threads', cpu.get('count', '?'))} logical cores",
        f"- Threads: BLAS {blas or 'unknown'}; "
        f"torch.set_num_threads = {x.get('torch_threads', 'n/a')}",
        f"- GPU: {x.get('gpu', 'none')}",
        f"- Python {mi.get('python_version', '?')} ({mi.get('python_implementation', '')}), "
        f"{mi.get('system', '')} {mi.get('release', '')}",
        "- Libraries: " + ", ".join(f"{k} {v}" for k, v in x.get("versions", {}).items()),
        f"- Commit: {git.get('id', '?')[:12]}{' (dirty tree)' if git.get('dirty') else ''}, "
        f"run {commit.get('datetime', '?')}",
    ]
    if env:
        smi = env.get("nvidia_smi_query", {})
        torch_, cupy_, jax_ = (
            env[k] if isinstance(env.get(k), dict) else {} for k in ("torch", "cupy", "jax")
        )
        lines += [
            f"- nvidia-smi ({smi.get('fields', '?')}): {smi.get('value', '?')}",
            f"- CUDA: torch built for {torch_.get('cuda_build', '?')}, "
            f"CuPy runtime {cupy_.get('runtime', '?')} / "
            f"driver API {cupy_.get('driver_api', '?')}; nvcc {env.get('nvcc', '?')}",
            f"- GPU (torch): {torch_.get('name', 'none')}, "
            f"{torch_.get('multiprocessors', '?')} SMs, {torch_.get('memory_gib', '?')} GiB; "
            f"JAX backend {jax_.get('backend', '?')} {jax_.get('devices', '')}",
            "- Versions: " + ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items()),
        ]
    return lines


TIMING_NOTES = {
    "rc 0": "ok",
    "rc 5": "ok (every cell skipped)",
    "rc 130": "interrupted",
    "rc 124": "time limit reached: "
    "the cells finished before it are in this report, the others are missing",
}


def timing_rows(timing: str | Path | None) -> list[list[str]]:
    """The steps of ci/gpu/run.sh (its timing.txt): step, seconds, result."""
    out = []
    for line in Path(timing).read_text().splitlines() if timing and Path(timing).is_file() else []:
        name, _, rest = line.partition(" ")
        seconds, _, result = rest.partition(", ")
        note = (
            "no GPU seen (ci/gpu/env.py)"
            if (name, result) == ("env", "rc 1")
            else TIMING_NOTES.get(result, result)
        )
        out.append([name, seconds.split(",")[0], note])
    return out


def _no_gpu(rows: Iterable[dict[str, Any]], what: str) -> list[str]:
    return [] if any(r["backend"] in GPU_BACKENDS for r in rows) else ["", f"{what}: {NO_GPU}."]


def render(runs: dict[str, Any], s: dict[str, Any], plots: Sequence[str]) -> str:
    quick = any(b["extra_info"].get("quick") for b in runs["benchmarks"])
    L = [
        "# xpnet benchmark report",
        "",
        f"Grid: **{'quick' if quick else 'full'}**. " + INTRO["grid"],
    ]
    L += [
        "",
        "## Machine",
        "",
        *machine_lines(runs, s.get("env")),
        "",
        "## Performance targets",
        "",
    ]
    L += _table(
        s["targets"],
        {
            "target": "target",
            "goal": "goal",
            "measured": "figure",
            "status": lambda t: f"**{t['status']}**",
        },
    )
    if timing := timing_rows(s.get("timing_file")):
        L += [
            "",
            "## Steps of the GPU run (ci/gpu/run.sh)",
            "",
            *_md(["step", "time", "result"], timing),
        ]
    if s.get("paired"):
        L += ["", "## Paired ratios (a / b timed alternately in one loop)", "", INTRO["paired"], ""]
        L += _table(
            s["paired"],
            {
                "benchmark": lambda r: f"{r['file']} `{r['key']}`",
                "cell": lambda r: " ".join(
                    "[" + ", ".join(map(str, v)) + "]"
                    if k == "dims"
                    else str(v)
                    if k in ("backend", "impl", "dtype", "hidden", "peer", "solver")
                    else f"{k}={v}"
                    for k, v in r["cell"].items()
                ),
                "a / b": lambda r: " / ".join(r["names"]),
                "a": lambda r: _t(r["times_s"][r["names"][0]]),
                "b": lambda r: _t(r["times_s"][r["names"][1]]),
                "ratio": lambda r: _x(r["ratio"]),
                "compile": lambda r: f"{r['compile_s']:.1f} s" if r.get("compile_s") else None,
            },
        )
    if t := s.get("tests"):
        L += [
            "",
            "## Tests per backend",
            "",
            f"From `{Path(t['file']).name}`. " + INTRO["tests"],
            "",
        ]
        L += _table(
            ({"backend": b, **r} for b, r in sorted(t["backends"].items())),
            {k: k for k in ("backend", "passed", "failed", "skipped")}
            | {"failing where NumPy passes": "regressions"},
        )
        L += [
            f"\nSkip reasons on {b}: " + "; ".join(f"`{r}`" for r in rs[:8])
            for b, rs in sorted(t.get("skip_reasons", {}).items())
        ]
    L += [
        "",
        "## Vectorization: speedup per m × n_x",
        "",
        INTRO["vectorization"],
        *device_tables(s),
        *speedup_tables(s),
    ]
    if other := sorted({x["reason"] for x in runs["skipped"] if "budget" not in x["reason"]}):
        L += ["", "Other skips: " + "; ".join(other)]
    L += ["", "### Where each backend overtakes NumPy (vectorized step)", ""]
    if s["gpu_overtake"]:
        L += _table(
            s["gpu_overtake"],
            {
                "model": "model",
                "backend": "backend",
                "n_x": "n_x",
                "faster than NumPy from m = (and at every larger m)": lambda o: (
                    o["overtake_m"] or "never (in grid)"
                ),
            },
        )
    L += _no_gpu(s["gpu_overtake"], "CuPy / torch-CUDA")
    L += ["", "## The lecture's dot product (10⁶ elements)", ""]
    L += _table(
        s["dot"],
        {
            "backend": "backend",
            "for-loop": "loops_s",
            # a shorter loop (a GPU: one kernel per element) is scaled to 10⁶
            "loop length": lambda d: (
                f"{d['n_loop']:,}" + (" (scaled)" if d["n_loop"] != d["n"] else "")
                if d["n_loop"]
                else None
            ),
            "vectorized (`xp.vecdot`)": "vectorized_s",
            "speedup": lambda d: _x(d["speedup"]),
            "course": lambda d: "≈300×",
        },
    )
    L += ["", "## Roofline: deep [n, n, n, 1] ReLU network", "", INTRO["roofline"], ""]
    L += _table(
        s["roofline"],
        {
            "backend": "backend",
            "n": "n",
            "m": "m",
            "dtype": "dtype",
            "step": "step_s",
            "step GFLOP/s": lambda r: f"{r['step_gflops']:.1f}" if "step_gflops" in r else None,
            "matmul GFLOP/s": lambda r: (
                f"{r['matmul_gflops']:.1f}" if "matmul_gflops" in r else None
            ),
            "fraction (paired)": lambda r: f"{r['fraction']:.1%}" if "fraction" in r else None,
            "fraction (separate)": lambda r: (
                f"{r['fraction_separate']:.1%}" if "fraction_separate" in r else None
            ),
            "nominal GFLOP/s (3/layer)": lambda r: (
                f"{r['nominal_flops'] / r['step_s'] / 1e9:.1f}" if "step_s" in r else None
            ),
            "step / matmuls (device events)": lambda r: (
                f"{_t(r['gpu_step_s'])} / {_t(r.get('gpu_matmul_s'))}"
                if r.get("gpu_step_s")
                else None
            ),
        },
    )
    L += _no_gpu(s["roofline"], "Roofline against same-run cuBLAS (CuPy / torch-CUDA)")
    L += [
        "",
        "## Abstraction cost (xpnet on NumPy / hand-written NumPy step)",
        "",
        INTRO["abstraction"],
        "",
    ]
    L += _table(
        s["abstraction"],
        {
            "layers": _dims,
            "m": "m",
            "dtype": "dtype",
            "hand-written": "handwritten_s",
            "xpnet kernels": "xpnet_s",
            **{
                h: (lambda a, k=k: f"{a[k]:.3f}×" if a[k] else None)
                for h, k in (("ratio", "ratio"), ("paired ratio", "paired_ratio"))
            },
            "public API": "xpnet_public_s",
            "public API / hand-written": lambda a: (
                f"{a['ratio_public']:.3f}×" if a["ratio_public"] else None
            ),
        },
    )
    L += [
        "",
        "## Peers (ratio = xpnet step time / peer step time; < 1 means xpnet is faster)",
        "",
        INTRO["peers"],
        "",
    ]
    L += _table(
        s["peers"],
        {
            "layers": _dims,
            "m": "m",
            "dtype": "dtype",
            "xpnet NumPy": lambda p: _t(p["times_s"].get("numpy:xpnet")),
            "torch CPU": lambda p: _t(p["times_s"].get("torch:torch_nn")),
            "xpnet/torch": "vs_torch_cpu",
            "paired xpnet/torch": "paired_numpy_vs_torch_cpu",
            "xpnet on torch / torch nn (paired)": "paired_torch_vs_torch_cpu",
            "xpnet compiled on torch / torch nn (paired)": "paired_torch_compiled_vs_torch_cpu",
            "sklearn MLP": lambda p: _t(p["times_s"].get("numpy:sklearn_mlp")),
            "xpnet/sklearn": "vs_sklearn",
            "cupy/torch-CUDA": lambda p: _x(p["cupy_vs_torch_cuda"]) if s["gpu_ran"] else NO_GPU,
        },
    )
    L += ["", "## Small-network step latency: [20, 8, 1], m = 128", "", INTRO["latency"], ""]
    if s.get("latency"):
        L += _table(
            s["latency"],
            {
                "backend": "backend",
                "dtype": "dtype",
                "device": "device",
                "k": "kernel_count",
                "floor": "floor_s",
                "graph floor": "graph_floor_s",
                "xpnet step": "step_s",
                "step / floor": "vs_floor",
                "step / graph floor": "vs_graph_floor",
                "torch eager": "torch_eager_s",
                "step / eager": "vs_torch_eager",
                "torch compiled": "torch_compiled_s",
                "step / compiled": "vs_torch_compiled",
            },
        )
    L += _no_gpu(s.get("latency") or [], "CuPy / torch-CUDA")
    L += ["", "## Peers on the GPU (xpnet on CuPy and torch-CUDA, torch-CUDA `nn` eager and "
          "`torch.compile`d)", ""]  # fmt: skip
    keys = ("cupy:xpnet", "torch-cuda:xpnet", "torch-cuda:torch_nn", "torch-cuda:torch_nn_compiled")
    if gpu := [
        {**p["times_s"], "layers": _dims(p), "m": p["m"], "dtype": p["dtype"]}
        for p in s["peers"]
        if any(p["times_s"].get(k) for k in keys)
    ]:
        r = lambda a, b: lambda t: _x(t.get(a) and t.get(b) and t[a] / t[b])  # noqa: E731
        L += _table(
            gpu,
            {
                "layers": "layers",
                "m": "m",
                "dtype": "dtype",
                **{
                    h: (lambda t, k=k: _t(t.get(k)))
                    for h, k in zip(
                        ("xpnet CuPy", "xpnet torch-CUDA", "torch nn eager", "torch nn compiled"),
                        keys,
                        strict=True,
                    )
                },
                "CuPy / eager": r(keys[0], keys[2]),
                "CuPy / compiled": r(keys[0], keys[3]),
                "torch-CUDA xpnet / eager": r(keys[1], keys[2]),
            },
        )
    else:
        L.append(NO_GPU + ".")
    if s["dask"]:
        L += ["", "## Dask scaling", ""]
        L += _table(
            s["dask"],
            {
                "test": "name",
                "m": "m",
                "client peak MB": "client_peak_mb",
                "Dask s/iter": "time_per_iter_s",
                "NumPy s/iter": "numpy_time_per_iter_s",
                "ratio": lambda d: _x(d.get("ratio_vs_numpy")),
            },
        )
    if plots:
        L += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(L) + "\n"


INTRO = {  # the prose under the report's headings
    "grid": (
        "Times are the minimum over rounds of one gradient step (forward, cost, backward, update)"
        " unless stated; ratios compare cells measured in this same run."
    ),
    "paired": (
        "Each row times two callables in alternating blocks and keeps the minimum per call "
        "(`_common.paired_min`), so machine drift enters both; compile times, where a cell "
        "compiled, are the first call's."
    ),
    "tests": (
        "*failing where NumPy passes*: the same test id with the backend replaced passed on NumPy."
    ),
    "vectorization": (
        "Loop cells whose estimated time exceeds the budget are *skipped (budget)*; they are "
        "never extrapolated. `—`: not in this grid."
    ),
    "roofline": (
        "FLOPs counted are those performed: 2·rows·inner·cols per matmul; the step skips dA[0] "
        "(the gradient with respect to X), so layer 1 does 2 matmuls, layers 2–3 do 3 (8 matmuls,"
        " not the nominal 9). Fraction = time of the step's matmuls alone (same shapes, same "
        "transposed operands) / step time, both timed alternately in one loop (*paired*); "
        "*separate* divides the two separately benchmarked cells, which drift apart on a shared "
        "machine."
    ),
    "abstraction": (
        "*ratio* divides the minima of two separately benchmarked cells; *paired ratio* times the"
        " two steps alternately in one loop (same machine conditions for both) and is the figure "
        "the target is judged on."
    ),
    "peers": (
        "*paired* ratios time xpnet's step and torch's `nn.Sequential` step alternately in one "
        "loop; *xpnet on torch* runs xpnet's kernels on the torch backend, so both sides use the "
        "same BLAS and thread pool."
    ),
    "latency": (
        "*floor*: k back-to-back launches of a one-element kernel then one synchronization, k = "
        "the step's device operations counted by the torch profiler (CUDA: kernels, memcpy, "
        "memset; CPU: top-level aten operators); *graph floor*: the same k launches replayed as "
        "one CUDA graph. Step and torch times come from the peers benchmark."
    ),
    "device": "(wall time after warm-up and synchronization; device-event time in brackets)",
}


# ----------------------------------------------------------------------------- plots


def plot(s: dict[str, Any], out: Path) -> list[str]:
    """Per backend: speedup vs m (a line per n_x), and per model time vs m per impl, log-log."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    cells, files = pd.DataFrame(s["vectorization"]["cells"]), []
    for backend, by_backend in cells.groupby("backend") if len(cells) else []:
        models = sorted(by_backend["model"].unique())
        fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.6), squeeze=False)
        for ax, (model, sub) in zip(axes[0], by_backend.groupby("model"), strict=True):
            for n_x, line in sub.pivot_table(
                index="m", columns="n_x", values="speedup_vs_loops"
            ).items():
                line.dropna().plot(ax=ax, marker="o", label=f"n_x={n_x}")
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
        files.append(_save(fig, out / f"speedup_vs_m_{backend}.png"))
        for model, sub in by_backend.groupby("model"):
            n_xs = sorted(sub["n_x"].unique())
            fig, axes = plt.subplots(
                1, len(n_xs), figsize=(3.2 * len(n_xs), 3.2), squeeze=False, sharey=True
            )
            for ax, (n_x, cell) in zip(axes[0], sub.groupby("n_x"), strict=True):
                for impl in IMPLS:
                    if (line := cell.set_index("m")[f"{impl}_s"].dropna().sort_index()).size:
                        line.plot(ax=ax, marker="o", label=impl)
                ax.set(xscale="log", yscale="log", xlabel="m", title=f"n_x={n_x}")
                ax.grid(True, alpha=0.3)
            axes[0][0].set_ylabel(f"s per step ({model}, {backend})")
            if axes[0][0].get_legend_handles_labels()[0]:
                axes[0][0].legend(fontsize=7)
            files.append(_save(fig, out / f"time_vs_m_{backend}_{model}.png"))
    return files


def _save(fig: Any, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path.name


# ----------------------------------------------------------------------------- entry


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
