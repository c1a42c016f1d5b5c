"""Compiling a pure training step with the backend's own compiler.

This module is the only place in xpnet that calls a compiler (``jax.jit``,
``torch.compile``, CUDA graphs, ``cupy.fuse``); the math modules stay pure Array
API. It compiles a *step*, a pure function of arrays::

    step(params, opt_state, X, Y, lr, rng) -> (params, opt_state, J, rng)

where ``params``/``opt_state`` are dicts of arrays, ``J`` is the cost before the
update (a 0-d array that stays on the device), ``lr`` is a 0-d array and ``rng`` is
the backend's generator state (a JAX PRNG key, or ``None`` without dropout). The
step must not branch in Python on array values, call ``float()``/``bool()``, or
produce shapes that depend on data; static things (layer sizes, activations, λ)
are closed over.

What each ``mode`` does, per backend
------------------------------------
===================  ===========================  ==============================  ===========
backend              ``"auto"`` (the default)     ``True``                        ``False``
===================  ===========================  ==============================  ===========
jax                  ``jax.jit``                  ``jax.jit``                     eager
torch, CPU           eager, then                  ``torch.compile`` (inductor)    eager
                     ``torch.compile`` once the
                     fit is long (see below)
torch, CUDA          eager (not measured yet)     ``torch.compile`` with          eager
                                                  ``mode="reduce-overhead"``
                                                  (CUDA-graph capture)
cupy                 eager                        eager (see below)               eager
numpy, dask,         eager: nothing to compile    eager: nothing to compile       eager
array_api_strict
===================  ===========================  ==============================  ===========

On torch, build the step with ``xp = traceable_namespace(xp)`` (xpnet's kernels
pass Python scalars to ``xp.maximum``, which torch's Array API wrapper promotes in a
way ``torch.compile`` cannot trace); ``NeuralNetwork(compile=...)`` does this itself.

"eager" means the step is returned unchanged (wrapped only to carry
:attr:`CompiledStep.compiler` and :attr:`CompiledStep.reason`). ``True`` asks for
"the backend's compiler if it has one": it never raises on a backend without one.
An explicit compiler name does raise where it cannot apply: ``"jit"`` needs JAX;
``"default"``, ``"reduce-overhead"``, ``"max-autotune"`` and
``"max-autotune-no-cudagraphs"`` are ``torch.compile`` modes and need torch.

Why these defaults (measured on the 2-core CPU, see the README's "Compiled steps"):

* JAX: compiling takes about 1 s (0.8-1.5 s, trace and XLA), and the jitted
  step at [20, 8, 1], m=128 runs 14x faster than eager op-by-op dispatch (118 µs
  against 1.7 ms); the ``lax.scan`` run of 100 steps costs 5.7 µs per step. The
  compile pays for itself within the first few hundred steps.
* torch on CPU: ``torch.compile`` takes 3-10 s for the first call with a warm
  inductor cache and 10-30 s on a fresh machine, the cost of tens of thousands of
  eager steps at the course's sizes, for a steady-state step time of 0.5x (small)
  to 0.9x (large) of the eager one. Whether that pays depends on how long the fit
  runs, which only the fit knows, so ``NeuralNetwork(compile="auto")`` *tiers up*:
  it starts eagerly, times its eager epochs (after the first, which warms up, for
  at least :data:`AUTO_PROBE_S`), and compiles the step once the rest of the fit
  is projected to take at least :data:`AUTO_COMPILE_AFTER_S` (300 s) eagerly: at
  the largest measured steady-state ratio (0.9) that saves 30 s, the top of the
  cold-cache compile range issue 8 reports (15-30 s; the README's table measured
  9.8-19 s here). The course's fits (seconds) stay eager; a fit of minutes on large
  layers compiles. ``fit`` records what ran in ``compiler_``. If the compile fails
  (inductor needs a C++ compiler), "auto" warns and goes on eagerly, where
  ``compile=True`` raises. Fits with dropout stay eager under "auto" (a
  ``torch.Generator`` draw breaks the graph, so the compiled step gains little),
  and so do :func:`compile_step`/:func:`compile_steps` with ``mode="auto"``, which
  see no fit to time.
* torch on CUDA: CUDA-graph capture removes the per-op launch cost, which is what
  dominates small steps on a GPU; without a GPU to measure it here, ``"auto"``
  stays eager and ``True`` captures.
* CuPy: cuBLAS calls cannot be captured in a CUDA graph by CuPy (its
  stream-capture tests assert this), and a step is mostly matmuls. Fusing the
  element-wise work (``cupy.fuse`` / ``ElementwiseKernel``) would need kernels
  written outside the Array API and has not been measured, so the step runs
  eagerly.
* NumPy, Dask, array_api_strict: there is no compiler. (Dask builds a task graph
  lazily already; the training loop decides when to compute it.)
"""

