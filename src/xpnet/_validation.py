"""Input checks for the public API.

Every error names the argument, what was seen, what was expected and the fix.
Shape, dtype, name and device checks read only metadata. The value checks
(:func:`check_finite`, :func:`check_labels`) reduce the array to one boolean,
which synchronises a GPU and computes a Dask graph; they therefore run once at
the boundary of ``fit``/``predict``/``score``/``cost``, never inside forward or
backward propagation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from types import ModuleType
from typing import Any

import numpy as np

from ._backend import (
    check_same_namespace_and_device,
    device_of,
    is_lazy,
    is_traced,
    to_numpy,
    value_total,
)
from .activations import Activation, get_activation

Array = Any


def check_bool(arg: str, value: Any) -> bool:
    """A True/False setting: a bool (or NumPy bool), never any truthy value
    (``warm_start="False"`` is a non-empty string, so it meant True)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{arg} must be True or False, got {value!r}")
    return bool(value)


def check_decay_signature(decay: Any) -> None:
    """A callable ``learning_rate_decay`` takes (α₀, epoch): one with another signature
    failed with a bare TypeError at the first decayed epoch, after training began."""
    import inspect

    try:
        signature = inspect.signature(decay)
    except (TypeError, ValueError):  # no signature to read (some builtins): called as given
        return
    try:
        signature.bind(1.0, 0)
    except TypeError as exc:
        raise TypeError(
            f"learning_rate_decay={decay!r} cannot be called as decay(alpha0, epoch) ({exc}); "
            "it must take the initial rate and the 0-based epoch and return the rate, "
            "e.g. lambda alpha0, epoch: alpha0 / (1 + 0.1 * epoch)"
        ) from None


def check_name(arg: str, value: Any, valid: Sequence[str]) -> str:
    """``value`` must be one of ``valid``."""
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"{arg}={value!r} is not known; expected one of {list(valid)}")
    return value


def check_positive(arg: str, value: Any, *, integer: bool = False, example: Any = None) -> Any:
    """A strictly positive number (an int when ``integer``); ``example`` is a typical
    value, named in the error (default: 100 for an integer, 0.01 otherwise)."""
    kind = Integral if integer else Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(
            f"{arg} must be a positive {'integer' if integer else 'number'}, "
            f"got {value!r} of type {type(value).__name__}"
        )
    if not (value > 0 and math.isfinite(value)):
        if example is None:
            example = 100 if integer else 0.01
        expected = "an integer >= 1" if integer else "a finite number > 0"
        raise ValueError(f"{arg} must be positive and finite, got {value!r}; expected "
                         f"{expected}, e.g. {arg}={example!r}")  # fmt: skip
    return value


def check_nonnegative(arg: str, value: Any) -> float:
    """A finite number >= 0 (the L2 strength λ)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{arg} must be a number >= 0, got {value!r} ({type(value).__name__})")
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{arg} must be finite and >= 0, got {value!r}; use {arg}=0.0 for none")
    return float(value)


def check_layer_dims(layer_dims: Any) -> list[int]:
    """``[n_x, n[1], ..., n[L]]``: at least two positive integers."""
    try:
        dims = list(layer_dims)
    except TypeError:
        raise TypeError(
            f"layer_dims must be a sequence of layer sizes like [n_x, n_h, 1], got {layer_dims!r}"
        ) from None
    if len(dims) < 2 or not all(
        isinstance(n, Integral) and not isinstance(n, bool) and n > 0 for n in dims
    ):
        raise ValueError(
            f"layer_dims={dims!r} must hold at least two positive integers, input size "
            "first and output size last, e.g. [12288, 20, 7, 5, 1]"
        )
    return [int(n) for n in dims]


def check_matrix(a: Array, arg: str, meaning: str) -> None:
    """``a`` must be 2-D; rank-1 arrays are the course's classic bug and are refused."""
    shape = tuple(a.shape)
    if len(shape) == 2:
        return
    if len(shape) == 1:
        raise ValueError(
            f"{arg} has shape {shape}, a rank-1 array; {arg} must be 2-D {meaning}. "
            f"Rank-1 arrays broadcast into wrong shapes silently: reshape it explicitly, "
            f"e.g. {arg}.reshape(1, -1) for a row or {arg}.reshape(-1, 1) for a column"
        )
    raise ValueError(f"{arg} has shape {shape} ({len(shape)}-D); {arg} must be 2-D {meaning}")


