"""The performance targets as data: one table, read by ``ci/report.py`` (each target's
figure and MET / MISSED) and by ``ci/gate.py`` (the CI gate's wide margins).

A row names what is measured, the issue's goal, and the function that reads its figures
(labelled ratios) from the analysis that ``ci/report.py`` writes to ``speedups.json``.
Adding a benchmark or a target means adding a row here; neither the rendering nor the
gate changes.

``goal`` is the issue's target (None: a gate-only check); ``gate`` is the margin CI fails
on, far wider than run-to-run noise (None: not gated), judged on ``gate_measure`` (default
``measure``). ``gpu`` rows need a CUDA backend and read "not run: no GPU in this run"
without one. ``reported`` rows are met by giving the figures at all (the issue asks for
them, not for a threshold).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GPU_BACKENDS = ("cupy", "torch-cuda")
NO_GPU = "not run: no GPU in this run"
NOT_MEASURED = "not measured in this run"

Figures = list[tuple[str, float]]
OPS = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Target:
    key: str
    title: str
    op: str  # ">=" or "<=": the direction in which the figure is good
    goal: float | None
    measure: Callable[[dict[str, Any]], Figures]
    gate: float | None = None
    gate_measure: Callable[[dict[str, Any]], Figures] | None = None
    gate_title: str | None = None  # what the gate checks, where gate_measure differs
    unit: str = "×"  # "×" for ratios, "%" for fractions, "" for counts
    gpu: bool = False
    reported: bool = False

    def fmt(self, v: float) -> str:
        if self.unit == "%":
            return f"{v:.1%}"
        if self.unit == "×":
            return f"{v:,.0f}×" if v >= 100 else f"{v:.3g}×"
        return f"{v:g}"

    @property
    def goal_text(self) -> str:
        if self.reported:
            return "given"
        if self.goal is None:
            return "—"
        return f"{self.op.replace('>=', '≥').replace('<=', '≤')} {self.fmt(self.goal)}"

    def worst(self, figures: Figures) -> float:
        values = [v for _, v in figures]
        return min(values) if self.op == ">=" else max(values)

    def evaluate(self, s: dict[str, Any]) -> dict[str, Any]:
        """This target's row of the report: figure, worst value and status."""
        figures = self.measure(s)
        if not figures:
            status = NO_GPU if self.gpu and not s.get("gpu_ran") else NOT_MEASURED
            return {
                "key": self.key,
                "target": self.title,
                "goal": self.goal_text,
                "figure": status,
                "value": None,
                "status": status,
            }
        figure = "; ".join(
            f"{label}: {self.fmt(v)}" if label else self.fmt(v) for label, v in figures
        )
        if not all(math.isfinite(v) for _, v in figures):
            # a NaN cell is a measurement that failed: min()/max() would skip it or not,
            # by its position, and the row could read MET on the cells that are left
            return {
                "key": self.key,
                "target": self.title,
                "goal": self.goal_text,
                "figure": figure,
                "value": None,
                "status": NOT_MEASURED,
            }
        worst = self.worst(figures)
        ok = self.reported or OPS[self.op](worst, self.goal)
        return {
            "key": self.key,
            "target": self.title,
            "goal": self.goal_text,
            "figure": figure,
            "value": worst,
            "status": "MET" if ok else "MISSED",
        }

    def gate_checks(self, s: dict[str, Any]) -> list[tuple[str, float | None, str, float]]:
        """(description, figure, op, gate threshold) for ci/gate.py."""
        if self.gate is None:
            return []
        figures = (self.gate_measure or self.measure)(s)
        title = self.gate_title or self.title
        if not figures:
            return [(title, None, self.op, self.gate)]
        return [
            (f"{title}{': ' + lbl if lbl else ''}", v, self.op, self.gate) for lbl, v in figures
        ]


# ----------------------------------------------------------------------------- measures


def _dims(d: list[int]) -> str:
    return "x".join(map(str, d))


def runs_note(runs: list[float] | None) -> str:
    """The label's note for a paired ratio combined from several runs
    (``report_analysis.combine_repeats``): ", median of 3 runs: 0.92-1.01×"; "" for one."""
    if not runs or len(runs) < 2:
        return ""
    return f", median of {len(runs)} runs: {min(runs):.3g}–{max(runs):.3g}×"