from __future__ import annotations

import functools
import os
import sys
import time
import types
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ._backend import backend_name, device_of, get_namespace

__all__ = [
    "AUTO_COMPILE_AFTER_S",
    "AUTO_PROBE_S",
    "COMPILE_MODES",
    "CompiledStep",
    "TierUp",
    "auto_compile_pays",
    "compile_step",
    "check_mode",
    "compile_steps",
    "resolve_compile",
    "traceable_namespace",
    "training_steps",
]

Step = Callable[..., tuple[Any, Any, Any, Any]]

#: ``torch.compile`` modes accepted as ``mode=``.
TORCH_MODES: tuple[str, ...] = (
    "default",
    "reduce-overhead",
    "max-autotune",
    "max-autotune-no-cudagraphs",
)
#: Every accepted ``mode=`` value besides ``True``/``False``/``None``.
COMPILE_MODES: tuple[str, ...] = ("auto", "eager", "jit", *TORCH_MODES)


#: ``compile="auto"`` on torch CPU compiles the step once the rest of the fit is
#: projected to take at least this many seconds eagerly: at the largest measured
#: steady-state compiled/eager ratio (0.9) compiling then saves at least 30 s, the top
#: of the cold-cache ``torch.compile`` range on the 2-core CPU (15-30 s, issue 8; the
#: README's table measured 9.8-19 s).
AUTO_COMPILE_AFTER_S = 300.0
#: ... after timing the eager epochs (the first one, a warm-up, left out) for at
#: least this many seconds.
AUTO_PROBE_S = 0.5


def auto_compile_pays(elapsed_s: float, epochs_timed: int, epochs_left: int) -> bool:
    """``compile="auto"``'s rule on torch CPU: compile once the rest of the fit, at the
    eager pace measured so far, is projected to take at least ``AUTO_COMPILE_AFTER_S``.

    ``elapsed_s`` is the time of the ``epochs_timed`` eager epochs timed so far; the
    projection is ``elapsed_s / epochs_timed * epochs_left`` seconds.
    """
    if epochs_timed < 1:
        return False
    return elapsed_s / epochs_timed * epochs_left >= AUTO_COMPILE_AFTER_S


def _on_cuda(device: Any) -> bool:
    return getattr(device, "type", None) == "cuda" or str(device).startswith("cuda")


def check_mode(mode: Any) -> Any:
    """``mode`` itself if it is a valid ``compile=`` value, else a ValueError naming them."""
    if mode is None or isinstance(mode, bool) or (isinstance(mode, str) and mode in COMPILE_MODES):
        return mode
    raise ValueError(
        f"compile={mode!r} is not a compile mode; expected True, False, or one of "
        f'{list(COMPILE_MODES)} ("auto" picks per backend)'
    )


