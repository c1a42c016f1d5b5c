"""Random draws made during training: dropout masks and the order of examples.

Backend layer. The Array API standard has no random-number API, so this module
reaches each library's own seeded generator, so that masks are drawn where the
activations live, with no host-to-device copy per step:

=================  ============================================================
backend            generator behind ``rng``
=================  ============================================================
numpy              ``numpy.random.Generator`` (PCG64), or the course's legacy
                   ``numpy.random.RandomState`` when ``seed=`` is one
cupy               ``cupy.random.Generator`` (``cupy.random.default_rng``)
torch              ``torch.Generator`` on the model's device
jax                a ``jax.random`` key, split once per step (functional)
dask               a host ``numpy.random.Generator``: a full-batch step draws one
                   seed from it, and block k of X draws its masks on its worker
                   from ``default_rng((seed, k))`` (:func:`block_generator`);
                   streamed mini-batches use the host generator directly
array_api_strict   a host ``numpy.random.Generator``; each mask is copied to the
                   device (the strict library has no generator of its own)
=================  ============================================================

The order of examples (mini-batch shuffles) is always drawn on the host by
:func:`epoch_permutation`, from a ``numpy.random.Generator`` seeded by the model's
seed, or by the course's rule ``RandomState(11 + epoch).permutation(m)``. One seed
gives reproducible runs on one backend; the dropout masks of two backends differ
(their generators differ), the shuffles do not.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

from ._backend import backend_name

__all__ = [
    "COURSE_SHUFFLE_SEED",
    "block_generator",
    "draw_seed",
    "dropout_masks",
    "epoch_permutation",
    "generator_state",
    "make_dropout_rng",
    "restore_generator",
    "shuffle_generator",
    "stream_seed",
]

#: The optimization assignment's ``random_mini_batches`` seed starts at 10 and is
#: incremented before each epoch, so epoch e shuffles with RandomState(11 + e).
COURSE_SHUFFLE_SEED = 10

# Independent streams derived from one user seed (weights use the seed itself).
_SHUFFLE_STREAM, _DROPOUT_STREAM = 1, 2


def stream_seed(seed: int | None, stream: int) -> int | None:
    """A 63-bit seed for one named stream of a user's integer seed (None stays None)."""
    if seed is None:
        return None
    state = np.random.SeedSequence([int(seed), stream]).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1] >> 1)


def draw_seed(rng: np.random.Generator) -> int:
    """A 63-bit seed drawn from a host generator, for a generator built elsewhere."""
    return int(rng.integers(0, 2**63 - 1))


def block_generator(seed: int | None, block: int) -> np.random.Generator | None:
    """The generator of block ``block`` of one Dask step whose seed is ``seed`` (from
    :func:`draw_seed`); None without dropout. Same seed and block, same masks."""
    return None if seed is None else np.random.default_rng((seed, block))


def shuffle_generator(seed: Any) -> np.random.Generator | np.random.RandomState:
    """The host generator of the per-epoch shuffles for a model's ``seed``.

    A Generator or RandomState given as ``seed`` is used itself (nothing is drawn
    from it here): shuffles then continue its one stream, after the weights.
    """
    if isinstance(seed, np.random.Generator | np.random.RandomState):
        return seed
    return np.random.default_rng(stream_seed(seed, _SHUFFLE_STREAM))


def epoch_permutation(
    m: int, epoch: int, shuffle: Any, rng: np.random.Generator | np.random.RandomState
) -> np.ndarray | None:
    """The order of the m examples in epoch ``epoch`` (0-based), as host int64 indices,
    or None for the stored order.

    ``shuffle`` is True (draw from ``rng``), False (keep the order: None) or "course"
    (``RandomState(11 + epoch).permutation(m)``, the optimization assignment's rule).
    """
    if shuffle == "course":
        return np.random.RandomState(COURSE_SHUFFLE_SEED + 1 + epoch).permutation(m)
    if shuffle:
        return rng.permutation(m)
    return None


def make_dropout_rng(xp: ModuleType, device: Any, seed: Any) -> Any:
    """The backend's own generator for dropout masks, seeded from the model's ``seed``.

    A ``numpy.random.RandomState`` seed is used as is (the course's order of
    ``np.random.rand`` draws); it applies on the NumPy backend only.
    """
    name = backend_name(xp)
    if isinstance(seed, np.random.RandomState):
        if name != "numpy":
            raise ValueError(
                f"seed is a numpy.random.RandomState, whose dropout masks are drawn on the "
                f"host, but backend={name!r} would need a host-to-device copy per step; "
                "pass an integer seed (masks then come from the backend's own generator), "
                "or use backend='numpy' to reproduce the course's masks"
            )
        return seed
    if isinstance(seed, np.random.Generator):
        s = draw_seed(seed)
    else:
        s = stream_seed(seed, _DROPOUT_STREAM)
        if s is None:
            s = draw_seed(np.random.default_rng())
    if name == "torch":
        import torch

        return torch.Generator(device=device).manual_seed(s)
    if name == "jax":
        import jax

        return jax.random.key(s % 2**32)
    if name == "cupy":
        import cupy

        with cupy.cuda.Device(device if device is not None else cupy.cuda.Device().id):
            return cupy.random.default_rng(s)
    return np.random.default_rng(s)  # numpy, array_api_strict, dask (host draws or seeds)