def _vec_speedup(model: str, n_x: int, m: int, backend: str = "numpy") -> Callable:
    def measure(s: dict[str, Any]) -> Figures:
        return [
            ("", c["speedup_vs_loops"])
            for c in s["vectorization"]["cells"]
            if (c["model"], c["backend"], c["n_x"], c["m"]) == (model, backend, n_x, m)
            and c["speedup_vs_loops"]
        ]

    return measure


def _vec_numpy_m1000(s: dict[str, Any]) -> Figures:
    return [
        (f"{c['model']} m={c['m']} n_x={c['n_x']}", c["speedup_vs_loops"])
        for c in s["vectorization"]["cells"]
        if c["backend"] == "numpy" and c["m"] >= 1000 and c["speedup_vs_loops"]
    ]


def _dot_numpy(s: dict[str, Any]) -> Figures:
    return [("", d["speedup"]) for d in s["dot"] if d["backend"] == "numpy" and d["speedup"]]


def _roofline(backends: tuple[str, ...], n: int, m: int, dtypes: tuple[str, ...]) -> Callable:
    def measure(s: dict[str, Any]) -> Figures:
        rows = [
            r
            for r in s["roofline"]
            if r["backend"] in backends
            and (r["n"], r["m"]) == (n, m)
            and r["dtype"] in dtypes
            and "fraction" in r
        ]
        label = len(backends) > 1 or len(dtypes) > 1
        return [(f"{r['backend']} {r['dtype']}" if label else "", r["fraction"]) for r in rows]

    return measure


def _each_gpu_backend(measure: Callable[[dict[str, Any]], Figures]) -> Callable:
    """``measure`` with a NaN figure for every GPU backend it has no cell of, once a GPU
    ran: a target asked of CuPy *and* torch-CUDA is not met by one of them."""

    def each(s: dict[str, Any]) -> Figures:
        figures = measure(s)
        if not figures and not s.get("gpu_ran"):
            return []
        seen = {label.split()[0] for label, _ in figures}
        return figures + [(f"{b}: no cell", math.nan) for b in GPU_BACKENDS if b not in seen]

    return each


def _roofline_largest_numpy_f32(s: dict[str, Any]) -> Figures:
    rows = [
        r
        for r in s["roofline"]
        if r["backend"] == "numpy" and r["dtype"] == "float32" and "fraction" in r
    ]
    if not rows:
        return []
    r = max(rows, key=lambda r: r["n"] * r["m"])
    return [(f"n={r['n']} m={r['m']} float32", r["fraction"])]


def _abstraction(dims: list[int], m: int) -> Callable:
    def measure(s: dict[str, Any]) -> Figures:
        # judged on the interleaved (paired) ratio where the run measured one
        return [
            (
                f"{a['dtype']}{', paired' if a['paired_ratio'] else ''}"
                f"{runs_note(a.get('paired_runs'))}",
                a["paired_ratio"] or a["ratio"],
            )
            for a in s["abstraction"]
            if a["dims"] == dims and a["m"] == m and (a["paired_ratio"] or a["ratio"])
        ]

    return measure


def _abstraction_all(s: dict[str, Any]) -> Figures:
    """Every cell, by its interleaved (paired) ratio where the run measured one: separate
    cells of a few milliseconds drift apart on a loaded machine (11x seen on 2 cores)."""
    return [
        (
            f"{_dims(a['dims'])} m={a['m']} {a['dtype']}{', paired' if a['paired_ratio'] else ''}"
            f"{runs_note(a.get('paired_runs'))}",
            a["paired_ratio"] or a["ratio"],
        )
        for a in s["abstraction"]
        if a["paired_ratio"] or a["ratio"]
    ]


def _vs_torch_cpu(backend: str) -> Callable:
    def measure(s: dict[str, Any]) -> Figures:
        key = f"paired_{backend}_vs_torch_cpu"
        rows = [(p, p[key]) for p in s["peers"] if p.get(key)]
        if backend == "numpy" and not rows:  # a run without paired timings
            rows = [(p, p["vs_torch_cpu"]) for p in s["peers"] if p["vs_torch_cpu"]]
        return [
            (
                f"{_dims(p['dims'])} m={p['m']} {p['dtype']}"
                f"{runs_note(p.get(f'paired_{backend}_runs'))}",
                r,
            )
            for p, r in rows
        ]

    return measure


