"""The plots of ``ci/report.py``: speedup and time against m, per backend, from the
analysis's vectorization cells (matplotlib, optional: without it there are no plots)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from report_analysis import IMPLS


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