def check_X(
    X: Array, n_x: int | None, *, arg: str = "X", n_x_from: str = "layer_dims[0] (n_x)"
) -> None:
    """X must be (n_x, m): one column per example, m >= 1. ``n_x_from`` names where n_x
    comes from, for the message (the model's layer_dims, or the functions' params)."""
    check_matrix(X, arg, "(n_x, m), one column per example")
    rows, m = X.shape
    if n_x is not None and rows != n_x:
        hint = (
            f"; it looks transposed (m examples in rows): pass {arg}.T"
            if m == n_x
            else (f"; flatten each example to a column first, {arg} = {arg}.reshape(-1, m)")
        )
        raise ValueError(
            f"{arg} has shape {tuple(X.shape)} but {n_x_from} is {n_x}: "
            f"{arg} must be (n_x, m) = ({n_x}, m){hint}"
        )
    if m == 0:
        raise ValueError(
            f"{arg} has shape {tuple(X.shape)}, with m = 0 examples; pass at least one column"
        )


def check_Y(Y: Array, m: int | None, *, arg: str = "Y", C: int = 1, m_from: str = "X") -> None:
    """Y must be (1, m) with the same m as X (``m_from``: the array m is taken from, for
    the message); with C >= 2 output units (softmax) it may also be one-hot (C, m)."""
    shape = tuple(Y.shape)
    what = (
        "a (1, m) row of 0/1 labels"
        if C == 1
        else f"a (1, m) row of integer class labels 0..{C - 1} or a one-hot ({C}, m) matrix"
    )
    if len(shape) == 1:
        raise ValueError(
            f"{arg} has shape {shape}, a rank-1 array; {arg} must be {what}: pass "
            f"{arg}.reshape(1, -1)"
        )
    check_matrix(Y, arg, f"(1, m), {what}")
    if shape[0] != 1 and (C == 1 or shape[0] != C):
        if shape[1] == 1 and shape[0] == m:
            fix = f"it is a column: pass {arg}.T"
        elif C == 1:
            fix = (
                "xpnet's sigmoid output has one unit; pass the labels of the positive class "
                "as a single row, or use output_activation='softmax' with layer_dims[-1] = C "
                "for one-hot labels"
            )
        else:
            fix = (
                f"one-hot labels need one row per class, but the network has C = {C} output "
                f"units (layer_dims[-1]); set layer_dims[-1] = {shape[0]} if there are "
                f"{shape[0]} classes, or pass integer labels as one row (1, m)"
            )
        raise ValueError(f"{arg} has shape {shape}; {arg} must be {what}: {fix}")
    if m is not None and shape[1] != m:
        raise ValueError(
            f"{arg} has shape {shape} but {m_from} has m = {m} examples (columns); {m_from} "
            f"and {arg} must "
            f"have the same number of columns, {arg} of shape ({shape[0]}, {m})"
        )


