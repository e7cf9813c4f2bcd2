"""Draw the astronaut with its detection box, 68 landmarks and landmark-mask outlines.

Writes docs/images/astronaut_landmarks.png, the picture in docs/extract.md:
  PYTHONPATH=src python scripts/draw_landmarks.py
The mask outlines are the convex hulls of `mask_parts_68` (the `components` mask is their
union) and the eye and mouth areas; they are drawn here from the spec's constants for the
picture only: the masks themselves belong to phaze.faces.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PART_COLOURS = {(0, 17): (255, 200, 0), (17, 27): (0, 220, 255), (27, 36): (255, 120, 255),
                (36, 48): (0, 255, 0), (48, 68): (255, 80, 80)}
MASK_PARTS = {   # mask_parts_68 of alignment_constants.json: hull of [start, end) ranges
    "right_jaw": [[0, 9], [17, 18]], "left_jaw": [[8, 17], [26, 27]],
    "right_cheek": [[17, 20], [8, 9]], "left_cheek": [[24, 27], [8, 9]],
    "nose_ridge": [[19, 25], [8, 9]], "right_eye": [[17, 22], [27, 28], [31, 36], [8, 9]],
    "left_eye": [[22, 27], [27, 28], [31, 36], [8, 9]], "nose": [[27, 31], [31, 36]]}


def hull(points: np.ndarray, ranges) -> np.ndarray:
    chosen = np.concatenate([points[a:b] for a, b in ranges])
    return cv2.convexHull(chosen.astype(np.float32)).astype(np.int32)


def main() -> None:
    from skimage import data

    from phaze.extract.find import FaceFinder, FindConfig
    image = data.astronaut()
    face = FaceFinder(FindConfig(rotations=())).find(image)[0]
    scale, (x0, y0) = 2, (150, 40)   # crop around the face and enlarge, for legibility
    crop = cv2.resize(image[y0:y0 + 170, x0:x0 + 150], None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_CUBIC)
    points = (face.landmarks - [x0, y0]) * scale
    mask = np.zeros(crop.shape[:2], np.uint8)
    for ranges in MASK_PARTS.values():
        cv2.fillConvexPoly(mask, hull(points, ranges), 255)
    tint = crop.copy()
    tint[mask > 0] = (0.6 * tint[mask > 0] + 0.4 * np.array([60, 140, 255])).astype(np.uint8)
    canvas = tint
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(canvas, contours, -1, (60, 140, 255), 2, cv2.LINE_AA)
    for ranges in ([[36, 42]], [[42, 48]], [[48, 60]]):   # eye and mouth loss areas
        cv2.polylines(canvas, [hull(points, ranges)], True, (255, 255, 0), 1, cv2.LINE_AA)
    box = face.box
    cv2.rectangle(canvas, (int((box.left - x0) * scale), int((box.top - y0) * scale)),
                  (int((box.right - x0) * scale), int((box.bottom - y0) * scale)),
                  (255, 255, 255), 1, cv2.LINE_AA)
    for index, (x, y) in enumerate(points):
        colour = next(c for (a, b), c in PART_COLOURS.items() if a <= index < b)
        cv2.circle(canvas, (int(round(x)), int(round(y))), 3, colour, -1, cv2.LINE_AA)
    target = ROOT / "docs" / "images" / "astronaut_landmarks.png"
    cv2.imwrite(str(target), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
