"""A/B of xpnet's step kernels from two source trees, alternated in one process.

    python ci/ab_kernels.py OLD_ROOT NEW_ROOT [--impl vectorized] [--cells small,large]

OLD_ROOT and NEW_ROOT are checkouts (``git worktree add /tmp/old REV``). Both packages
are imported side by side under other names (``xpnet_a``, ``xpnet_b``), and each cell's
step (forward, cost, backward, update, NumPy, the unchecked kernels ``fit`` runs) is
timed alternately, A then B, call by call; the minimum per call is kept. On a shared
machine two benchmark runs minutes apart drift by 10-20 % (the same code measured a
[2048]^3 paired abstraction ratio of 0.87 and 1.11 on two runs); alternating inside one
process exposes both trees to the same conditions, so their ratio is the figure to
judge a regression on.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

#: name -> (layer_dims, hidden activation, m, dtype)
CELLS = {
    "logreg": ([1000, 1], None, 1000, "float64"),
    "shallow": ([1000, 4, 1], "tanh", 1000, "float64"),
    "tiny": ([20, 8, 1], "relu", 128, "float32"),
    "mid": ([256, 256, 256, 1], "relu", 512, "float32"),
    "large": ([1024, 1024, 1024, 1], "relu", 2048, "float32"),
    "roofline": ([2048, 2048, 2048, 1], "relu", 4096, "float32"),
}


def load(name: str, root: str | Path) -> ModuleType:
    """The xpnet package of checkout ``root`` as module ``name``."""
    src = Path(root).resolve() / "src" / "xpnet"
    spec = importlib.util.spec_from_file_location(
        name, src / "__init__.py", submodule_search_locations=[str(src)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_step(lib: ModuleType, impl: str, X: Any, Y: Any, params: dict, acts: list[str]):
    """One gradient step with ``lib``'s kernels; either signature of ``total_cost``
    (round 1 took the caches, round 2 the output logits and the output's name)."""
    P = lib.propagation
    activations = [lib.activations.get_activation(a) for a in acts]
    forward, backward = P.IMPLS[impl]
    new_cost = "output" in inspect.signature(P.total_cost).parameters

    def step() -> Any:
        AL, caches = forward(X, params, activations, xp=np)
        if new_cost:
            J = P.total_cost(caches[-1].Z, Y, params, 0.0, output=acts[-1], xp=np)
        else:
            J = P.total_cost(caches, Y, params, 0.0, xp=np)
        grads = backward(AL, Y, caches, 0.0, xp=np)
        return P.update_parameters(params, grads, 0.01), J

    return step


def alternate(fa: Callable[[], Any], fb: Callable[[], Any], seconds: float) -> tuple[float, float]:
    """Minimum seconds per call of each, timed A, B, A, B, ... for about ``seconds``."""
    fa(), fb()
    best = [float("inf"), float("inf")]
    end = time.perf_counter() + seconds
    rounds = 0
    while rounds < 5 or time.perf_counter() < end:
        for i, f in enumerate((fa, fb)):
            t0 = time.perf_counter()
            f()
            best[i] = min(best[i], time.perf_counter() - t0)
        rounds += 1
    return best[0], best[1]


def same_math(a: tuple[dict, Any], b: tuple[dict, Any], cell: str) -> None:
    """A timing compares like with like only if both trees compute the same step."""
    (pa, ja), (pb, jb) = a, b
    rtol = 1e-4 if np.asarray(ja).dtype == np.float32 else 1e-10
    for key in pa:
        if not np.allclose(pa[key], pb[key], rtol=rtol, atol=rtol):
            raise SystemExit(f"{cell}: the two trees' updated {key} differ; not the same step")
    if not np.isclose(float(ja), float(jb), rtol=rtol):
        raise SystemExit(f"{cell}: the two trees' costs differ ({float(ja)} vs {float(jb)})")


def problem(dims: list[int], m: int, dtype: str) -> tuple[Any, Any, dict]:
    rng = np.random.default_rng(0)
    dt = np.dtype(dtype)
    X = rng.standard_normal((dims[0], m)).astype(dt)
    Y = (rng.random((1, m)) < 0.5).astype(dt)
    params = {}
    for layer in range(1, len(dims)):
        scale = np.sqrt(2 / dims[layer - 1])
        params[f"W{layer}"] = (rng.standard_normal((dims[layer], dims[layer - 1])) * scale).astype(
            dt
        )
        params[f"b{layer}"] = np.zeros((dims[layer], 1), dt)
    return X, Y, params


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", help="checkout A (the reference)")
    ap.add_argument("new", help="checkout B")
    ap.add_argument("--impl", default="vectorized", help="vectorized, per_example or loops")
    ap.add_argument("--cells", default=",".join(CELLS), help=f"comma list of {list(CELLS)}")
    ap.add_argument(
        "--seconds", type=float, default=6.0, help="timing per cell (at least 5 rounds)"
    )
    args = ap.parse_args(argv)
    a, b = load("xpnet_a", args.old), load("xpnet_b", args.new)
    print(f"A = {args.old}, B = {args.new}; impl {args.impl}; min seconds per step")
    for name in args.cells.split(","):
        dims, hidden, m, dtype = CELLS[name]
        X, Y, params = problem(dims, m, dtype)
        acts = [hidden] * (len(dims) - 2) + ["sigmoid"]
        step_a = make_step(a, args.impl, X, Y, params, acts)
        step_b = make_step(b, args.impl, X, Y, params, acts)
        same_math(step_a(), step_b(), name)
        ta, tb = alternate(step_a, step_b, args.seconds)
        print(f"{name:9s} {dims} m={m} {dtype}: A {ta:.4g} s, B {tb:.4g} s, B/A {tb / ta:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