def resolve_compile(mode: Any, xp: Any, device: Any = None) -> tuple[str | None, str]:
    """Which compiler ``mode`` picks on backend ``xp`` and ``device``, and why.

    Parameters
    ----------
    mode : "auto", True, False, None, "eager", "jit" or a ``torch.compile`` mode
        See the table in this module's docstring.
    xp : str or namespace
        The backend ("jax", "torch", ...) or its Array API namespace.
    device : optional
        The device the step runs on (torch: CPU or CUDA changes the choice).

    Returns
    -------
    compiler : str or None
        ``"jax.jit"``, ``"torch.compile:<mode>"``, or ``None`` for eager.
    reason : str
        One sentence saying why, for ``repr`` and error messages.

    Raises
    ------
    ValueError
        For an unknown ``mode``, or a compiler name the backend does not have
        (``mode="jit"`` on torch, ``mode="reduce-overhead"`` on NumPy...).
    """
    if isinstance(xp, str | ModuleType):
        xp = get_namespace(xp)
    name = backend_name(xp)
    if check_mode(mode) in (None, False, "eager"):
        return None, "compile=False: the step runs eagerly, op by op"
    if name == "jax":
        if mode in TORCH_MODES:
            raise ValueError(
                f"compile={mode!r} is a torch.compile mode but the backend is JAX; pass "
                "compile=True or 'jit' (jax.jit), or False"
            )
        return "jax.jit", "JAX: jax.jit traces the step once and runs it as one XLA program"
    if mode == "jit":
        raise ValueError(
            f"compile='jit' means jax.jit but the backend is {name!r}; pass compile=True for "
            f"the {name} backend's own compiler (if any), or use backend='jax'"
        )
    if name == "torch":
        cuda = _on_cuda(device)
        if mode in TORCH_MODES:
            return f"torch.compile:{mode}", f"torch.compile(mode={mode!r}) as asked"
        if mode is True:
            tmode = "reduce-overhead" if cuda else "default"
            where = "CUDA graphs capture the step" if cuda else "inductor C++ kernels"
            return f"torch.compile:{tmode}", f"compile=True on torch: {where}"
        # "auto"
        if cuda:
            return None, (
                "compile='auto' on torch-CUDA stays eager: CUDA-graph capture is not "
                "measured yet; pass compile=True to capture the step"
            )
        return None, (
            "compile='auto' on torch CPU starts eagerly: torch.compile costs 10-30 s, "
            "more than a course-sized fit takes; a fit compiles once the rest of it is "
            f"projected to take {AUTO_COMPILE_AFTER_S:.0f} s or more eagerly"
        )
    if mode in TORCH_MODES:
        raise ValueError(
            f"compile={mode!r} is a torch.compile mode but the backend is {name!r}; pass "
            "compile=True (the backend's own compiler, if any) or False"
        )
    if name == "cupy":
        return None, (
            "CuPy runs eagerly: cuBLAS matmuls cannot be captured in a CUDA graph, and "
            "fusing the element-wise work has not been measured"
        )
    return None, f"{name} has no compiler: the step runs eagerly (nothing to compile)"


class CompiledStep:
    """A step (or run of steps) with the compiler that was applied to it.

    Calling it calls the compiled function. Attributes: ``fn`` (what is called),
    ``step`` (the original function), ``backend`` (name), ``compiler``
    (``"jax.jit"``, ``"torch.compile:<mode>"`` or ``None`` for eager) and
    ``reason``.
    """

    def __init__(self, fn: Callable, step: Callable, backend: str, compiler, reason) -> None:
        self.fn = fn
        self.step = step
        self.backend = backend
        self.compiler = compiler
        self.reason = reason

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        what = self.compiler or "eager"
        name = getattr(self.step, "__name__", "step")
        return f"<CompiledStep {name} on {self.backend}: {what} ({self.reason})>"


#: Element-wise functions of the standard that accept a Python scalar operand.
_SCALAR_OPERAND_FUNCTIONS = frozenset(
    {
        "add", "atan2", "copysign", "divide", "equal", "floor_divide", "greater",
        "greater_equal", "hypot", "less", "less_equal", "logaddexp", "maximum", "minimum",
        "multiply", "nextafter", "not_equal", "pow", "remainder", "subtract", "where",
    }
)  # fmt: skip