def _torch_auto_vs_torch_cpu(s: dict[str, Any]) -> Figures:
    """xpnet on the torch backend, running what ``compile="auto"`` runs in a fit of the
    default length (eager, or compiled once the fit is long), / torch nn, paired. Where
    auto compiles but the run had no compiled cell (the quick grid), the eager pair
    stands in, labelled so: an approximation either way, as compiled/eager at the
    largest sizes has measured 0.93-1.02 (not always faster)."""
    out = []
    for p in s["peers"]:
        pick, ratio = p.get("auto_picks"), p.get("paired_torch_auto_vs_torch_cpu")
        runs = p.get("paired_torch_auto_runs")
        if pick == "compiled (not run)":
            pick, ratio = "compiled cell not run, eager shown", p["paired_torch_vs_torch_cpu"]
            runs = p.get("paired_torch_runs")
        if pick and ratio:
            label = f"{_dims(p['dims'])} m={p['m']} {p['dtype']} ({pick}{runs_note(runs)})"
            out.append((label, ratio))
    if not out:  # a run from before "auto" tiered up on torch: the eager pairs
        return _vs_torch_cpu("torch")(s)
    return out


def _dask_vs_numpy(m: int) -> Callable:
    def measure(s: dict[str, Any]) -> Figures:
        return [
            (f"m={d['m']:,} {d['name'].split('[')[-1].rstrip(']')}", d["ratio_vs_numpy"])
            for d in s.get("dask", [])
            if d["m"] == m and d.get("ratio_vs_numpy")
        ]

    return measure


def _vs_torch_cpu_largest(s: dict[str, Any]) -> Figures:
    rows = [p for p in s["peers"] if p.get("paired_numpy_vs_torch_cpu") or p["vs_torch_cpu"]]
    if not rows:
        return []
    p = max(rows, key=lambda p: p["m"] * sum(p["dims"]))
    paired = p.get("paired_numpy_vs_torch_cpu")
    label = f"{_dims(p['dims'])} m={p['m']} {p['dtype']}{', paired' if paired else ''}"
    return [(label, paired or p["vs_torch_cpu"])]


def _cupy_vs_torch_cuda_large(s: dict[str, Any]) -> Figures:
    return [
        (f"{_dims(p['dims'])} m={p['m']} {p['dtype']}", p["cupy_vs_torch_cuda"])
        for p in s["peers"]
        if p["m"] >= 2048 and p.get("cupy_vs_torch_cuda")
    ]


def _torch_cuda_compiled_small(s: dict[str, Any]) -> Figures:
    """xpnet's compiled (CUDA-graph) step on torch-CUDA / torch's eager nn step on CUDA,
    interleaved, at the small net [20, 8, 1] m=128."""
    key = "paired_torch_cuda_compiled_vs_torch_cuda"
    return [
        (f"{_dims(p['dims'])} m={p['m']} {p['dtype']}", p[key])
        for p in s["peers"]
        if p["dims"] == [20, 8, 1] and p["m"] == 128 and p.get(key)
    ]


def _gpu_tests(s: dict[str, Any]) -> Figures:
    """Per GPU backend (cupy, torch-cuda, JAX): tests that pass on NumPy but fail (or
    error) there. JAX counts only where the run's env record (ci/gpu/env.py) shows JAX on
    a GPU; a backend with no test run there gives NaN, which reads "not measured"."""
    runs = (s.get("tests") or {}).get("backends", {})
    jax_env = (s.get("env") or {}).get("jax")
    jax_gpu = isinstance(jax_env, dict) and jax_env.get("backend") in ("gpu", "cuda")
    on_gpu = any(b in runs for b in GPU_BACKENDS) or (jax_gpu and "jax" in runs)
    if not on_gpu and not s.get("gpu_ran"):
        return []  # no GPU run: the row reads "not run: no GPU"
    out = []
    for b in ("cupy", "torch-cuda", "jax"):
        r = runs.get(b)
        if not r or r["passed"] + r["failed"] == 0 or (b == "jax" and not jax_gpu):
            # every GPU backend is asked for: one whose tests all skipped (or that ran
            # on the CPU) is a hole in the run, never a pass
            why = "JAX not on a GPU" if b == "jax" and r and not jax_gpu else "no test ran"
            out.append((f"{b}: {why}", math.nan))
            continue
        out.append(
            (
                f"{b}: {r['passed']} passed, {r['skipped']} skipped; failing where NumPy passes",
                r["regressions"],
            )
        )
    return out


