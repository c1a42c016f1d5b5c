"""Optimizers of the second course: gradient descent, momentum, RMSprop and Adam.

Each update is a pure function of arrays, one per formula: it returns new
parameters and a new optimizer state and modifies nothing. The state is a plain
dict of arrays shaped like the parameters, named as in the course,

* ``vdW1``, ``vdb1``, ...: the exponentially weighted averages of the gradients
  (momentum, Adam);
* ``sdW1``, ``sdb1``, ...: the weighted averages of the squared gradients
  (RMSprop, Adam);
* ``t``: a 0-d array counting the steps taken, starting from 0 (Adam's bias
  correction uses t after its increment, so the first step has t = 1).

Hyperparameters are Python floats closed over by the training step; the learning
rate α may be a 0-d array (it changes with the decay schedule, and under a
compiler it must not be a constant). The public functions check them as
:class:`xpnet.NeuralNetwork` does (β, β₁, β₂ in [0, 1), ε > 0);
:func:`optimizer_update` checks once and binds the unchecked kernels, so the
training step pays nothing per call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import array_api_compat

from . import _validation

__all__ = [
    "OPTIMIZERS",
    "adam_update",
    "gd_update",
    "initialize_optimizer_state",
    "momentum_update",
    "optimizer_state_keys",
    "optimizer_update",
    "rmsprop_update",
]

Array = Any
Params = Mapping[str, Array]

#: ``optimizer=`` names, and the state each one keeps besides ``t``.
OPTIMIZERS: dict[str, tuple[str, ...]] = {
    "gd": (),
    "momentum": ("v",),
    "rmsprop": ("s",),
    "adam": ("v", "s"),
}


def _check_hyperparameters(
    *, beta: float | None = None, beta1: float | None = None,
    beta2: float | None = None, epsilon: float | None = None,
) -> None:  # fmt: skip
    """β, β₁, β₂ in [0, 1) (β = 1 never moves, β₁ = 1 divides by 1 - β₁ᵗ = 0) and ε > 0
    (ε = 0 divides 0 by 0 where a gradient is 0); None is not checked."""
    for arg, value in (("beta", beta), ("beta1", beta1), ("beta2", beta2)):
        if value is not None:
            _validation.check_unit_interval(arg, value, low_open=False, high_open=True)
    if epsilon is not None:
        _validation.check_positive("epsilon", epsilon, example=1e-8)


def optimizer_state_keys(name: str, params: Params) -> set[str]:
    """The keys of optimizer ``name``'s state for ``params``: {"vdW1", ..., "t"}."""
    _validation.check_name("optimizer", name, tuple(OPTIMIZERS))
    return {f"{prefix}d{k}" for prefix in OPTIMIZERS[name] for k in params} | {"t"}


def initialize_optimizer_state(name: str, params: Params, *, xp: ModuleType) -> dict[str, Array]:
    """Zeros shaped like each parameter: v[dW[l]] = 0, s[dW[l]] = 0, ..., and t = 0.

    Keys are ``"vdW1"``, ``"sdb2"``... for the averages ``name`` keeps (see
    :data:`OPTIMIZERS`), plus ``"t"``, a 0-d array of the parameters' dtype.
    """
    _validation.check_name("optimizer", name, tuple(OPTIMIZERS))
    W1 = params["W1"]
    device = array_api_compat.device(W1)
    state = {
        f"{prefix}d{k}": xp.zeros(p.shape, dtype=p.dtype, device=device)
        for prefix in OPTIMIZERS[name]
        for k, p in params.items()
    }
    state["t"] = xp.zeros((), dtype=W1.dtype, device=device)
    return state


def gd_update(
    params: Params, grads: Params, state: Params, learning_rate: Any
) -> tuple[dict[str, Array], dict[str, Array]]:
    """Gradient descent: W[l] := W[l] - α dW[l],  b[l] := b[l] - α db[l];  t := t + 1."""
    new = {k: p - learning_rate * grads[f"d{k}"] for k, p in params.items()}
    return new, {**state, "t": state["t"] + 1}


def momentum_update(
    params: Params, grads: Params, state: Params, learning_rate: Any, *, beta: float
) -> tuple[dict[str, Array], dict[str, Array]]:
    """Gradient descent with momentum:

    v[dW[l]] := β v[dW[l]] + (1 - β) dW[l],   W[l] := W[l] - α v[dW[l]]
    v[db[l]] := β v[db[l]] + (1 - β) db[l],   b[l] := b[l] - α v[db[l]]

    with β in [0, 1).
    """
    _check_hyperparameters(beta=beta)
    return _momentum(params, grads, state, learning_rate, beta=beta)


def _momentum(
    params: Params, grads: Params, state: Params, learning_rate: Any, *, beta: float
) -> tuple[dict[str, Array], dict[str, Array]]:
    """:func:`momentum_update` without the checks of β."""
    new_params, new_state = {}, {"t": state["t"] + 1}
    for k, p in params.items():
        v = beta * state[f"vd{k}"] + (1 - beta) * grads[f"d{k}"]
        new_state[f"vd{k}"] = v
        new_params[k] = p - learning_rate * v
    return new_params, new_state


