"""Vectorised forward and backward propagation, cost and update, for any depth L.

Course layout: X is (n_x, m), one column per example; W[l] is (n[l], n[l-1]);
b[l] is (n[l], 1); Y and A[L] are (1, m) for a sigmoid output, (C, m) for a
softmax output over C classes (Y one-hot). Logistic regression is L = 1 with a
sigmoid output; the planar "shallow" network is L = 2.

The public functions (:func:`forward`, :func:`cost`, :func:`backward`,
:func:`update`) resolve the Array API namespace once from their arguments and
check shapes, dtypes and devices (metadata only, no device sync). The kernels
(``forward_vectorized``, ``backward_vectorized``) take ``xp`` and do no checks;
the training loop calls them directly. ``IMPLS`` maps ``impl=`` names to the
(forward, backward) pair: the vectorised kernels here, and the for-loop versions
of :mod:`xpnet.loops`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, NamedTuple

from . import _validation as v
from ._backend import check_same_namespace_and_device, is_lazy, namespace_of
from ._inputs import Placement, prepare_X
from .activations import Activation, get_activation
from .cache import LayerCache
from .loops import backward_loops, backward_per_example, forward_loops, forward_per_example
from .losses import OUTPUT_LOSSES, l2_gradient, l2_penalty, output_error

__all__ = [
    "IMPLS",
    "Impl",
    "backward",
    "backward_vectorized",
    "cost",
    "forward",
    "forward_vectorized",
    "linear_activation_backward",
    "linear_activation_forward",
    "linear_backward",
    "linear_forward",
    "update",
]

Array = Any


# --------------------------------------------------------------------------- kernels


def _matmul(a: Array, b: Array) -> Array:
    """a @ b; an outer product (inner dimension 1) as the broadcast product a * b.

    The two give the same numbers (each entry is one product, no sum), but OpenBLAS's
    GEMM with an inner dimension of 1 is 2-4x slower than NumPy's broadcast multiply
    (194 us against 54 us for (128, 1) @ (1, 1024) in float32 on the 2-core CPU; the
    same time on torch). It is the backward step's dA[L-1] = W[L]ᵀ dZ[L] of every
    network with one output unit, dW[l] at m = 1, and Z[1] for one input feature.
    Both inner dimensions must be 1: shapes that ``@`` refuses, say (n, 1) and (n, m),
    still go to ``@`` and raise there rather than broadcast.
    """
    return a * b if a.shape[-1] == 1 and b.shape[0] == 1 else a @ b


def linear_forward_kernel(A_prev: Array, W: Array, b: Array) -> Array:
    """Z[l] = W[l] A[l-1] + b[l]: (n[l], m); b[l] broadcasts over the m columns."""
    return _matmul(W, A_prev) + b


def forward_vectorized(
    X: Array,
    params: Mapping[str, Array],
    activations: Sequence[Activation],
    *,
    xp: ModuleType,
    masks: Sequence[Array | None] | None = None,
) -> tuple[Array, list[LayerCache]]:
    """For l = 1..L:  Z[l] = W[l] A[l-1] + b[l],  A[l] = g[l](Z[l]),  with A[0] = X.

    Z[l] and A[l] are (n[l], m); b[l] broadcasts over the m columns. With
    ``masks`` (inverted dropout, one entry per layer, None where the layer keeps
    every unit), A[l] := A[l] * D[l] / keep_prob[l]; ``masks[l-1]`` holds that
    product's factor D[l] / keep_prob[l] and is kept in the layer's cache.
    """
    A = X
    caches = []
    for l, act in enumerate(activations, start=1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        Z = linear_forward_kernel(A, W, b)
        D = None if masks is None else masks[l - 1]
        caches.append(LayerCache(A, W, Z, act, D))
        A = act.g(Z, xp=xp)
        if D is not None:
            A = A * D
    return A, caches


def predict_vectorized(
    X: Array, params: Mapping[str, Array], activations: Sequence[Activation], *, xp: ModuleType
) -> Array:
    """A[L] alone: the forward pass of :func:`forward_vectorized` without caches or dropout,
    for prediction (nothing is kept for a backward step)."""
    A = X
    for l, act in enumerate(activations, start=1):
        A = act.g(linear_forward_kernel(A, params[f"W{l}"], params[f"b{l}"]), xp=xp)
    return A


def linear_backward_kernel(
    dZ: Array, cache: LayerCache, l2: float, m: int, *, xp: ModuleType, need_dA: bool = True
) -> tuple[Array | None, Array, Array]:
    """The linear part of layer l's backward step, from dZ[l] (n[l], m):

    dW[l] = (1/m) dZ[l] A[l-1]ᵀ + (λ/m) W[l]     (n[l], n[l-1])
    db[l] = (1/m) Σ_i dZ[l](i)                   (n[l], 1)
    dA[l-1] = W[l]ᵀ dZ[l]                        (n[l-1], m), None unless ``need_dA``
    """
    dW = _matmul(dZ, cache.A_prev.T) / m
    if l2:
        dW = dW + l2_gradient(cache.W, m, l2)
    db = xp.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = _matmul(cache.W.T, dZ) if need_dA else None
    return dA_prev, dW, db


def activation_backward_kernel(
    dA: Array, cache: LayerCache, A: Array | None, *, xp: ModuleType
) -> Array:
    """dZ[l] = dA[l] * g'[l](Z[l]), with the layer's dropout mask applied to dA[l] first.

    ``A`` is g(Z[l]) as the forward pass computed it, before dropout (tanh and
    sigmoid take g' from it: 1 - A², A(1 - A)); pass None to recompute it.
    """
    if cache.D is not None:
        dA = dA * cache.D  # the units dropped in the forward pass get no gradient
        A = None  # the A passed on to the next layer had the mask applied
    if A is None:
        A = cache.activation.g(cache.Z, xp=xp)
    return cache.activation.backprop(dA, cache.Z, A, xp=xp)


def backward_vectorized(
    AL: Array,
    Y: Array,
    caches: Sequence[LayerCache],
    l2: float = 0.0,
    *,
    xp: ModuleType,
    return_dA: bool = False,
) -> dict[str, Array]:
    """Gradients of the cost J with respect to every W[l] and b[l].

    dZ[L] = A[L] - Y        (sigmoid or softmax output with cross-entropy, computed directly
    rather than as dA[L] * g'(Z[L]); s ⊙ A[L] - Y for weighted one-hot Y, see losses)
    dW[l] = (1/m) dZ[l] A[l-1]ᵀ + (λ/m) W[l]   (n[l], n[l-1])
    db[l] = (1/m) Σ_i dZ[l](i)                 (n[l], 1)
    dA[l-1] = W[l]ᵀ dZ[l]                      (n[l-1], m)
    dZ[l-1] = dA[l-1] * D[l-1]/keep_prob * g'[l-1](Z[l-1])   (the mask only with dropout)

    dA[0] (the gradient with respect to X) is computed only with ``return_dA``,
    which also adds ``"dA0"``..``"dA{L-1}"`` to the result, as the course's
    ``L_model_backward`` does.
    """
    m = Y.shape[1]
    L = len(caches)
    grads: dict[str, Array] = {}
    dZ = output_error(AL, Y, caches[-1].activation.name, xp=xp)
    for l in range(L, 0, -1):
        c = caches[l - 1]
        dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward_kernel(
            dZ, c, l2, m, xp=xp, need_dA=l > 1 or return_dA
        )
        if return_dA:
            grads[f"dA{l - 1}"] = dA
        if l > 1:
            # dZ[l-1] = dA[l-1] * g'(Z[l-1]); A[l-1] (this layer's input) is g(Z[l-1]).
            dZ = activation_backward_kernel(dA, caches[l - 2], c.A_prev, xp=xp)
    return grads


def update_parameters(
    params: Mapping[str, Array], grads: Mapping[str, Array], learning_rate: float
) -> dict[str, Array]:
    """Gradient descent: W[l] := W[l] - α dW[l],  b[l] := b[l] - α db[l] (a new dict)."""
    return {k: p - learning_rate * grads[f"d{k}"] for k, p in params.items()}


def total_cost(
    ZL: Array,
    Y: Array,
    params: Mapping[str, Array],
    l2: float,
    *,
    output: str,
    xp: ModuleType,
) -> Array:
    """J = cross-entropy from the output logits Z[L] (+ λ/(2m) Σ‖W[l]‖² when λ > 0), 0-d.

    ``output`` names the output activation: binary cross-entropy (softplus form) for
    ``"sigmoid"``, categorical (log-sum-exp) for ``"softmax"``. ``ZL`` is Z[L], the
    last cache's ``Z``; ``params`` is read only for the L2 term.
    """
    J = OUTPUT_LOSSES[output].from_logits(ZL, Y, xp=xp)
    if l2:
        J = J + l2_penalty(params, Y.shape[1], l2, xp=xp)
    return J


class Impl(NamedTuple):
    """A (forward, backward) pair with the signatures of the vectorised kernels."""

    forward: Callable[..., tuple[Array, list[LayerCache]]]
    backward: Callable[..., dict[str, Array]]


#: ``impl=`` name -> kernels. All three give the same caches and gradients.
IMPLS: dict[str, Impl] = {
    "vectorized": Impl(forward_vectorized, backward_vectorized),
    "per_example": Impl(forward_per_example, backward_per_example),
    "loops": Impl(forward_loops, backward_loops),
}


# --------------------------------------------------------------------------- public API


def forward(
    X: Array,
    params: Mapping[str, Array],
    activations: Sequence[str | Activation],
    *,
    impl: str = "vectorized",
    masks: Sequence[Array | None] | None = None,
) -> tuple[Array, list[LayerCache]]:
    """Forward propagation through L layers.

    Z[l] = W[l] A[l-1] + b[l],  A[l] = g[l](Z[l]),  A[0] = X;
    with inverted dropout, A[l] := A[l] * D[l] / keep_prob[l].

    Parameters
    ----------
    X : array (n_x, m)
        One column per example. Integer or boolean X is converted to the
        parameters' floating dtype.
    params : dict
        {"W1": (n[1], n_x), "b1": (n[1], 1), ..., "WL", "bL"}, same library,
        device and float dtype.
    activations : list of str or Activation
        One per layer, e.g. ["relu", "relu", "sigmoid"]; the last must be "sigmoid"
        (one output unit) or "softmax" (C >= 2 output units).
    impl : {"vectorized", "per_example", "loops"}
        Which implementation computes it.
    masks : list, optional
        Inverted-dropout factors, one per layer: None for a layer that keeps all its
        units, else an (n[l], m) array D[l] / keep_prob[l] (values 0 or
        1/keep_prob[l]), e.g. from :func:`xpnet.dropout_masks`. The output layer
        never drops. Masks are kept in the caches and applied again by
        :func:`backward`.

    Returns
    -------
    AL : array (1, m) or (C, m)
        Output probabilities A[L] (softmax: one column per example summing to 1),
        in X's library and on X's device.
    caches : list of LayerCache
        One per layer, for :func:`backward`.
    """
    v.check_name("impl", impl, tuple(IMPLS))
    xp, device = check_same_namespace_and_device({"X": X, **params})
    L = v.check_params(params)
    dtype = v.check_dtype_match(dict(params), xp)
    X = prepare_X(X, Placement(xp, device, dtype), params["W1"].shape[1], values=False,
                  n_x_from="params['W1'].shape[1] (n_x)")  # fmt: skip
    acts = v.check_activations(activations, L)
    v.check_output_units(acts[-1], params[f"W{L}"].shape[0], where=f"params['W{L}'] has")
    if masks is not None:
        masks = v.check_masks(masks, params, X.shape[1], xp)
    return IMPLS[impl].forward(X, params, acts, xp=xp, masks=masks)


def _prepare_labels(AL: Array, Y: Array, xp: ModuleType, *, check_values: bool = False) -> Array:
    """Y as the kernels take it for AL's C = AL.shape[0] outputs: (1, m) 0/1 labels when
    C = 1, one-hot (C, m) otherwise (integer labels (1, m) are expanded)."""
    v.check_matrix(AL, "AL", "(1, m) or (C, m), the output probabilities A[L]")
    C = AL.shape[0]
    v.check_Y(Y, AL.shape[1], C=C, m_from="AL")
    v.check_dtype_match({"AL": AL}, xp)
    if check_values:
        v.check_labels(Y, xp, C=C)
    return v.as_labels(Y, xp, AL.dtype, C)


def cost(
    AL: Array,
    Y: Array,
    params: Mapping[str, Array] | None = None,
    l2: float = 0.0,
    *,
    logits: Array | None = None,
) -> Array:
    """Cross-entropy cost, averaged over the m examples, with optional L2 term.

    Binary (AL of shape (1, m), sigmoid output):
    J = -(1/m) Σ_i [y(i) log a[L](i) + (1 - y(i)) log(1 - a[L](i))] + (λ / (2m)) Σ_l ‖W[l]‖_F²

    Categorical (AL of shape (C, m), C >= 2, softmax output):
    J = -(1/m) Σ_i Σ_k y_k(i) log a_k[L](i) + (λ / (2m)) Σ_l ‖W[l]‖_F²

    Parameters
    ----------
    AL : array (1, m) or (C, m)
        Output probabilities, in [0, 1] (checked, one device read; not on Dask nor
        while traced): logits go to ``logits``.
    Y : array (1, m) or (C, m)
        Labels: 0 or 1 when C = 1; integer classes 0..C-1 as one row (1, m), or
        one-hot (C, m), when C >= 2.
    params : dict, optional
        Needed when ``l2 > 0``.
    l2 : float
        λ, the L2 strength.
    logits : array like AL, optional
        The output pre-activation Z[L] (``caches[-1].Z``). When given, the cost is
        computed from it exactly (softplus form for C = 1, log-sum-exp for C >= 2),
        finite for any Z[L]; otherwise AL is clipped, to [ε, 1-ε] for C = 1 and to
        [ε, 1] for C >= 2 (ε = the dtype's machine epsilon).

    Returns
    -------
    0-d array of AL's library (``float(J)`` gives a Python float).
    """
    l2 = v.check_nonnegative("l2", l2)
    arrays = {"AL": AL, "Y": Y}
    if logits is not None:
        arrays["logits"] = logits
    if l2:
        if params is None:
            raise ValueError("l2 > 0 needs the parameters: pass cost(AL, Y, params, l2=...)")
        arrays.update(params)
    xp, _ = check_same_namespace_and_device(arrays)
    Y = _prepare_labels(AL, Y, xp, check_values=True)
    v.check_dtype_match({"AL": AL, **({} if logits is None else {"logits": logits})}, xp)
    if l2:
        v.check_dtype_match({"AL": AL, **params}, xp)
    v.check_probabilities(AL, xp)
    loss = OUTPUT_LOSSES["sigmoid" if AL.shape[0] == 1 else "softmax"]
    if logits is not None:
        if tuple(logits.shape) != tuple(AL.shape):
            raise ValueError(f"logits has shape {tuple(logits.shape)}; expected AL's {AL.shape}")
        J = loss.from_logits(logits, Y, xp=xp)
    else:
        J = loss.from_probabilities(AL, Y, xp=xp)
    if l2:
        v.check_params(params)
        J = J + l2_penalty(params, Y.shape[1], l2, xp=xp)
    return J


def backward(
    AL: Array,
    Y: Array,
    caches: Sequence[LayerCache],
    l2: float = 0.0,
    *,
    impl: str = "vectorized",
    return_dA: bool = False,
) -> dict[str, Array]:
    """Backward propagation: the gradients {"dW1", "db1", ..., "dWL", "dbL"}.

    dZ[L] = A[L] - Y (sigmoid or softmax output);  dW[l] = (1/m) dZ[l] A[l-1]ᵀ + (λ/m) W[l];
    db[l] = (1/m) Σ_i dZ[l](i);  dA[l-1] = W[l]ᵀ dZ[l];
    dZ[l-1] = dA[l-1] * D[l-1]/keep_prob * g'[l-1](Z[l-1])  (the mask only with dropout).

    Parameters
    ----------
    AL : array (1, m) or (C, m)
        Output of :func:`forward`.
    Y : array (1, m) or (C, m)
        Labels 0/1 when C = 1 (integer labels are converted to AL's dtype); integer
        classes (1, m) or one-hot (C, m) when C >= 2. Their values are checked as
        :func:`cost` checks them (one device read; not while traced by ``jax.jit``,
        nor on Dask, where backward only builds the graph):
        a label 5 with C = 3 would be an all-zero one-hot column, a wrong gradient.
    caches : list of LayerCache
        From :func:`forward`.
    l2 : float
        λ; adds (λ/m) W[l] to each dW[l].
    impl : {"vectorized", "per_example", "loops"}
    return_dA : bool
        Also return dA[l] (before the dropout mask of layer l) as
        ``"dA0"``..``"dA{L-1}"``, like the course's ``L_model_backward``. As
        there, dA and dZ are per-example gradients, column i the derivative of
        example i's loss ℓ(i) (dZ[L] = A[L] - Y): dA[l] = m ∂J/∂A[l], and the 1/m
        enters only dW and db.

    Returns
    -------
    dict of arrays with the shapes of the parameters, in AL's library and device.
    """
    v.check_name("impl", impl, tuple(IMPLS))
    l2 = v.check_nonnegative("l2", l2)
    if not caches or not all(isinstance(c, LayerCache) for c in caches):
        raise TypeError("caches must be the list of LayerCache returned by xpnet.forward")
    output = caches[-1].activation
    if output is None or output.name not in OUTPUT_LOSSES:
        raise ValueError(
            f"caches[-1] (layer {len(caches)}, the output layer) was made with activation "
            f"{getattr(output, 'name', output)!r}; backward starts from the output error "
            "dZ[L] = A[L] - Y of the cross-entropy cost, which needs the last layer's "
            "activation to be 'sigmoid' (binary, one output unit) or 'softmax' (C >= 2 "
            "classes): build the last layer with one of them, or step back through a "
            "hidden layer alone with xpnet.linear_activation_backward"
        )
    xp, _ = check_same_namespace_and_device({"AL": AL, "Y": Y, "caches[-1].Z": caches[-1].Z})
    if tuple(AL.shape) != tuple(caches[-1].Z.shape):
        raise ValueError(
            f"AL has shape {tuple(AL.shape)} but caches[-1].Z has {tuple(caches[-1].Z.shape)}; "
            "pass the AL and caches returned by the same xpnet.forward call"
        )
    Y = _prepare_labels(AL, Y, xp, check_values=not is_lazy(xp))  # Dask: the graph stays lazy
    return IMPLS[impl].backward(AL, Y, caches, l2, xp=xp, return_dA=return_dA)


def update(
    params: Mapping[str, Array], grads: Mapping[str, Array], learning_rate: float
) -> dict[str, Array]:
    """One gradient-descent step: W[l] := W[l] - α dW[l],  b[l] := b[l] - α db[l].

    Returns a new dict; the arrays passed in are not modified.
    """
    v.check_positive("learning_rate", learning_rate)
    v.check_params(params)
    missing = sorted(f"d{k}" for k in params if f"d{k}" not in grads)
    if missing:
        raise ValueError(f"grads is missing {missing}; pass the dict returned by xpnet.backward")
    for k, p in params.items():
        if tuple(grads[f"d{k}"].shape) != tuple(p.shape):
            raise ValueError(
                f"grads['d{k}'] has shape {tuple(grads[f'd{k}'].shape)} but params['{k}'] has "
                f"{tuple(p.shape)}; gradients must match their parameters"
            )
    xp, _ = check_same_namespace_and_device({**params, **{f"d{k}": grads[f"d{k}"] for k in params}})
    for k, p in params.items():
        g = grads[f"d{k}"]
        if not v.is_floating(xp, p):
            raise TypeError(
                f"params['{k}'] has dtype {p.dtype}; expected float32 or float64. Convert it, "
                f"e.g. xp.astype(params['{k}'], xp.float64)"
            )
        if g.dtype != p.dtype:
            # W - α dW would promote: a float32 network would come back float64.
            raise TypeError(
                f"grads['d{k}'] has dtype {g.dtype} but params['{k}'] has {p.dtype}; each "
                "gradient must have its parameter's dtype, or the update silently changes "
                f"the parameters' dtype: cast it with xp.astype(grads['d{k}'], "
                f"params['{k}'].dtype), or compute it from parameters, X and masks of one "
                "dtype"
            )
    return update_parameters(params, grads, learning_rate)


# ------------------------------------------------------------------ the course's building blocks


def linear_forward(A_prev: Array, W: Array, b: Array) -> tuple[Array, tuple[Array, Array, Array]]:
    """The linear part of a layer: Z = W A_prev + b.

    Parameters
    ----------
    A_prev : array (n[l-1], m)
        Activations of the previous layer (X for l = 1).
    W : array (n[l], n[l-1])
    b : array (n[l], 1)

    Returns
    -------
    Z : array (n[l], m)
    linear_cache : tuple (A_prev, W, b)
        For :func:`linear_backward`.
    """
    xp, _ = check_same_namespace_and_device({"A_prev": A_prev, "W": W, "b": b})
    _check_layer_shapes(A_prev, W, b, xp)
    return linear_forward_kernel(A_prev, W, b), (A_prev, W, b)


def linear_activation_forward(
    A_prev: Array, W: Array, b: Array, activation: str | Activation
) -> tuple[Array, LayerCache]:
    """One layer forward: Z = W A_prev + b,  A = g(Z).

    Returns
    -------
    A : array (n[l], m)
    cache : LayerCache
        The course's ``(linear_cache, activation_cache)``: A_prev, W and Z, with g, for
        :func:`linear_activation_backward`. b is left out: no gradient formula reads it.
    """
    Z, _ = linear_forward(A_prev, W, b)
    act = get_activation(activation)
    xp = namespace_of(Z)
    return act.g(Z, xp=xp), LayerCache(A_prev, W, Z, act)


def linear_backward(
    dZ: Array, linear_cache: tuple[Array, Array, Array], l2: float = 0.0
) -> tuple[Array, Array, Array]:
    """The linear part of a layer's backward step, from dZ[l] (n[l], m):

    dW = (1/m) dZ A_prevᵀ (+ (λ/m) W),  db = (1/m) Σ_i dZ(i),  dA_prev = Wᵀ dZ.

    Returns
    -------
    dA_prev : array (n[l-1], m)
    dW : array (n[l], n[l-1])
    db : array (n[l], 1)
    """
    if not (isinstance(linear_cache, tuple) and len(linear_cache) == 3):
        raise TypeError(
            "linear_cache must be the (A_prev, W, b) tuple returned by xpnet.linear_forward, "
            f"got {_describe(linear_cache)}"
        )
    A_prev, W, b = linear_cache
    xp, _ = check_same_namespace_and_device({"dZ": dZ, "A_prev": A_prev, "W": W})
    _check_layer_shapes(A_prev, W, b, xp)
    v.check_dtype_match({"W": W, "dZ": dZ}, xp)
    if tuple(dZ.shape) != (W.shape[0], A_prev.shape[1]):
        raise ValueError(
            f"dZ has shape {tuple(dZ.shape)}; expected (n[l], m) = ({W.shape[0]}, "
            f"{A_prev.shape[1]}), the shape of this layer's Z"
        )
    l2 = v.check_nonnegative("l2", l2)
    cache = LayerCache(A_prev, W, None, None)
    dA_prev, dW, db = linear_backward_kernel(dZ, cache, l2, A_prev.shape[1], xp=xp)
    return dA_prev, dW, db


def linear_activation_backward(
    dA: Array, cache: LayerCache, activation: str | Activation | None = None, l2: float = 0.0
) -> tuple[Array, Array, Array]:
    """One layer backward: dZ = dA * g'(Z) (times the dropout mask, if any), then
    :func:`linear_backward`.

    Parameters
    ----------
    dA : array (n[l], m)
        The gradient arriving from layer l + 1, in the course's per-example scale:
        column i is the derivative of example i's loss ℓ(i) by a[l](i), so
        dA = m ∂J/∂A[l] (as dZ[L] = A[L] - Y); dW and db take the 1/m.
    cache : LayerCache
        From :func:`linear_activation_forward` (or one entry of :func:`forward`'s caches).
    activation : str or Activation, optional
        The course passes it again; when given it must be the cache's g.
    l2 : float
        λ, for dW's (λ/m) W term.

    Returns
    -------
    dA_prev, dW, db
    """
    if not isinstance(cache, LayerCache):
        raise TypeError(
            "cache must be the LayerCache returned by xpnet.linear_activation_forward, got "
            f"{type(cache).__name__}"
        )
    if activation is not None and get_activation(activation) != cache.activation:
        raise ValueError(
            f"activation={activation!r} but the cache was made by {cache.activation.name!r}; "
            "pass the activation of the forward step, or leave it out"
        )
    xp, _ = check_same_namespace_and_device({"dA": dA, "cache.Z": cache.Z})
    if tuple(dA.shape) != tuple(cache.Z.shape):
        raise ValueError(
            f"dA has shape {tuple(dA.shape)}; expected the layer's output shape "
            f"{tuple(cache.Z.shape)}"
        )
    v.check_dtype_match({"cache.Z": cache.Z, "dA": dA}, xp)
    l2 = v.check_nonnegative("l2", l2)
    dZ = activation_backward_kernel(dA, cache, None, xp=xp)
    return linear_backward_kernel(dZ, cache, l2, cache.A_prev.shape[1], xp=xp)


def _describe(obj: Any) -> str:
    """A type name, with the length of a tuple or list (whose right type is no help)."""
    kind = type(obj).__name__
    return f"a {kind} of {len(obj)}" if isinstance(obj, tuple | list) else kind


def _check_layer_shapes(A_prev: Array, W: Array, b: Array, xp: ModuleType) -> None:
    v.check_matrix(A_prev, "A_prev", "(n[l-1], m)")
    v.check_matrix(W, "W", "(n[l], n[l-1])")
    v.check_matrix(b, "b", "(n[l], 1)")
    if W.shape[1] != A_prev.shape[0] or tuple(b.shape) != (W.shape[0], 1):
        raise ValueError(
            f"A_prev {tuple(A_prev.shape)}, W {tuple(W.shape)} and b {tuple(b.shape)} do not "
            "chain: W must be (n[l], n[l-1]) with n[l-1] = A_prev.shape[0], b must be (n[l], 1)"
        )
    v.check_dtype_match({"A_prev": A_prev, "W": W, "b": b}, xp)
