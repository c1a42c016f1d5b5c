"""Learning-rate decay, as in the second course's optimization assignment.

The rate of epoch 0 is α₀; epoch e + 1 uses ``decay(α₀, e)``. Formulas are
pure functions of numbers: the rate changes once per epoch, on the host, and
enters the training step as a 0-d array.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral
from typing import Any

from . import _validation

__all__ = ["SCHEDULES", "inverse_time_decay", "learning_rate_at", "scheduled_decay"]


def inverse_time_decay(alpha0: float, epoch: int, decay_rate: float) -> float:
    """α = α₀ / (1 + decay_rate · epoch)."""
    return alpha0 / (1 + decay_rate * epoch)


def scheduled_decay(alpha0: float, epoch: int, decay_rate: float, time_interval: int) -> float:
    """α = α₀ / (1 + decay_rate · ⌊epoch / time_interval⌋): the rate falls in steps."""
    return alpha0 / (1 + decay_rate * (epoch // time_interval))


#: ``learning_rate_decay=`` names.
SCHEDULES: tuple[str, ...] = ("inverse_time", "scheduled")


def learning_rate_at(
    epoch: int,
    alpha0: float,
    decay: str | Callable[[float, int], float] | None,
    *,
    decay_rate: float = 1.0,
    time_interval: int = 1000,
) -> float:
    """The learning rate of epoch ``epoch`` (0-based): α₀ at epoch 0, then
    ``decay(α₀, epoch - 1)``.

    ``decay`` is None (constant α₀), "inverse_time", "scheduled", or a callable
    ``(α₀, e) -> α``, which must return a positive finite number. α₀ and
    ``decay_rate`` must be positive and finite, ``time_interval`` an integer >= 1 and
    ``epoch`` an integer >= 0, as :class:`xpnet.NeuralNetwork` requires; every rate
    returned is positive and finite.
    """
    if not (decay is None or callable(decay)):
        _validation.check_name("learning_rate_decay", decay, SCHEDULES)
    _validation.check_positive("alpha0", alpha0, example=0.0075)
    _validation.check_positive("decay_rate", decay_rate, example=1.0)
    _validation.check_positive("time_interval", time_interval, integer=True, example=1000)
    if isinstance(epoch, bool) or not isinstance(epoch, Integral):
        raise TypeError(f"epoch must be an integer >= 0 (0 is the first epoch), got {epoch!r}")
    if epoch < 0:
        raise ValueError(f"epoch={epoch!r} is negative; expected an integer >= 0 (0 is the first)")
    return rate_at(epoch, alpha0, decay, decay_rate=decay_rate, time_interval=time_interval)


def rate_at(
    epoch: int,
    alpha0: float,
    decay: str | Callable[[float, int], float] | None,
    *,
    decay_rate: float,
    time_interval: int,
) -> float:
    """:func:`learning_rate_at` for settings already checked (the training loop's, once
    per epoch: the checks cost 30 times the formula). A callable's result is still
    checked, as it comes from the user at every epoch."""
    if decay is None or epoch == 0:
        return alpha0
    e = epoch - 1
    if decay == "inverse_time":
        alpha: Any = inverse_time_decay(alpha0, e, decay_rate)
    elif decay == "scheduled":
        alpha = scheduled_decay(alpha0, e, decay_rate, time_interval)
    else:
        alpha = decay(alpha0, e)
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(
            f"learning_rate_decay{'=' + repr(decay) if isinstance(decay, str) else ''} returned "
            f"{alpha!r} for (alpha0={alpha0}, epoch={e}); it must "
            "return a positive finite number, e.g. lambda a0, e: a0 / (1 + 0.1 * e)"
        )
    return value
