"""Draw a filter curve as a PNG, so users need no spreadsheet to see its shape."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from phaze.io.images import write_image

WIDTH, HEIGHT, MARGIN = 640, 400, 60


def _to_pixel(index: int, value: int, steps: int, top: int) -> tuple[int, int]:
    x = MARGIN + (WIDTH - 2 * MARGIN) * (index / max(steps - 1, 1))
    y = HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * (value / max(top, 1))
    return int(round(x)), int(round(y))


def plot_curve(values: list[int], path: str | Path, title: str = "") -> Path:
    """Points joined by lines, each labelled with its filter count; axes from 0."""
    image = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    top = max(values) if values else 1
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.line(image, (MARGIN, HEIGHT - MARGIN), (WIDTH - MARGIN, HEIGHT - MARGIN), (0, 0, 0), 1)
    cv2.line(image, (MARGIN, MARGIN), (MARGIN, HEIGHT - MARGIN), (0, 0, 0), 1)
    points = [_to_pixel(i, v, len(values), top) for i, v in enumerate(values)]
    if len(points) > 1:
        cv2.polylines(image, [np.array(points, np.int32)], False, (200, 90, 30), 2, cv2.LINE_AA)
    for index, (point, value) in enumerate(zip(points, values)):
        cv2.circle(image, point, 5, (40, 40, 200), -1, cv2.LINE_AA)
        cv2.putText(image, str(value), (point[0] - 14, point[1] - 12), font, 0.45, (0, 0, 0), 1,
                    cv2.LINE_AA)
        cv2.putText(image, str(index + 1), (point[0] - 4, HEIGHT - MARGIN + 20), font, 0.45,
                    (80, 80, 80), 1, cv2.LINE_AA)
    cv2.putText(image, "stage", (WIDTH // 2 - 20, HEIGHT - 15), font, 0.5, (0, 0, 0), 1,
                cv2.LINE_AA)
    cv2.putText(image, "filters  " + title, (MARGIN, 35), font, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_image(path, cv2.cvtColor(image, cv2.COLOR_BGR2RGB))  # drawn in BGR
