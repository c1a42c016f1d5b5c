"""The markdown half of ``ci/report.py``: the analysis (``report_analysis.analyse``) in,
report.md out.

The report is a list of sections. Most are a :class:`Section`, plain data: a heading, the
prose under it, the analysis rows it shows and its columns (header -> a row key or a
function of the row; a key ending in ``_s`` is shown as a time, one starting with ``vs_``
or ``paired_`` as a ratio). A section whose content is not one table is a function
``(runs, s) -> lines``. Adding a table to the report means adding a row to ``LAYOUT``;
adding a target means adding a row to ``ci/targets.py``; neither touches :func:`render`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from report_analysis import IMPLS
from targets import GPU_BACKENDS, NO_GPU

INTRO = {  # the prose under the report's headings
    "grid": (
        "Times are the minimum over rounds of one gradient step (forward, cost, backward, update)"
        " unless stated; ratios compare cells measured in this same run."
    ),
    "paired": (
        "Each row times two callables in alternating blocks and keeps the minimum per call "
        "(`_common.paired_min`), so machine drift enters both; compile times, where a cell "
        "compiled, are the first call's. A cell run in several processes (the same test id in "
        "several result files of one commit) shows the median run's pair, with every "
        "run's ratio after it."
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
        "same BLAS and thread pool. *compile='auto' on torch runs*: what `NeuralNetwork("
        'compile="auto")` runs on torch CPU in a fit of the default length (3,000 '
        "iterations), by the library's rule applied to the measured eager step: it compiles "
        "once the rest of the fit is projected to take 300 s or more eagerly."
    ),
    "latency": (
        "*floor*: k back-to-back launches of a one-element kernel then one synchronization, k = "
        "the step's device operations counted by the torch profiler (CUDA: kernels, memcpy, "
        "memset; CPU: top-level aten operators); *graph floor*: the same k launches replayed as "
        "one CUDA graph. Step and torch times come from the peers benchmark."
    ),
    "device": "(wall time after warm-up and synchronization; device-event time in brackets)",
}


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
    if not git.get("id") and env and isinstance(env.get("commit"), dict):
        git = env["commit"]  # a GPU run's tree has no .git: fetch_wheels.sh stamped it
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


# ----------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class Section:
    """One table of the report.

    ``rows`` is the analysis key (or a function of the analysis) giving the rows;
    ``when_empty`` says what an empty section shows: ``"table"`` the heading and an
    empty table, ``"heading"`` the heading alone, ``"omit"`` nothing. ``no_gpu`` names
    the GPU rows that a run without CuPy / torch-CUDA rows lacks (a line saying so).
    """

    heading: str
    rows: str | Callable[[dict[str, Any]], list[dict[str, Any]]]
    columns: dict[str, Any]
    intro: str | None = None
    when_empty: str = "table"
    no_gpu: str | None = None

    def lines(self, runs: dict[str, Any], s: dict[str, Any]) -> list[str]:
        rows = (s.get(self.rows) if isinstance(self.rows, str) else self.rows(s)) or []
        if not rows and self.when_empty == "omit":
            return []
        out = ["", self.heading, ""] + ([self.intro, ""] if self.intro else [])
        if rows or self.when_empty == "table":
            out += _table(rows, self.columns)
        if self.no_gpu:
            out += _no_gpu(rows, self.no_gpu)
        return out


def _cell_text(cell: dict[str, Any]) -> str:
    return " ".join(
        "[" + ", ".join(map(str, v)) + "]"
        if k == "dims"
        else str(v)
        if k in ("backend", "impl", "dtype", "hidden", "peer", "solver")
        else f"{k}={v}"
        for k, v in cell.items()
    )


def _opt(fmt: str, key: str) -> Callable[[dict[str, Any]], str | None]:
    """A column showing ``fmt.format(row[key])``, or — where the row lacks it."""
    return lambda r: fmt.format(r[key]) if r.get(key) is not None else None


TARGETS = Section(
    "## Performance targets",
    "targets",
    {
        "target": "target",
        "goal": "goal",
        "measured": "figure",
        "status": lambda t: f"**{t['status']}**",
    },
)

PAIRED = Section(
    "## Paired ratios (a / b timed alternately in one loop)",
    "paired",
    {
        "benchmark": lambda r: f"{r['file']} `{r['key']}`",
        "cell": lambda r: _cell_text(r["cell"]),
        "a / b": lambda r: " / ".join(r["names"]),
        "a": lambda r: _t(r["times_s"][r["names"][0]]),
        "b": lambda r: _t(r["times_s"][r["names"][1]]),
        "ratio": lambda r: (
            _x(r["ratio"])
            + (f" (runs: {', '.join(f'{v:.3f}' for v in r['runs'])})" if r.get("runs") else "")
        ),
        "compile": lambda r: f"{r['compile_s']:.1f} s" if r.get("compile_s") else None,
    },
    intro=INTRO["paired"],
    when_empty="omit",
)

OVERTAKE = Section(
    "### Where each backend overtakes NumPy (vectorized step)",
    "gpu_overtake",
    {
        "model": "model",
        "backend": "backend",
        "n_x": "n_x",
        "faster than NumPy from m = (and at every larger m)": lambda o: (
            o["overtake_m"] or "never (in grid)"
        ),
    },
    when_empty="heading",
    no_gpu="CuPy / torch-CUDA",
)

DOT = Section(
    "## The lecture's dot product (10⁶ elements)",
    "dot",
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

ROOFLINE = Section(
    "## Roofline: deep [n, n, n, 1] ReLU network",
    "roofline",
    {
        "backend": "backend",
        "n": "n",
        "m": "m",
        "dtype": "dtype",
        "step": "step_s",
        "step GFLOP/s": _opt("{:.1f}", "step_gflops"),
        "matmul GFLOP/s": _opt("{:.1f}", "matmul_gflops"),
        "fraction (paired)": _opt("{:.1%}", "fraction"),
        "fraction (separate)": _opt("{:.1%}", "fraction_separate"),
        "nominal GFLOP/s (3/layer)": lambda r: (
            f"{r['nominal_flops'] / r['step_s'] / 1e9:.1f}" if "step_s" in r else None
        ),
        "step / matmuls (device events)": lambda r: (
            f"{_t(r['gpu_step_s'])} / {_t(r.get('gpu_matmul_s'))}" if r.get("gpu_step_s") else None
        ),
    },
    intro=INTRO["roofline"],
    no_gpu="Roofline against same-run cuBLAS (CuPy / torch-CUDA)",
)

ABSTRACTION = Section(
    "## Abstraction cost (xpnet on NumPy / hand-written NumPy step)",
    "abstraction",
    {
        "layers": _dims,
        "m": "m",
        "dtype": "dtype",
        "hand-written": "handwritten_s",
        "xpnet kernels": "xpnet_s",
        "ratio": _opt("{:.3f}×", "ratio"),
        "paired ratio": _opt("{:.3f}×", "paired_ratio"),
        "public API": "xpnet_public_s",
        "public API / hand-written": _opt("{:.3f}×", "ratio_public"),
    },
    intro=INTRO["abstraction"],
)


def _peers_columns(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "layers": _dims,
        "m": "m",
        "dtype": "dtype",
        "xpnet NumPy": lambda p: _t(p["times_s"].get("numpy:xpnet")),
        "torch CPU": lambda p: _t(p["times_s"].get("torch:torch_nn")),
        "xpnet/torch": "vs_torch_cpu",
        "paired xpnet/torch": "paired_numpy_vs_torch_cpu",
        "xpnet on torch / torch nn (paired)": "paired_torch_vs_torch_cpu",
        "xpnet compiled on torch / torch nn (paired)": "paired_torch_compiled_vs_torch_cpu",
        "compile='auto' on torch runs": lambda p: p.get("auto_picks") or "—",
        "sklearn MLP": lambda p: _t(p["times_s"].get("numpy:sklearn_mlp")),
        "xpnet/sklearn": "vs_sklearn",
        "cupy/torch-CUDA": lambda p: _x(p["cupy_vs_torch_cuda"]) if s["gpu_ran"] else NO_GPU,
    }


def peers(runs: dict[str, Any], s: dict[str, Any]) -> list[str]:
    """The peer table; its GPU column reads "not run" in a run without a GPU."""
    return Section(
        "## Peers (ratio = xpnet step time / peer step time; < 1 means xpnet is faster)",
        "peers",
        _peers_columns(s),
        intro=INTRO["peers"],
    ).lines(runs, s)


LATENCY = Section(
    "## Small-network step latency: [20, 8, 1], m = 128",
    "latency",
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
    intro=INTRO["latency"],
    when_empty="heading",
    no_gpu="CuPy / torch-CUDA",
)

_GPU_PEERS = (
    "cupy:xpnet",
    "torch-cuda:xpnet",
    "torch-cuda:torch_nn",
    "torch-cuda:torch_nn_compiled",
)


def _gpu_peer_rows(s: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**p["times_s"], "layers": _dims(p), "m": p["m"], "dtype": p["dtype"]}
        for p in s["peers"]
        if any(p["times_s"].get(k) for k in _GPU_PEERS)
    ]


def _over(a: str, b: str) -> Callable[[dict[str, Any]], str]:
    return lambda t: _x(t.get(a) and t.get(b) and t[a] / t[b])


GPU_PEERS = Section(
    "## Peers on the GPU (xpnet on CuPy and torch-CUDA, torch-CUDA `nn` eager and "
    "`torch.compile`d)",
    _gpu_peer_rows,
    {
        "layers": "layers",
        "m": "m",
        "dtype": "dtype",
        **{
            h: (lambda t, k=k: _t(t.get(k)))
            for h, k in zip(
                ("xpnet CuPy", "xpnet torch-CUDA", "torch nn eager", "torch nn compiled"),
                _GPU_PEERS,
                strict=True,
            )
        },
        "CuPy / eager": _over(_GPU_PEERS[0], _GPU_PEERS[2]),
        "CuPy / compiled": _over(_GPU_PEERS[0], _GPU_PEERS[3]),
        "torch-CUDA xpnet / eager": _over(_GPU_PEERS[1], _GPU_PEERS[2]),
    },
    when_empty="heading",
)


def gpu_peers(runs: dict[str, Any], s: dict[str, Any]) -> list[str]:
    lines = GPU_PEERS.lines(runs, s)
    return lines if _gpu_peer_rows(s) else [*lines, NO_GPU + "."]


DASK = Section(
    "## Dask scaling",
    "dask",
    {
        "test": "name",
        "m": "m",
        "client peak MB": "client_peak_mb",
        "Dask s/iter": "time_per_iter_s",
        "NumPy s/iter": "numpy_time_per_iter_s",
        "ratio": lambda d: _x(d.get("ratio_vs_numpy")),
    },
    when_empty="omit",
)


def timing(runs: dict[str, Any], s: dict[str, Any]) -> list[str]:
    if rows := timing_rows(s.get("timing_file")):
        return [
            "",
            "## Steps of the GPU run (ci/gpu/run.sh)",
            "",
            *_md(["step", "time", "result"], rows),
        ]
    return []


def tests(runs: dict[str, Any], s: dict[str, Any]) -> list[str]:
    if not (t := s.get("tests")):
        return []
    lines = [
        "",
        "## Tests per backend",
        "",
        f"From `{Path(t['file']).name}`. " + INTRO["tests"],
        "",
    ]
    lines += _table(
        ({"backend": b, **r} for b, r in sorted(t["backends"].items())),
        {k: k for k in ("backend", "passed", "failed", "skipped")}
        | {"failing where NumPy passes": "regressions"},
    )
    return lines + [
        f"\nSkip reasons on {b}: " + "; ".join(f"`{r}`" for r in rs[:8])
        for b, rs in sorted(t.get("skip_reasons", {}).items())
    ]


def vectorization(runs: dict[str, Any], s: dict[str, Any]) -> list[str]:
    lines = ["", "## Vectorization: speedup per m × n_x", "", INTRO["vectorization"]]
    lines += [*device_tables(s), *speedup_tables(s)]
    if other := sorted({x["reason"] for x in runs["skipped"] if "budget" not in x["reason"]}):
        lines += ["", "Other skips: " + "; ".join(other)]
    return lines


#: The report after its title and machine, in order.
LAYOUT: tuple[Section | Callable[[dict[str, Any], dict[str, Any]], list[str]], ...] = (
    TARGETS,
    timing,
    PAIRED,
    tests,
    vectorization,
    OVERTAKE,
    DOT,
    ROOFLINE,
    ABSTRACTION,
    peers,
    LATENCY,
    gpu_peers,
    DASK,
)


def render(runs: dict[str, Any], s: dict[str, Any], plots: Sequence[str]) -> str:
    """report.md: the title, the machine, the sections of :data:`LAYOUT`, the plots."""
    quick = any(b["extra_info"].get("quick") for b in runs["benchmarks"])
    lines = [
        "# xpnet benchmark report",
        "",
        f"Grid: **{'quick' if quick else 'full'}**. " + INTRO["grid"],
    ]
    lines += ["", "## Machine", "", *machine_lines(runs, s.get("env"))]
    for part in LAYOUT:
        lines += part.lines(runs, s) if isinstance(part, Section) else part(runs, s)
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"
