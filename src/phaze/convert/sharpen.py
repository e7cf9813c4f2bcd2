"""Optional sharpening of the swapped face before it is pasted back (unsharp mask)."""
from __future__ import annotations

import cv2
import numpy as np

from phaze.convert import SHARPEN_METHODS



def sharpen(face: np.ndarray, method: str = "none", amount: float = 1.0,
            radius_pct: float = 0.6) -> np.ndarray:
    """float32 (S, S, 3) in [0, 1] → the same, sharpened: face + amount × (face − blurred).

    radius_pct is the Gaussian sigma as a percentage of the face size.
    """
    SHARPEN_METHODS.check(method)
    if method == "none" or amount == 0:
        return face
    sigma = max(face.shape[0] * radius_pct / 100.0, 0.3)
    blurred = cv2.GaussianBlur(face, (0, 0), sigma)
    return np.clip(face + amount * (face - blurred), 0.0, 1.0)
