"""Range checks of optimiser options, each failure one line naming the option and what is allowed."""
from __future__ import annotations

import math

from phaze.errors import ConfigError


def check_number(option: str, value: object, low: float, high: float) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and low <= value <= high
    if not ok:
        raise ConfigError(f"optimizer option {option!r} is {value!r}; allowed: {low} to {high}")


def check_integer(option: str, value: object, low: int, high: int) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if not ok:
        raise ConfigError(f"optimizer option {option!r} is {value!r}; allowed: a whole number "
                          f"from {low} to {high}")


def check_beta(option: str, value: object) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value < 1.0
    if not ok:
        raise ConfigError(f"optimizer option {option!r} is {value!r}; allowed: 0 <= value < 1")