class _TensorScalars(ModuleType):
    """torch's Array API namespace, with Python-scalar operands made 0-d tensors first.

    array-api-compat promotes a Python scalar in ``xp.maximum(Z, 0.0)`` with
    ``torch.result_type``, which returns a dtype and so breaks a ``torch.compile``
    graph (``fullgraph=True`` refuses it). Turning the scalar into a 0-d tensor of
    the other operand's dtype and device (``torch.as_tensor``, which dynamo traces)
    gives the same values with no break. Only the compiled path uses this wrapper;
    the eager path keeps the Python scalar, which is the fastest on NumPy.
    """

    def __init__(self, xp: ModuleType) -> None:
        super().__init__(xp.__name__)  # array_api_compat.is_torch_namespace(self) holds
        self._xp = xp

    def __repr__(self) -> str:
        return f"<{self.__name__}, Python scalars passed as 0-d tensors (xpnet, for torch.compile)>"

    def __getattr__(self, name: str) -> Any:
        f = getattr(self._xp, name)
        if name in _SCALAR_OPERAND_FUNCTIONS:
            f = _scalars_as_tensors(f)
        setattr(self, name, f)  # looked up once
        return f


def _scalars_as_tensors(f: Callable) -> Callable:
    import torch

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # the dtype to give a scalar: a data operand's, never where()'s boolean condition;
        # only where promotion keeps that dtype (a float tensor, or an int with an int
        # tensor), so every other case stays a Python scalar, promoted as eagerly
        ref = next((a for a in args if isinstance(a, torch.Tensor) and a.dtype != torch.bool), None)
        if ref is not None:
            floating = ref.is_floating_point() or ref.is_complex()
            args = tuple(
                torch.as_tensor(a, dtype=ref.dtype, device=ref.device)
                if isinstance(a, int | float)
                and not isinstance(a, bool)
                and (floating or isinstance(a, int))
                else a
                for a in args
            )
        return f(*args, **kwargs)

    return wrapper


def traceable_namespace(xp: Any) -> ModuleType:
    """The namespace to build a step with before compiling it on ``xp``'s backend.

    torch: a wrapper of the Array API namespace whose element-wise functions take
    Python-scalar operands without breaking a ``torch.compile`` graph (see the
    private ``_TensorScalars`` in this module); xpnet's kernels write
    ``xp.maximum(Z, 0.0)``. Every other backend: the namespace itself (``jax.jit``
    traces Python scalars).
    """
    xp = get_namespace(xp)
    if backend_name(xp) == "torch":
        return _TensorScalars(xp)
    return xp


def _same_order(new: Any, old: Any) -> Any:
    """``new`` with the key order of ``old`` when both are dicts with the same keys."""
    if isinstance(new, dict) and isinstance(old, dict) and new.keys() == old.keys():
        return {k: new[k] for k in old}
    return new


def _keep_key_order(fn: Callable) -> Callable:
    """JAX returns dicts with sorted keys (pytree order: W1, W2, b1, b2); give the new
    params and opt_state the order of the ones passed in (W1, b1, W2, b2)."""

    @functools.wraps(fn)
    def ordered(params, opt_state, *rest):
        p, s, *out = fn(params, opt_state, *rest)
        return (_same_order(p, params), _same_order(s, opt_state), *out)

    return ordered


def _torch_compile(step: Step, tmode: str, fullgraph: bool) -> Callable:
    import torch

    # fullgraph=True: a step that breaks the graph (a Python branch on a value, a
    # .item()) fails loudly instead of silently running half eagerly. dynamic=False:
    # one specialised graph per shape, as the loop keeps shapes fixed.
    return torch.compile(_own_code(step), mode=tmode, fullgraph=fullgraph, dynamic=False)


def _own_code(fn: Callable) -> Callable:
    """``fn`` with a code object of its own (same code, same closure).

    Dynamo keeps its compiled graphs per code object, and every step that
    :func:`xpnet.training.make_step` builds is a closure of the same code: the
    ninth model compiled in one process (a grid search, a benchmark session) hit
    torch's recompile limit (8) and, with ``fullgraph=True``, failed. A copy of
    the code object gives each compiled step its own cache entry; inductor's
    on-disk cache still serves identical graphs.
    """
    if not isinstance(fn, types.FunctionType):
        return fn
    own = types.FunctionType(
        fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__
    )
    own.__kwdefaults__ = fn.__kwdefaults__
    own.__qualname__, own.__doc__, own.__module__ = fn.__qualname__, fn.__doc__, fn.__module__
    return own


