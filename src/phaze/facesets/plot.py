"""Scatter panels drawn with OpenCV (no plotting library): pose and expression pictures."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WHITE, BLACK, GREY = (255, 255, 255), (0, 0, 0), (170, 170, 170)
FONT = cv2.FONT_HERSHEY_SIMPLEX
MARGIN_PX = 48


@dataclass(frozen=True)
class Axis:
    label: str
    low: float
    high: float


@dataclass(frozen=True)
class Series:
    xs: np.ndarray
    ys: np.ndarray
    colour: tuple[int, int, int]    # RGB
    label: str
    radius_px: int = 3


def canvas(width_px: int, height_px: int) -> np.ndarray:
    return np.full((height_px, width_px, 3), 255, np.uint8)


def text(image: np.ndarray, where: tuple[int, int], words: str, scale: float = 0.45,
         colour: tuple[int, int, int] = BLACK) -> None:
    cv2.putText(image, words, where, FONT, scale, colour, 1, cv2.LINE_AA)


def scatter(image: np.ndarray, origin: tuple[int, int], size_px: tuple[int, int], x: Axis,
            y: Axis, series: list[Series], title: str) -> None:
    """A framed scatter plot with ticks at the ends and zero, drawn into `image` in place."""
    left, top = origin[0] + MARGIN_PX, origin[1] + 44
    width, height = size_px[0] - MARGIN_PX - 12, size_px[1] - 44 - 40
    cv2.rectangle(image, (left, top), (left + width, top + height), BLACK, 1)
    # Title centred over the frame, the y label on its own line below it, at the left.
    title_px = cv2.getTextSize(title, FONT, 0.55, 1)[0][0]
    text(image, (left + (width - title_px) // 2, origin[1] + 16), title, 0.55)

    def to_px(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        px = left + (np.clip(xs, x.low, x.high) - x.low) / (x.high - x.low) * width
        py = top + height - (np.clip(ys, y.low, y.high) - y.low) / (y.high - y.low) * height
        return np.stack([px, py], axis=1).round().astype(int)

    for value in sorted({x.low, x.high, 0.0} if x.low < 0 < x.high else {x.low, x.high}):
        (px, _), = to_px(np.array([value]), np.array([y.low]))
        cv2.line(image, (int(px), top), (int(px), top + height), GREY if value == 0 else BLACK, 1)
        text(image, (int(px) - 12, top + height + 16), f"{value:g}", 0.4)
    for value in sorted({y.low, y.high, 0.0} if y.low < 0 < y.high else {y.low, y.high}):
        (_, py), = to_px(np.array([x.low]), np.array([value]))
        cv2.line(image, (left, int(py)), (left + width, int(py)), GREY if value == 0 else BLACK, 1)
        text(image, (origin[0] + 4, int(py) + 4), f"{value:g}", 0.4)
    text(image, (left + width // 2 - 40, top + height + 34), x.label, 0.45)
    text(image, (origin[0] + 4, top - 8), y.label, 0.45)
    legend_y = top + 16
    for entry in series:
        for px, py in to_px(np.asarray(entry.xs, float), np.asarray(entry.ys, float)):
            cv2.circle(image, (int(px), int(py)), entry.radius_px, entry.colour, -1, cv2.LINE_AA)
        cv2.circle(image, (left + width - 150, legend_y - 4), 4, entry.colour, -1, cv2.LINE_AA)
        text(image, (left + width - 140, legend_y), entry.label, 0.4)
        legend_y += 16