def _gpu_vectorized(s: dict[str, Any]) -> Figures:
    n = {}
    for c in s["vectorization"]["cells"]:
        if c["backend"] in GPU_BACKENDS and c["vectorized_s"]:
            n[c["backend"]] = n.get(c["backend"], 0) + 1
    return [(f"{b} cells", float(k)) for b, k in sorted(n.items())]


def _small_net(s: dict[str, Any]) -> Figures:
    out = []
    for r in s.get("latency", []):
        if r["backend"] not in GPU_BACKENDS:
            continue
        for key, label in (
            ("vs_floor", "/ floor"),
            ("vs_torch_eager", "/ torch eager"),
            ("vs_torch_compiled", "/ torch compiled"),
        ):
            if r.get(key):
                out.append((f"{r['backend']} {r['dtype']} {label}", r[key]))
    return out


def _paired(file: str, key: str, **where: Any) -> Callable:
    """The paired ratios ``file`` stored under ``key`` in cells matching ``where``: a
    value, or a tuple of the values allowed (that key then stays in the label)."""

    def matches(v: Any, want: Any) -> bool:
        return v in want if isinstance(want, tuple) else v == want

    fixed = {k for k, v in where.items() if not isinstance(v, tuple)}

    def measure(s: dict[str, Any]) -> Figures:
        out = []
        for r in s.get("paired") or []:
            cell = r["cell"]
            if r["file"] != file or r["key"] != key:
                continue
            if not all(matches(cell.get(k), v) for k, v in where.items()):
                continue
            label = " ".join(
                f"{k}={cell[k]}" if k in ("m", "batch_size") else
                ("x".join(map(str, cell[k])) if k == "dims" else str(cell[k]))
                for k in ("backend", "solver", "hidden", "dims", "m", "batch_size", "dtype")
                if k in cell and k not in fixed
            )  # fmt: skip
            out.append((label + runs_note(r.get("runs")), r["ratio"]))
        return out

    return measure


