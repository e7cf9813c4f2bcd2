"""The comparison sheet: one preview row per recipe (the same held-out faces) and the loss
curves of all recipes, as one PNG."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from phaze.train.reuse.measure import ScoringFaces

FACE_PX = 96
LABEL_WIDTH_PX = 190
HEADER_PX = 26
PLOT_HEIGHT_PX = 300
BACKGROUND = (32, 32, 32)
TEXT = (235, 235, 235)
GRID = (80, 80, 80)
# Distinct line colours (RGB), cycled when there are more recipes.
COLOURS = ((230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178),
           (213, 94, 0), (204, 121, 167), (255, 255, 255), (150, 150, 150))


def _strip(faces: np.ndarray) -> np.ndarray:
    """Faces (N, S, S, 3) side by side at FACE_PX: (FACE_PX, N·FACE_PX, 3)."""
    resized = [cv2.resize(face, (FACE_PX, FACE_PX), interpolation=cv2.INTER_AREA
                          if face.shape[0] > FACE_PX else cv2.INTER_NEAREST) for face in faces]
    return np.concatenate(resized, axis=1)


def original_row(faces: ScoringFaces, count: int) -> np.ndarray:
    """The held-out faces the rows below show swapped: new A's, then B's."""
    return np.concatenate([_strip(faces.a[:count]), _strip(faces.b[:count])], axis=1)


def recipe_row(swaps_to_b: np.ndarray, swaps_to_a: np.ndarray, count: int) -> np.ndarray:
    """New A's held-out faces shown as B, then B's shown as A (the recipe's swaps)."""
    return np.concatenate([_strip(swaps_to_b[:count]), _strip(swaps_to_a[:count])], axis=1)


def compose_sheet(header: np.ndarray, rows: Sequence[tuple[str, np.ndarray]],
                  curves: dict[str, Sequence[tuple[int, float]]]) -> np.ndarray:
    """Header row, one labelled row per recipe, then the loss curves: (H, W, 3) uint8 RGB."""
    width = LABEL_WIDTH_PX + header.shape[1]
    labelled = [("held-out faces", header)] + list(rows)
    canvas = np.full((HEADER_PX + FACE_PX * len(labelled) + PLOT_HEIGHT_PX, width, 3),
                     BACKGROUND, dtype=np.uint8)
    half = header.shape[1] // 2
    _text(canvas, "new A -> B", (LABEL_WIDTH_PX + 6, HEADER_PX - 8))
    _text(canvas, "B -> new A", (LABEL_WIDTH_PX + half + 6, HEADER_PX - 8))
    for index, (label, row) in enumerate(labelled):
        top = HEADER_PX + index * FACE_PX
        canvas[top:top + FACE_PX, LABEL_WIDTH_PX:LABEL_WIDTH_PX + row.shape[1]] = row
        colour = COLOURS[(index - 1) % len(COLOURS)] if index else TEXT
        _text(canvas, label, (6, top + FACE_PX // 2 + 5), colour)
    _plot(canvas[HEADER_PX + FACE_PX * len(labelled):], curves)
    return canvas


def _plot(area: np.ndarray, curves: dict[str, Sequence[tuple[int, float]]]) -> None:
    """Loss (mean of both sides) against iteration, one line per recipe, in `area` (a view)."""
    points = [point for curve in curves.values() for point in curve]
    if not points:
        return
    left, right, top, bottom = LABEL_WIDTH_PX, area.shape[1] - 12, 24, area.shape[0] - 22
    iterations = [i for i, _ in points]
    losses = [loss for _, loss in points]
    x0, x1 = min(iterations), max(max(iterations), min(iterations) + 1)
    y0, y1 = min(losses), max(max(losses), min(losses) + 1e-6)

    def xy(iteration: int, loss: float) -> tuple[int, int]:
        return (round(left + (iteration - x0) / (x1 - x0) * (right - left)),
                round(bottom - (loss - y0) / (y1 - y0) * (bottom - top)))

    cv2.rectangle(area, (left, top), (right, bottom), GRID, 1)
    _text(area, "loss (mean of A and B) per iteration", (left, 16))
    _text(area, f"{y1:.3f}", (left - 60, top + 10))
    _text(area, f"{y0:.3f}", (left - 60, bottom))
    _text(area, str(x0), (left, bottom + 16))
    _text(area, str(x1), (right - 40, bottom + 16))
    for index, curve in enumerate(curves.values()):
        line = np.array([xy(i, loss) for i, loss in curve], dtype=np.int32)
        if len(line) > 1:
            cv2.polylines(area, [line], False, COLOURS[index % len(COLOURS)], 1, cv2.LINE_AA)


def _text(canvas: np.ndarray, text: str, origin: tuple[int, int],
          colour: tuple[int, int, int] = TEXT) -> None:
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
