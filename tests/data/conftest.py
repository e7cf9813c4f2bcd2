"""Shared fixtures for the data tests: small face sets whose pixels say which face they are."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from phaze.data.faceset import FaceSet


def coded_faceset(count: int, size_px: int, with_masks: bool = True) -> FaceSet:
    """Face i is a flat image of value 10·i + 5, so a batch reveals which faces it holds."""
    faces = np.stack([np.full((size_px, size_px, 3), 10 * i + 5, np.uint8) for i in range(count)])
    masks = np.full((count, size_px, size_px), 255, np.uint8) if with_masks else None
    return FaceSet([Path(f"face_{i:03d}.png") for i in range(count)], size_px, faces=faces,
                   masks=masks)


def face_ids(images) -> list[int]:
    """Undo `coded_faceset`: the face index of each (C, H, W) image in [0, 1]."""
    return [int(round((float(img.mean()) * 255 - 5) / 10)) for img in images]


@pytest.fixture
def gradient_face() -> np.ndarray:
    """A 64 px RGB face with no symmetry, so flips and crops show."""
    rows, cols = np.mgrid[0:64, 0:64]
    return np.stack([cols * 4, rows * 4, (rows + 2 * cols) % 256], axis=-1).astype(np.uint8)
