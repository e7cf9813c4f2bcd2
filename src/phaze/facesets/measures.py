"""Per-face numbers for sorting: sharpness, expression, a thumbnail for duplicate search."""
from __future__ import annotations

import cv2
import numpy as np

from phaze.faces import geometry

MEASURE_PX = 256     # faces are resized to this before measuring, so PNG sizes compare
THUMB_PX = 32


def sharpness(image: np.ndarray, aligned_landmarks: np.ndarray) -> float:
    """Variance of the Laplacian over the inner face (eyebrows to chin): higher is sharper.

    Only the face counts: a sharp background behind a blurred face must not rescue it.
    """
    scale = MEASURE_PX / image.shape[0]
    grey = cv2.cvtColor(cv2.resize(image, (MEASURE_PX, MEASURE_PX),
                                   interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    mask = np.zeros(grey.shape, np.uint8)
    hull = cv2.convexHull(np.round(aligned_landmarks * scale).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    laplacian = cv2.Laplacian(grey.astype(np.float64), cv2.CV_64F)
    inside = laplacian[mask.astype(bool)]
    return float(inside.var()) if inside.size > 16 else 0.0


def expression(landmarks: np.ndarray) -> dict[str, float]:
    """Mouth opening, mouth width, eye opening, brow raise: pose-free, in mean-face units."""
    unit = geometry.transform_points(landmarks, geometry.legacy_matrix(landmarks))
    eye_open = (np.linalg.norm(unit[37] - unit[41]) + np.linalg.norm(unit[38] - unit[40])
                + np.linalg.norm(unit[43] - unit[47]) + np.linalg.norm(unit[44] - unit[46])) / 4
    brows = unit[17:27, 1].mean() - unit[36:48, 1].mean()
    return {"mouth_open": float(np.linalg.norm(unit[62] - unit[66])),
            "mouth_width": float(np.linalg.norm(unit[48] - unit[54])),
            "eyes_open": float(eye_open),
            "brow_raise": float(-brows)}


def thumbnail(image: np.ndarray) -> np.ndarray:
    """(32, 32) grey, brightness-normalised: near-duplicates differ by a few levels at most."""
    grey = cv2.cvtColor(cv2.resize(image, (THUMB_PX, THUMB_PX), interpolation=cv2.INTER_AREA),
                        cv2.COLOR_RGB2GRAY).astype(np.float32)
    return (grey - grey.mean()) / (grey.std() + 1e-6)