_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def generator_state(rng: Any) -> dict[str, Any] | None:
    """The state of a training generator (dropout or shuffles) as JSON-ready data, so
    that a saved model continues its run where it stopped; None for no generator, or
    one whose state is not written (CuPy's: a loaded model draws a fresh stream).

    ``{"kind": ..., "state": ...}``: a NumPy Generator's ``bit_generator.state``
    (Python ints), a RandomState's MT19937 key and position, a ``torch.Generator``'s
    ``get_state()`` bytes (with its device type), a JAX key's ``key_data`` words.
    """
    if isinstance(rng, np.random.Generator):
        return {"kind": "numpy.Generator", "state": rng.bit_generator.state}
    if isinstance(rng, np.random.RandomState):
        st = rng.get_state(legacy=False)
        key = [int(k) for k in st["state"]["key"]]
        return {"kind": "numpy.RandomState", "state": {**st, "state": {**st["state"], "key": key}}}
    torch, jax = sys.modules.get("torch"), sys.modules.get("jax")  # loaded if rng is theirs
    if torch is not None and isinstance(rng, torch.Generator):
        return {
            "kind": "torch.Generator",
            "device_type": rng.device.type,
            "state": rng.get_state().tolist(),
        }
    if jax is not None and isinstance(rng, jax.Array):
        return {"kind": "jax.key", "state": np.asarray(jax.random.key_data(rng)).tolist()}
    return None


def restore_generator(saved: Any, xp: ModuleType | None = None, device: Any = None) -> Any:
    """The generator that :func:`generator_state` described, made for namespace ``xp``
    on ``device`` (None: a host NumPy generator); None when there is no saved state or
    it belongs to another kind of generator than ``xp`` draws with (a model saved on
    one backend and loaded on another: its masks come from a new stream, as masks of
    two backends differ anyway).

    Raises ValueError on a state of the right kind that the library refuses (a
    corrupted file)."""
    if not isinstance(saved, dict) or "state" not in saved:
        return None
    kind, state = saved.get("kind"), saved["state"]
    name = "numpy" if xp is None else backend_name(xp)
    host = name in ("numpy", "dask", "array_api_strict")
    if kind == "numpy.Generator" and host:
        name = state["bit_generator"]
        if name not in _BIT_GENERATORS:  # a file names it: look it up, never call by name
            raise ValueError(f"unknown bit generator {name!r}; expected one of {_BIT_GENERATORS}")
        rng = np.random.Generator(getattr(np.random, name)())
        rng.bit_generator.state = state
        return rng
    if kind == "numpy.RandomState" and host:
        rs = np.random.RandomState()
        key = np.asarray(state["state"]["key"], dtype=np.uint32)
        rs.set_state({**state, "state": {**state["state"], "key": key}})
        return rs
    if kind == "torch.Generator" and name == "torch":
        import torch

        gen = torch.Generator(device=device)
        if gen.device.type != saved.get("device_type"):
            return None  # CPU and CUDA generators keep different states
        gen.set_state(torch.tensor(state, dtype=torch.uint8))
        return gen
    if kind == "jax.key" and name == "jax":
        import jax

        return jax.random.wrap_key_data(np.asarray(state, dtype=np.uint32))
    return None


def dropout_masks(
    rng: Any,
    shapes: Sequence[tuple[int, int] | None],
    keep_probs: Sequence[float],
    *,
    xp: ModuleType,
    device: Any,
    dtype: Any,
    like: Any = None,
) -> tuple[list[Any], Any]:
    """Inverted-dropout masks D[l] / keep_prob[l], one per layer, and the next ``rng``.

    D[l] = (U < keep_prob[l]) with U uniform on [0, 1) of shape (n[l], m); the mask
    returned is D[l] / keep_prob[l] (values 0 or 1/keep_prob), so that
    A[l] := A[l] * mask keeps the expected activation. Layers whose shape is None
    (the output layer, or keep_prob = 1) get None. ``like`` is X, for Dask: the
    masks take its chunks along m.
    """
    name = backend_name(xp)
    masks: list[Any] = []
    for shape, kp in zip(shapes, keep_probs, strict=True):
        if shape is None:
            masks.append(None)
            continue
        if name == "jax":
            import jax

            rng, sub = jax.random.split(rng)
            U = jax.random.uniform(sub, shape, dtype=dtype)
        elif name == "torch":
            import torch

            U = torch.rand(shape, generator=rng, device=device, dtype=dtype)
        elif name == "cupy":
            U = rng.random(shape, dtype=dtype)
        elif name == "dask":
            import dask.array as da

            chunks = (shape[0], like.chunks[1]) if like is not None else "auto"
            worker_rng = da.random.default_rng(draw_seed(rng))
            U = xp.astype(worker_rng.random(shape, chunks=chunks), dtype)
        elif isinstance(rng, np.random.RandomState):
            U = xp.asarray(rng.rand(*shape), dtype=dtype, device=device)
        else:
            U = xp.asarray(rng.random(shape), dtype=dtype, device=device)
        scale = xp.asarray(1.0 / kp, dtype=dtype, device=array_api_compat.device(U))
        masks.append(xp.astype(U < kp, dtype) * scale)
    return masks, rng