def rmsprop_update(
    params: Params,
    grads: Params,
    state: Params,
    learning_rate: Any,
    *,
    beta2: float,
    epsilon: float,
    xp: ModuleType,
) -> tuple[dict[str, Array], dict[str, Array]]:
    """RMSprop:

    s[dW[l]] := β₂ s[dW[l]] + (1 - β₂) dW[l]²,   W[l] := W[l] - α dW[l] / (√s[dW[l]] + ε)

    and the same for b[l] (squares are element-wise), with β₂ in [0, 1) and ε > 0.
    """
    _check_hyperparameters(beta2=beta2, epsilon=epsilon)
    return _rmsprop(params, grads, state, learning_rate, beta2=beta2, epsilon=epsilon, xp=xp)


def _rmsprop(
    params: Params,
    grads: Params,
    state: Params,
    learning_rate: Any,
    *,
    beta2: float,
    epsilon: float,
    xp: ModuleType,
) -> tuple[dict[str, Array], dict[str, Array]]:
    """:func:`rmsprop_update` without the checks of β₂ and ε."""
    new_params, new_state = {}, {"t": state["t"] + 1}
    for k, p in params.items():
        g = grads[f"d{k}"]
        s = beta2 * state[f"sd{k}"] + (1 - beta2) * (g * g)
        new_state[f"sd{k}"] = s
        new_params[k] = p - learning_rate * g / (xp.sqrt(s) + epsilon)
    return new_params, new_state


def adam_update(
    params: Params,
    grads: Params,
    state: Params,
    learning_rate: Any,
    *,
    beta1: float,
    beta2: float,
    epsilon: float,
    xp: ModuleType,
) -> tuple[dict[str, Array], dict[str, Array]]:
    """Adam, with bias correction and t counting steps from 1:

    t := t + 1
    v[dW] := β₁ v[dW] + (1 - β₁) dW,      v̂[dW] = v[dW] / (1 - β₁ᵗ)
    s[dW] := β₂ s[dW] + (1 - β₂) dW²,     ŝ[dW] = s[dW] / (1 - β₂ᵗ)
    W := W - α v̂[dW] / (√ŝ[dW] + ε)

    for every W[l] and b[l], with β₁, β₂ in [0, 1) and ε > 0.

    The last line is computed in the equal form W := W - α_t v[dW] / (√s[dW] + ε_t),
    with the scalars α_t = α √(1 - β₂ᵗ) / (1 - β₁ᵗ) and ε_t = ε √(1 - β₂ᵗ) (multiply the
    fraction above and below by √(1 - β₂ᵗ)): five passes over each parameter instead
    of seven, the same numbers up to rounding.
    """
    _check_hyperparameters(beta1=beta1, beta2=beta2, epsilon=epsilon)
    return _adam(
        params, grads, state, learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon, xp=xp
    )


def _adam(
    params: Params,
    grads: Params,
    state: Params,
    learning_rate: Any,
    *,
    beta1: float,
    beta2: float,
    epsilon: float,
    xp: ModuleType,
) -> tuple[dict[str, Array], dict[str, Array]]:
    """:func:`adam_update` without the checks of β₁, β₂ and ε."""
    t = state["t"] + 1
    c1 = 1 - beta1**t  # 1 - β₁ᵗ, on the device: t is a 0-d array (Python float ** array)
    root_c2 = xp.sqrt(1 - beta2**t)  # √(1 - β₂ᵗ)
    alpha_t = learning_rate * root_c2 / c1
    epsilon_t = epsilon * root_c2
    new_params, new_state = {}, {"t": t}
    for k, p in params.items():
        g = grads[f"d{k}"]
        v = beta1 * state[f"vd{k}"] + (1 - beta1) * g
        s = beta2 * state[f"sd{k}"] + (1 - beta2) * (g * g)
        new_state[f"vd{k}"], new_state[f"sd{k}"] = v, s
        new_params[k] = p - alpha_t * v / (xp.sqrt(s) + epsilon_t)
    return new_params, new_state


def optimizer_update(
    name: str,
    *,
    beta: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    xp: ModuleType,
) -> Callable[[Params, Params, Params, Any], tuple[dict[str, Array], dict[str, Array]]]:
    """The update ``(params, grads, state, α) -> (params, state)`` of optimizer ``name``,
    with its hyperparameters bound.

    ``name`` is one of :data:`OPTIMIZERS`; β, β₁ and β₂ must be in [0, 1) and ε > 0
    (all four are checked here, once, whichever the optimizer uses, as
    :class:`xpnet.NeuralNetwork` does).
    """
    _validation.check_name("optimizer", name, tuple(OPTIMIZERS))
    _check_hyperparameters(beta=beta, beta1=beta1, beta2=beta2, epsilon=epsilon)
    if name == "gd":
        return gd_update
    if name == "momentum":
        return lambda p, g, s, lr: _momentum(p, g, s, lr, beta=beta)
    if name == "rmsprop":
        return lambda p, g, s, lr: _rmsprop(p, g, s, lr, beta2=beta2, epsilon=epsilon, xp=xp)
    return lambda p, g, s, lr: _adam(p, g, s, lr, beta1=beta1, beta2=beta2, epsilon=epsilon, xp=xp)