def compile_step(
    step: Step,
    backend: Any,
    *,
    mode: Any = "auto",
    device: Any = None,
    donate: bool = True,
    fullgraph: bool = True,
) -> CompiledStep:
    """Compile a pure training step with the backend's own compiler.

    Parameters
    ----------
    step : callable
        ``step(params, opt_state, X, Y, lr, rng) -> (params, opt_state, J, rng)``,
        a pure function of arrays (see the module docstring). It is never edited;
        the backend's compiler traces it.
    backend : str or namespace
        "jax", "torch", "numpy", ... or the namespace the arrays belong to.
    mode : "auto" (default), True, False, "eager", "jit" or a torch.compile mode
        What to compile with; the module docstring has the table per backend.
    device : optional
        Device of the arrays (matters for torch: CUDA graphs only on CUDA).
    donate : bool
        JAX only: donate the ``params`` and ``opt_state`` buffers to the jitted
        step, so XLA updates them in place. The arrays passed in are then deleted
        (reading them raises); keep a copy if you need the old values. Ignored
        elsewhere.
    fullgraph : bool
        torch only: ``torch.compile(fullgraph=...)``. True (default) makes any graph
        break an error; pass False for a step that draws from a ``torch.Generator``
        (dropout), which dynamo cannot put in a graph, so the draw runs eagerly
        between two compiled graphs.

    Returns
    -------
    CompiledStep
        Callable like ``step``; ``.compiler`` says what was applied.

    Examples
    --------
    >>> run = xpnet.compile_step(step, "jax")            # doctest: +SKIP
    >>> params, opt_state, J, key = run(params, opt_state, X, Y, lr, key)  # doctest: +SKIP
    """
    if not callable(step):
        raise TypeError(f"step must be a callable, got {type(step).__name__}")
    if not isinstance(donate, bool):
        raise TypeError(f"donate must be True or False, got {donate!r}")
    xp = get_namespace(backend)
    name = backend_name(xp)
    compiler, reason = resolve_compile(mode, xp, device)
    if compiler is None:
        fn: Callable = step
    elif compiler == "jax.jit":
        import jax

        fn = _keep_key_order(jax.jit(step, donate_argnums=(0, 1) if donate else ()))
    else:
        tmode = compiler.split(":", 1)[1]
        fn = _torch_compile(step, tmode, fullgraph)
        if _on_cuda(device) and tmode in CUDA_GRAPH_MODES:
            fn = _outputs_kept(fn)
    return CompiledStep(fn, step, name, compiler, reason)


#: torch.compile modes that replay CUDA graphs on CUDA tensors.
CUDA_GRAPH_MODES = ("reduce-overhead", "max-autotune")


def _outputs_kept(fn: Callable) -> Callable:
    """A CUDA-graph step whose outputs outlive the next call.

    A CUDA graph writes every replay's outputs into the same static buffers, so the
    next call overwrites (torch's CUDA-graph trees: frees) what the last one returned.
    The training loop keeps earlier outputs: the parameters of the last epoch whose cost
    was finite (restored on divergence), the costs it reads later. Each call is marked
    as a new step (``torch.compiler.cudagraph_mark_step_begin``) and its tensors are
    cloned out of the graph's pool: one device copy of the parameters per step, small
    beside the launches a graph saves."""
    import torch

    def call(*args: Any) -> Any:
        torch.compiler.cudagraph_mark_step_begin()
        return _map_tensors(torch.clone, fn(*args), torch.Tensor)

    return call


def _map_tensors(f: Callable, tree: Any, kind: type) -> Any:
    """``f`` applied to every ``kind`` leaf of nested tuples, lists and dicts."""
    if isinstance(tree, kind):
        return f(tree)
    if isinstance(tree, dict):
        return {k: _map_tensors(f, v, kind) for k, v in tree.items()}
    if isinstance(tree, tuple | list):
        return type(tree)(_map_tensors(f, v, kind) for v in tree)
    return tree


def _check_lrs(lrs: Any) -> None:
    """A run's learning rates: a 1-d array, one per step (0 steps give 0 costs)."""
    if getattr(lrs, "ndim", None) != 1:
        raise ValueError(
            f"lrs must be a 1-d array with one learning rate per step of the run, got shape "
            f"{getattr(lrs, 'shape', type(lrs).__name__)}; e.g. xp.asarray([0.01] * n)"
        )