def check_params(params: Mapping[str, Array], layer_dims: Sequence[int] | None = None) -> int:
    """Parameters {"W1", "b1", ..., "WL", "bL"} that chain: W{l} (n[l], n[l-1]), b{l} (n[l], 1).

    Returns L, the number of layers.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict {{'W1', 'b1', ...}}, got {type(params).__name__}")
    # L is the deepest layer named by any W{l} or b{l}, so a missing W{L} is reported as
    # missing rather than making b{L} look unexpected.
    layers = [int(k[1:]) for k in params if isinstance(k, str) and re.fullmatch(r"[Wb][1-9]\d*", k)]
    L = max(layers, default=0)
    if L == 0:
        raise ValueError(f"params has keys {sorted(params)}; expected 'W1', 'b1', ..., 'WL', 'bL'")
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    missing = sorted(expected - set(params))
    extra = sorted(set(params) - expected)
    if missing or extra:
        raise ValueError(
            f"params has keys {sorted(params)}: missing {missing}, unexpected {extra}; "
            f"a {L}-layer network needs exactly {sorted(expected)}"
        )
    if layer_dims is not None and len(layer_dims) - 1 != L:
        raise ValueError(
            f"params describe {L} layers but layer_dims={list(layer_dims)} has "
            f"{len(layer_dims) - 1}; pass parameters for every layer"
        )
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        check_matrix(W, f"params['W{l}']", "(n[l], n[l-1])")
        check_matrix(b, f"params['b{l}']", "(n[l], 1), a column")
        if layer_dims is not None:
            want = (layer_dims[l], layer_dims[l - 1])
            if tuple(W.shape) != want:
                raise ValueError(
                    f"params['W{l}'] has shape {tuple(W.shape)} but layer_dims gives "
                    f"(n[{l}], n[{l - 1}]) = {want}; fix the parameters or layer_dims"
                )
        elif l > 1 and W.shape[1] != params[f"W{l - 1}"].shape[0]:
            raise ValueError(
                f"params['W{l}'] has shape {tuple(W.shape)} but params['W{l - 1}'] has "
                f"{tuple(params[f'W{l - 1}'].shape)}: W{l} must have n[{l - 1}] = "
                f"{params[f'W{l - 1}'].shape[0]} columns, so the layers chain"
            )
        if tuple(b.shape) != (W.shape[0], 1):
            raise ValueError(
                f"params['b{l}'] has shape {tuple(b.shape)}; expected (n[{l}], 1) = "
                f"({W.shape[0]}, 1), a column matching W{l}"
            )
    return L


def check_activations(activations: Any, L: int) -> list[Activation]:
    """One activation per layer, by name or :class:`Activation`."""
    if isinstance(activations, str | Activation) or not isinstance(activations, Sequence):
        raise TypeError(
            f"activations must be a list with one activation per layer ({L} here), e.g. "
            f"{['relu'] * (L - 1) + ['sigmoid']}; got {activations!r}"
        )
    if len(activations) != L:
        raise ValueError(
            f"activations has {len(activations)} entries but the network has {L} layers; "
            f"give one per layer, e.g. {['relu'] * (L - 1) + ['sigmoid']}"
        )
    acts = [get_activation(a) for a in activations]
    for l, act in enumerate(acts[:-1], start=1):
        if not act.elementwise:
            raise ValueError(
                f"activations[{l - 1}] (layer {l}) is {act.name!r}, which is an output "
                "activation only (no element-wise derivative); use relu, tanh, leaky_relu, "
                "sigmoid or linear for hidden layers"
            )
    if acts[-1].name not in ("sigmoid", "softmax"):
        raise ValueError(
            f"the output activation is {acts[-1].name!r}; the cross-entropy cost and its "
            "output error dZ[L] = A[L] - Y need activations[-1] == 'sigmoid' (binary, one "
            "output unit) or 'softmax' (C >= 2 classes, one unit per class)"
        )
    return acts


def check_output_units(output: Activation, C: int, *, where: str = "layer_dims ends with") -> None:
    """The output activation fits the C = n[L] output units: sigmoid needs C = 1,
    softmax C >= 2."""
    if output.name == "sigmoid" and C != 1:
        raise ValueError(
            f"{where} {C} output units but the output activation is 'sigmoid'; binary "
            f"classification has one output unit: end layer_dims with 1, or use "
            f"output_activation='softmax' for C = {C} classes"
        )
    if output.name == "softmax" and C < 2:
        raise ValueError(
            f"{where} {C} output unit with output activation 'softmax'; a softmax over one "
            "class is always 1 and learns nothing. Use one unit per class, C >= 2 "
            "(layer_dims[-1] = C), or output_activation='sigmoid' with one unit for 0/1 labels"
        )


def is_floating(xp: ModuleType, a: Array) -> bool:
    return xp.isdtype(a.dtype, "real floating")


def check_dtype_match(arrays: Mapping[str, Array], xp: ModuleType) -> Any:
    """All arrays share one real floating dtype (float32 or float64); returns it."""
    items = list(arrays.items())
    first_name, first = items[0]
    for name, a in items:
        if not is_floating(xp, a):
            raise TypeError(
                f"{name} has dtype {a.dtype}; expected float32 or float64. Convert it, "
                f"e.g. xp.astype({name}, xp.float64)"
            )
        if a.dtype != first.dtype:
            raise TypeError(
                f"{name} has dtype {a.dtype} but {first_name} has {first.dtype}; "
                "all arrays in one call must share a dtype: cast one with xp.astype"
            )
    return first.dtype


def as_float(X: Array, xp: ModuleType, dtype: Any, *, arg: str = "X") -> Array:
    """The documented conversion rule for input data.

    Integer and boolean X (e.g. uint8 pixels, True/False features) are converted
    to ``dtype`` by value (True -> 1.0). Floating X of another precision is cast
    to ``dtype``. Complex X is refused.
    """
    if xp.isdtype(X.dtype, "complex floating"):
        raise TypeError(f"{arg} has complex dtype {X.dtype}; expected real numbers")
    if X.dtype != dtype:
        return xp.astype(X, dtype)
    return X


def check_finite(arrays: Mapping[str, Array], xp: ModuleType) -> None:
    """No NaN or inf in any array (one reduction each; boundary use only).

    A finite sum proves the array finite (NaN and inf propagate through a sum) in one
    pass with no boolean temporary: 7 ms instead of 187 ms for isfinite-then-all on a
    60,000 x 784 float32 torch tensor (2-core CPU), checked on every ``partial_fit``;
    :func:`xpnet._backend.value_total` reads it the fastest way the backend has. Only
    when the sum is not finite, which a finite array can also reach by overflow, are
    the elements checked one by one. Integer and boolean arrays are finite by
    construction and are not read.
    """
    for name, a in arrays.items():
        if not xp.isdtype(a.dtype, ("real floating", "complex floating")):
            continue
        total = value_total(a, xp)
        if bool(xp.isfinite(total)):
            continue
        if not bool(xp.all(xp.isfinite(a))):
            bad = int(xp.sum(xp.astype(~xp.isfinite(a), xp.int64)))
            raise ValueError(
                f"{name} contains {bad} NaN or infinite value(s); clean or impute them "
                "before training (e.g. drop those examples)"
            )


def _one_hot(Y: Array, C: int, xp: ModuleType, dtype: Any) -> Array:
    """(C, m) with 1 in row k of column i where Y[0, i] == k, from a (1, m) row Y."""
    classes = xp.arange(C, dtype=dtype, device=device_of(Y))
    return xp.astype(xp.reshape(classes, (C, 1)) == xp.astype(Y, dtype), dtype)


def check_probabilities(AL: Array, xp: ModuleType) -> None:
    """AL holds probabilities, 0 <= a <= 1 (boundary use only; NaN passes, to give a NaN
    cost): logits passed as AL were clipped to [ε, 1 - ε] and gave a finite, wrong cost.
    Skipped while traced by a compiler, like :func:`check_labels`, and on Dask, where it
    would be a second compute of the graph beside the labels' check."""
    if is_traced(AL) or is_lazy(xp):
        return
    if bool(xp.any((AL < 0) | (AL > 1))):
        a = to_numpy(AL)
        raise ValueError(
            f"AL holds values outside [0, 1] (from {float(np.nanmin(a))!r} to "
            f"{float(np.nanmax(a))!r}); AL must be the output probabilities A[L] of "
            "xpnet.forward, not the logits Z[L]: pass those as cost(AL, Y, logits=Z)"
        )


