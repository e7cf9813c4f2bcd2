"""The filter curve: how filter counts move from a start to an end value."""
from __future__ import annotations

import math

import numpy as np

SLOPE_MODES = ("full", "cap_max", "cap_min")


def floor8(value: float) -> int:
    # Round away float noise first so that a curve point that is exactly 64 never becomes 56.
    return 8 * math.floor(round(value, 6) / 8)


def _curve_point(x: float, slope: float) -> float:
    """t(x) with t(0) = 0 and t(1) = 1; negative slopes move quickly away from the start."""
    return x * (1 - slope) / (1 + slope - 2 * slope * abs(x))


def _full_curve(start: int, end: int, steps: int, slope: float) -> list[int]:
    """faceswap's float64 arithmetic in faceswap's order, floored with no rounding first.

    The order matters: a point a hair below a multiple of 8 (455.999…) drops to the multiple
    below, and faceswap's widths (so its parameter counts) include those drops.
    """
    if steps == 1:
        return [floor8(start)]
    points = np.linspace(0.0, 1.0, steps)
    values = ((points - points * slope) / (slope - 2 * slope * np.abs(points) + 1)
              * (end - start) + start)
    return [8 * math.floor(value / 8) for value in values.tolist()]


def _capped_curve(start: int, end: int, steps: int, slope: float, mode: str) -> list[int]:
    ratio = 1 - abs(slope)
    values = [start]
    while len(values) < steps and values[-1] != end:
        values.append(max(end, floor8(values[-1] * ratio)))
    if values[-1] != end:
        return values  # end never reached: faceswap pads nothing
    padding = steps - len(values)
    return [start] * padding + values if mode == "cap_max" else values + [end] * padding


def filter_curve(start: int, end: int, steps: int, slope: float, mode: str = "full") -> list[int]:
    """`steps` filter counts from `start` to `end` (multiples of 8 in `full` mode)."""
    if mode not in SLOPE_MODES:
        raise ValueError(f"unknown slope mode {mode!r}")
    if steps <= 0:
        return []
    slope = min(0.99, max(-0.99, slope))
    if mode == "full":
        return _full_curve(start, end, steps, slope)
    return _capped_curve(start, end, steps, slope, mode)