def _scan_run(step: Step) -> Callable:
    """The run of n full-batch steps as one ``lax.scan``: costs J[0..n-1] stacked."""
    import jax

    def run(params, opt_state, X, Y, lrs, rng):
        _check_lrs(lrs)

        def body(carry, lr):
            p, s, r = carry
            p, s, J, r = step(p, s, X, Y, lr, r)
            return (p, s, r), J

        (params, opt_state, rng), costs = jax.lax.scan(body, (params, opt_state, rng), lrs)
        return params, opt_state, costs, rng

    return run


def compile_steps(
    step: Step,
    backend: Any,
    *,
    mode: Any = "auto",
    device: Any = None,
    donate: bool = True,
    fullgraph: bool = True,
) -> CompiledStep:
    """Compile the run of n full-batch steps between two recording iterations.

    ``run(params, opt_state, X, Y, lrs, rng) -> (params, opt_state, costs, rng)``
    applies ``step`` ``n = lrs.shape[0]`` times to the same ``X``, ``Y``, with
    learning rate ``lrs[i]`` at step i (a 1-d array, so a decay schedule costs no
    recompile), and returns ``costs`` of shape (n,): ``costs[i]`` is J before
    update i. No value leaves the device inside the run.

    On JAX the whole run is one ``jax.lax.scan`` under ``jax.jit`` (one dispatch
    per run instead of one per step; a new n compiles once more). On every other
    backend, or with ``mode=False``, the run is a Python loop over the step
    (compiled as :func:`compile_step` would), and ``costs`` is stacked with
    ``xp.stack``.

    Parameters are those of :func:`compile_step`.
    """
    if not callable(step):
        raise TypeError(f"step must be a callable, got {type(step).__name__}")
    if not isinstance(donate, bool):
        raise TypeError(f"donate must be True or False, got {donate!r}")
    xp = get_namespace(backend)
    name = backend_name(xp)
    compiler, reason = resolve_compile(mode, xp, device)
    if compiler == "jax.jit":
        import jax

        fn = _keep_key_order(jax.jit(_scan_run(step), donate_argnums=(0, 1) if donate else ()))
        reason = "JAX: the run of steps is one jax.lax.scan under jax.jit"
        return CompiledStep(fn, step, name, "jax.jit+scan", reason)
    one = compile_step(step, xp, mode=mode, device=device, donate=donate, fullgraph=fullgraph)

    @functools.wraps(step)
    def loop(params, opt_state, X, Y, lrs, rng):
        _check_lrs(lrs)
        costs = []
        for i in range(lrs.shape[0]):
            params, opt_state, J, rng = one.fn(params, opt_state, X, Y, lrs[i], rng)
            costs.append(J)
        if not costs:  # no step: no cost, as jax.lax.scan over zero steps gives
            return params, opt_state, xp.zeros((0,), dtype=lrs.dtype, device=device_of(lrs)), rng
        return params, opt_state, xp.stack(costs), rng

    return CompiledStep(loop, step, name, one.compiler, one.reason)


def training_steps(
    make_step: Callable[..., Step],
    config: Any,
    xp: ModuleType,
    *,
    mode: Any,
    device: Any = None,
) -> dict[str, CompiledStep]:
    """The compiled callables :func:`xpnet.training.train` takes, for ``compile=mode``.

    Empty when ``mode`` resolves to eager on this backend (``train`` then builds its
    eager steps), except for ``"auto"`` on torch CPU without dropout: ``tier_up``, a
    :class:`TierUp` holding the compiled step that ``train`` switches to once the
    fit is long enough. Otherwise ``step`` (compiled once and used for every epoch: the
    cost it adds at non-recording epochs is one reduction, cheaper than a second
    compilation of a step without it), and on JAX with full batches ``run``, the
    epochs between two recordings as one ``lax.scan`` (:func:`compile_steps`).
    Nothing is donated: the loop keeps the parameters of the last finite cost.
    """
    compiler, _ = resolve_compile(mode, xp, device)
    if compiler is None:
        if mode == "auto" and backend_name(xp) == "torch" and not _on_cuda(device):
            if config.dropout:
                return {}

            def build() -> CompiledStep:  # only on the switch: importing dynamo costs ~2 s
                step = make_step(config, xp=traceable_namespace(xp))
                return compile_step(step, xp, mode=True, device=device, donate=False)

            return {"tier_up": TierUp(_or_eager(build, make_step(config, xp=xp)))}
        return {}
    step = make_step(config, xp=traceable_namespace(xp))
    # dropout draws from a torch.Generator, which torch.compile cannot capture
    full = not config.dropout
    out = {"step": compile_step(step, xp, mode=mode, device=device, donate=False, fullgraph=full)}
    out["step_without_cost"] = out["step"]
    if compiler == "jax.jit" and config.batch_size is None:
        out["run"] = compile_steps(step, xp, mode=mode, device=device, donate=False)
    return out