def check_labels(Y: Array, xp: ModuleType, *, arg: str = "Y", C: int = 1) -> None:
    """Labels are valid for C output units (boundary use only): 0 or 1 when C = 1;
    integers 0..C-1 in one row, or one-hot columns (exactly one 1, zeros elsewhere).

    Skipped for a Y being traced by a compiler (inside ``jax.jit``), whose values
    are not known yet; the check runs wherever the concrete labels enter."""
    if is_traced(Y):
        return
    if C == 1:
        if not bool(xp.all((Y == 0) | (Y == 1))):
            y = to_numpy(Y)
            bad = np.unique(y[(y != 0) & (y != 1)])[:5].tolist()
            raise ValueError(
                f"{arg} must hold binary labels 0 and 1 only, but it contains {bad}; map your "
                f"classes to 0/1, e.g. {arg} = ({arg} == positive_class)"
            )
        return
    if Y.shape[0] == 1:
        # Y[0, i] is an integer in 0..C-1 exactly when its one-hot column holds one 1.
        # Integer labels are compared as float32, which holds 0..2^24 exactly and rounds
        # a larger or negative integer to a value still outside 0..C-1 (float64 is not
        # there on JAX without 64-bit mode, and warned).
        ftype = Y.dtype if is_floating(xp, Y) else xp.float32 if C <= 2**24 else xp.float64
        hits = xp.sum(_one_hot(Y, C, xp, ftype), axis=0)
        if not bool(xp.all(hits == 1)):
            y = to_numpy(Y).reshape(-1)
            bad = np.unique(y[~np.isin(y, np.arange(C))])[:5].tolist()
            raise ValueError(
                f"{arg} holds class labels {bad} outside 0..C-1 = 0..{C - 1} (C = {C} output "
                f"units, layer_dims[-1]); integer labels must be 0, 1, ..., {C - 1}: map your "
                f"classes with np.unique(y, return_inverse=True), or set layer_dims[-1] to "
                "the number of classes"
            )
        return
    ok = xp.all((Y == 0) | (Y == 1), axis=0) & (xp.sum(Y, axis=0) == 1)
    if not bool(xp.all(ok)):
        bad_cols = np.flatnonzero(~to_numpy(ok))
        first = int(bad_cols[0])
        column = to_numpy(Y)[:, first].tolist()
        raise ValueError(
            f"{arg} is one-hot ({C}, m) but {bad_cols.size} column(s) are not exactly one 1 "
            f"with zeros elsewhere (first: column {first} = {column}); each column must mark "
            f"one class, or pass integer class labels 0..{C - 1} as one row (1, m)"
        )


