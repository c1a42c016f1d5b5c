"""From the user's X and Y to checked arrays on the model's backend and device, in one pass.

``fit``, ``partial_fit``, ``predict``, ``score`` and the functional API
(``forward``) all go through :func:`prepare_X` (and the first three through
:func:`prepare_Y`), in this order, once per call:

1. place the input on the backend and device (:func:`xpnet._backend.to_backend`:
   DLPack or a host copy);
2. check its shape against the network (metadata only);
3. give a Dask array the layout training needs (:func:`xpnet._dask.chunk_examples`);
4. cast it to the model's floating dtype (integer and boolean X by value);
5. for training, detach a torch X (and always Y) from autograd, and persist Dask data on
   the cluster (:func:`xpnet._dask.persist_examples`);
6. check its values: NaN/inf (and labels for Y), one reduction each, eagerly; for a
   prediction on Dask, lazily, inside the graph.

Where the computation runs is decided once per call by :func:`placement_for` (a
model before ``fit``) or :func:`placement_of` (a fitted model's parameters), as a
:class:`Placement` that is passed down instead of being resolved again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import array_api_compat

from . import _validation as v
from ._backend import (
    check_has_values,
    check_same_namespace_and_device,
    detached,
    device_of,
    get_namespace,
    is_lazy,
    namespace_of,
    resolve_device,
    resolve_dtype,
    to_backend,
)
from ._dask import align_examples_chunks, chunk_examples, lazy_check_finite, persist_examples

__all__ = ["Placement", "placement_for", "placement_of", "prepare_X", "prepare_Y"]

Array = Any


@dataclass(frozen=True)
class Placement:
    """Where a call computes: the namespace, its device object and its float dtype."""

    xp: ModuleType
    device: Any
    dtype: Any


def placement_for(backend: Any, device: Any, dtype: Any, arrays: Mapping[str, Any]) -> Placement:
    """The placement of a call on a model with these settings: its named backend, or the
    library and device of the array inputs (NumPy for lists); X and Y must agree."""
    present = {k: a for k, a in arrays.items() if array_api_compat.is_array_api_obj(a)}
    for name, a in present.items():
        check_has_values(name, a)
    if len(present) > 1:  # X and Y from one library and on one device, never mixed
        check_same_namespace_and_device(present)
    if backend is not None:
        xp = get_namespace(backend)
        dev = resolve_device(xp, device)
    elif present:
        first = next(iter(present.values()))
        xp = namespace_of(first)
        dev = device_of(first) if device is None else resolve_device(xp, device)
    else:
        xp = get_namespace("numpy")
        dev = resolve_device(xp, device)
    return Placement(xp, dev, resolve_dtype(xp, dtype))


def placement_of(params: Mapping[str, Array]) -> Placement:
    """The placement of fitted parameters (their library, device and dtype)."""
    W1 = params["W1"]
    return Placement(namespace_of(W1), device_of(W1), W1.dtype)


def prepare_X(
    X: Any,
    at: Placement,
    n_x: int | None,
    *,
    training: bool = False,
    values: bool = True,
    arg: str = "X",
    n_x_from: str = "layer_dims[0] (n_x)",
) -> Array:
    """X (n_x, m) on ``at``: placed, shape-checked, Dask-chunked along m, cast, and (with
    ``values``) checked for NaN/inf; for ``training`` a torch X is detached from autograd
    (:func:`xpnet._backend.detached`) and a Dask X is persisted on the cluster first and
    checked eagerly, otherwise the check stays lazy in its graph. A prediction keeps a
    torch X's autograd graph, so a user can differentiate through it."""
    if not array_api_compat.is_array_api_obj(X) and not hasattr(X, "__len__"):
        raise TypeError(f"{arg} must be an array of shape (n_x, m), got {type(X).__name__}")
    check_has_values(arg, X)
    X = to_backend(X, at.xp, device=at.device)
    v.check_X(X, n_x, arg=arg, n_x_from=n_x_from)
    X = v.as_float(chunk_examples(X, arg=arg), at.xp, at.dtype, arg=arg)
    if not values:
        return X
    if is_lazy(at.xp) and not training:
        return lazy_check_finite(X, arg=arg)
    if training:
        X = detached(X)  # a torch X that requires grad: autograd would record the fit
        (X,) = persist_examples(X)
    v.check_finite({arg: X}, at.xp)
    return X


def prepare_Y(Y: Any, at: Placement, m: int, C: int, *, like: Any = None) -> Array:
    """Labels on ``at``: (1, m) 0/1 labels for one sigmoid unit; for C >= 2 classes,
    integers 0..C-1 (1, m) or one-hot (C, m), returned one-hot. A Dask Y takes the
    m-chunks of ``like`` (X, or predictions) and is persisted beside it."""
    Y = detached(to_backend(Y, at.xp, device=at.device))
    v.check_Y(Y, m, C=C)
    if like is not None:
        Y = align_examples_chunks(Y, like)
        (Y,) = persist_examples(Y)
    v.check_finite({"Y": Y}, at.xp)
    v.check_labels(Y, at.xp, C=C)
    return v.as_labels(Y, at.xp, at.dtype, C)