TARGETS: tuple[Target, ...] = (
    Target(
        "vec_logreg",
        "vectorized vs loops, m=1000, n_x=1000, NumPy (logreg)",
        ">=",
        500,
        _vec_speedup("logreg", 1000, 1000),
        gate=20.0,
        gate_measure=_vec_numpy_m1000,
        gate_title="vectorized/loops speedup, NumPy, m >= 1000",
    ),
    Target(
        "vec_shallow",
        "vectorized vs loops, m=1000, n_x=1000, NumPy (shallow)",
        ">=",
        500,
        _vec_speedup("shallow", 1000, 1000),
    ),
    Target("dot", "dot product 1e6: loop / vectorized, NumPy", ">=", None, _dot_numpy, gate=5.0),
    Target(
        "roofline_numpy",
        "roofline n=2048, m=4096, float32, NumPy (fraction of same-run matmul throughput)",
        ">=",
        0.85,
        _roofline(("numpy",), 2048, 4096, ("float32",)),
        gate=0.40,
        gate_measure=_roofline_largest_numpy_f32,
        unit="%",
        gate_title="roofline fraction, largest NumPy float32 cell",
    ),
    Target(
        "abstraction_tiny",
        "abstraction cost [20, 8, 1] m=128 (xpnet / hand-written NumPy)",
        "<=",
        1.15,
        _abstraction([20, 8, 1], 128),
        gate=2.0,
        gate_measure=_abstraction_all,
        gate_title="abstraction cost (paired where measured)",
    ),
    Target(
        "abstraction_large",
        "abstraction cost [2048, 2048, 2048, 1] m=4096 (xpnet / hand-written NumPy)",
        "<=",
        1.02,
        _abstraction([2048, 2048, 2048, 1], 4096),
    ),
    Target(
        "vs_torch_numpy",
        "xpnet step on NumPy (default backend) / PyTorch CPU nn step, "
        "every size measured (interleaved pairs)",
        "<=",
        1.0,
        _vs_torch_cpu("numpy"),
        gate=3.0,
        gate_measure=_vs_torch_cpu_largest,
        gate_title="xpnet/torch CPU, largest cell",
    ),
    Target(
        "vs_torch_torch",
        "xpnet step on torch backend (what compile='auto' runs in a default-length fit; "
        "compile time excluded) / PyTorch CPU nn step, every size measured (interleaved pairs)",
        "<=",
        1.0,
        _torch_auto_vs_torch_cpu,
    ),
    Target(
        "gpu_tests",
        "tests passing on NumPy that fail on cupy / torch-cuda / JAX (GPU run)",
        "<=",
        0,
        _gpu_tests,
        unit="",
        gpu=True,
    ),
    Target(
        "gpu_vectorization",
        "vectorization table per device: GPU column beside NumPy's",
        ">=",
        None,
        _gpu_vectorized,
        unit="",
        gpu=True,
        reported=True,
    ),
    Target(
        "gpu_roofline",
        "GPU roofline n=2048, m=4096 (fraction of same-run cuBLAS)",
        ">=",
        0.85,
        _each_gpu_backend(_roofline(GPU_BACKENDS, 2048, 4096, ("float32", "float64"))),
        unit="%",
        gpu=True,
    ),
    Target(
        "gpu_vs_torch_cuda",
        "xpnet CuPy step / torch-CUDA nn step, large sizes (m ≥ 2048)",
        "<=",
        1.0,
        _cupy_vs_torch_cuda_large,
        gpu=True,
    ),
    Target(
        "gpu_torch_compiled_small",
        "xpnet compiled on torch-CUDA (CUDA graphs) / torch-CUDA eager nn step, [20, 8, 1] "
        "m=128 (interleaved pairs)",
        "<=",
        0.5,
        _torch_cuda_compiled_small,
        gpu=True,
    ),
    Target(
        "gpu_small_net",
        "small-net step [20, 8, 1] m=128: multiple of the launch-bound "
        "floor, and vs torch-CUDA eager / compiled",
        "<=",
        None,
        _small_net,
        gpu=True,
        reported=True,
    ),
    # -- round 2: compiled steps (issue 8), the second course (9), multi-class (10)
    Target(
        "jax_fit_vs_jit",
        "fit per iteration on JAX (compiled) / hand-written jitted JAX step, float32",
        "<=",
        1.15,
        _paired("bench_fit", "paired", backend="jax", impl="xpnet-fit"),
    ),
    Target(
        "numpy_fit_vs_loop",
        "whole fit on NumPy (2,000 it., [20,8,1] m=128) / hand-written NumPy loop",
        "<=",
        1.05,
        _paired("bench_fit", "paired", backend="numpy", impl="xpnet-fit"),
    ),
    Target(
        "dask_vs_numpy",
        "Dask full-batch iteration / NumPy in the same process, m=10⁶ x n_x=100",
        "<=",
        1.3,
        _dask_vs_numpy(1_000_000),
    ),
    Target(
        "adam_epoch_vs_torch",
        "one epoch of mini-batch Adam [784,128,1] m=60000 / torch nn + torch.optim.Adam",
        "<=",
        1.0,
        # not --quick's 6,000; the CPU backends the issue names (the GPU cells: below)
        _paired("bench_optimizers", "paired_torch_nn", m=60_000, backend=("numpy", "torch")),
    ),
    Target(
        "adam_epoch_gpu",
        "one epoch of mini-batch Adam [784,128,1] m=60000 on the GPU: xpnet on CuPy and "
        "torch-CUDA / torch nn + torch.optim.Adam on CUDA",
        "<=",
        None,
        _each_gpu_backend(
            _paired("bench_optimizers", "paired_torch_nn", m=60_000, backend=GPU_BACKENDS)
        ),
        gpu=True,
        reported=True,
    ),
    Target(
        "adam_epoch_vs_sklearn",
        "one epoch of mini-batch Adam [784,128,1] m=60000 / MLPClassifier(solver='adam')",
        "<=",
        1.0,
        _paired("bench_optimizers", "paired_sklearn_mlp", m=60_000),
    ),
    Target(
        "digits_fit_vs_sklearn",
        "NeuralNetworkClassifier.fit / MLPClassifier.fit on digits, NumPy",
        "<=",
        1.0,
        _paired("bench_sklearn", "paired_sklearn"),
    ),
)


def evaluate(s: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's target rows (gate-only rows, without a goal, are left out)."""
    return [t.evaluate(s) for t in TARGETS if t.goal is not None or t.reported]


def gate_checks(s: dict[str, Any]) -> list[tuple[str, float | None, str, float]]:
    """Every gate check of every row, for ci/gate.py."""
    return [c for t in TARGETS for c in t.gate_checks(s)]