def as_labels(Y: Array, xp: ModuleType, dtype: Any, C: int = 1, *, arg: str = "Y") -> Array:
    """Labels in the form the kernels use: Y (1, m) of 0/1 when C = 1; otherwise a
    one-hot (C, m), built from integer labels (1, m) when needed. Floating ``dtype``."""
    if C > 1 and Y.shape[0] == 1:
        return _one_hot(Y, C, xp, dtype)
    return as_float(Y, xp, dtype, arg=arg)


def check_masks(masks: Any, params: Mapping[str, Array], m: int, xp: ModuleType) -> list[Any]:
    """Dropout masks: one entry per layer, None or an (n[l], m) array; the output layer None."""
    L = len(params) // 2
    if isinstance(masks, str) or not isinstance(masks, Sequence) or len(masks) != L:
        raise ValueError(
            f"masks must be a list with one entry per layer ({L} here), None for a layer "
            f"without dropout, e.g. [D1, None]; got {masks!r:.80}"
        )
    if masks[-1] is not None:
        raise ValueError(
            "masks[-1] is not None, but the output layer never drops units; pass None there"
        )
    for l, D in enumerate(masks, start=1):
        if D is None:
            continue
        W = params[f"W{l}"]
        # Library and device first: a NumPy mask with torch parameters would be mixed in.
        check_same_namespace_and_device({f"params['W{l}']": W, f"masks[{l - 1}]": D})
        want = (W.shape[0], m)
        if tuple(D.shape) != want:
            raise ValueError(
                f"masks[{l - 1}] has shape {tuple(D.shape)}; expected (n[{l}], m) = {want}, "
                "the shape of that layer's activations"
            )
        if D.dtype != W.dtype:
            # A*D would promote A[l], and with it A[L], the cost and every gradient.
            raise TypeError(
                f"masks[{l - 1}] has dtype {D.dtype} but params['W{l}'] has {W.dtype}; a "
                "mask must have its layer's dtype, or it silently changes the dtype of A[L] "
                f"and of every gradient: cast it with xp.astype(D, params['W{l}'].dtype), or "
                "draw the masks with xpnet.dropout_masks(params, m, keep_prob)"
            )
    return list(masks)


def check_unit_interval(arg: str, value: Any, *, low_open: bool, high_open: bool) -> float:
    """A number in the interval between 0 and 1, with the ends open as asked."""
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{arg} must be a number in {lo}0, 1{hi}, got {value!r}")
    ok = (value > 0 if low_open else value >= 0) and (value < 1 if high_open else value <= 1)
    if not ok or not math.isfinite(value):
        raise ValueError(
            f"{arg}={value!r} is outside {lo}0, 1{hi}; the course's values are e.g. "
            "beta=0.9, beta1=0.9, beta2=0.999, keep_prob=0.8"
        )
    return float(value)


def check_keep_prob(keep_prob: Any, n_hidden: int) -> tuple[float, ...]:
    """``keep_prob``: one number for every hidden layer, or one per hidden layer, in (0, 1]."""
    if isinstance(keep_prob, Real) and not isinstance(keep_prob, bool):
        k = check_unit_interval("keep_prob", keep_prob, low_open=True, high_open=False)
        if k < 1 and n_hidden == 0:
            raise ValueError(
                f"keep_prob={keep_prob!r} but the network has no hidden layer, and dropout "
                "applies to hidden layers only (the input and output layers never drop), so "
                "it would do nothing; use keep_prob=1.0, or add a hidden layer to layer_dims"
            )
        return (k,) * n_hidden
    if not isinstance(keep_prob, Sequence) or isinstance(keep_prob, str):
        raise TypeError(
            f"keep_prob must be a number in (0, 1] or a list of them, got {keep_prob!r}"
        )
    values = list(keep_prob)
    if len(values) != n_hidden:
        entries = "entry" if len(values) == 1 else "entries"
        layers = "hidden layer" if n_hidden == 1 else "hidden layers"
        raise ValueError(
            f"keep_prob has {len(values)} {entries} but the network has {n_hidden} {layers}; "
            "give one per hidden layer (the output layer never drops), or one number for all"
        )
    return tuple(
        check_unit_interval(f"keep_prob[{i}]", k, low_open=True, high_open=False)
        for i, k in enumerate(values)
    )
