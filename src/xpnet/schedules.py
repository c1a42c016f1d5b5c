"""Learning-rate decay, as in the second course's optimization assignment.

The rate of epoch 0 is α₀; epoch e + 1 uses ``decay(α₀, e)``. Formulas are
pure functions of numbers: the rate changes once per epoch, on the host, and
enters the training step as a 0-d array.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

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
    ``(α₀, e) -> α``, which must return a positive finite number.
    """
    if decay is None or epoch == 0:
        return alpha0
    e = epoch - 1
    if decay == "inverse_time":
        return inverse_time_decay(alpha0, e, decay_rate)
    if decay == "scheduled":
        return scheduled_decay(alpha0, e, decay_rate, time_interval)
    alpha: Any = decay(alpha0, e)
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(
            f"learning_rate_decay returned {alpha!r} for (alpha0={alpha0}, epoch={e}); it must "
            "return a positive finite number, e.g. lambda a0, e: a0 / (1 + 0.1 * e)"
        )
    return value