def _or_eager(build: Callable[[], CompiledStep], eager: Step) -> CompiledStep:
    """The step ``build()`` compiles, built at its first call, falling back to ``eager``
    (with a ``RuntimeWarning``) when building it or a call that compiles fails: the
    first call, and the first with new shapes or dtypes (a smaller last mini-batch, a
    refit with other data), as ``dynamic=False`` compiles once per shape. What
    ``compile="auto"`` switches to, so that a machine where ``torch.compile`` cannot
    run (no C++ toolchain for inductor, a Python it does not support) still trains;
    ``compile=True`` raises instead. ``eager`` computes the same step."""
    compiled: list[CompiledStep] = []
    seen: set[tuple] = set()

    def call(params, opt_state, X, Y, lr, rng):
        key = (tuple(X.shape), X.dtype, *((k, tuple(p.shape), p.dtype) for k, p in params.items()))
        if key in seen:
            return compiled[0].fn(params, opt_state, X, Y, lr, rng)
        try:
            if not compiled:
                compiled.append(build())
            out = compiled[0].fn(params, opt_state, X, Y, lr, rng)
        except Exception as exc:  # noqa: BLE001 - any compiler failure, reported below
            warnings.warn(
                f"compile='auto': {result.compiler} failed ({type(exc).__name__}: "
                f"{str(exc)[:300]}); the fit goes on eagerly. Pass compile=False to "
                "skip the attempt, or compile=True to see the error",
                RuntimeWarning,
                stacklevel=_outside_xpnet(),
            )
            result.fn, result.compiler = eager, None
            result.reason = "torch.compile failed: running eagerly"
            return eager(params, opt_state, X, Y, lr, rng)
        seen.add(key)
        return out

    reason = "compile='auto' on torch CPU: the fit is long enough for torch.compile to pay"
    result = CompiledStep(call, eager, "torch", "torch.compile:default", reason)
    return result


def _outside_xpnet() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside xpnet."""
    package = os.path.dirname(os.path.abspath(__file__))
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


class TierUp:
    """``compile="auto"`` on torch CPU: start eagerly, compile once the fit is long.

    Holds the compiled ``step``; :meth:`watch` starts the clock of one ``train`` call.
    The rule is :func:`auto_compile_pays`; see this module's docstring for why.
    """

    def __init__(self, step: CompiledStep) -> None:
        self.step = step

    def watch(self, clock: Callable[[], float] = time.perf_counter) -> _TierUpClock:
        """A clock for one ``train`` call (``clock`` reads seconds; tests pass their own)."""
        return _TierUpClock(clock)


class _TierUpClock:
    """Times the eager epochs of one ``train`` call and says when to switch."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.t0: float | None = None
        self.epochs_timed = 0

    def after_epoch(self, epochs_left: int) -> bool | None:
        """Call after each eager epoch: True (switch to ``tier_up.step`` now), False
        (stay eager for the rest of the fit) or None (not decided yet)."""
        now = self.clock()
        if self.t0 is None:  # the first epoch warms up (allocations, caches): not timed
            self.t0 = now
            return None if epochs_left > 0 else False
        self.epochs_timed += 1
        elapsed = now - self.t0
        if epochs_left == 0:
            return False
        if elapsed < AUTO_PROBE_S:
            return None
        return auto_compile_pays(elapsed, self.epochs_timed, epochs_left)
