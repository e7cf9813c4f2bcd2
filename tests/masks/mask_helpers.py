"""Helpers for the mask tests: the astronaut's faces and the tiny segmenter's shape."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from phaze.faces.aligned import AlignedFace
from phaze.formats.faceswap_png import face_metadata, write_face_png
from phaze.masks.network import SegmenterConfig

HEAD_PX = 128
TINY = SegmenterConfig(size_px=32, widths=(4, 8, 16))


def astronaut_landmarks() -> np.ndarray:
    """dlib's landmarks of the astronaut photo, as the face-source tests fix them."""
    path = Path(__file__).parents[1] / "data" / "sources" / "conftest.py"
    spec = importlib.util.spec_from_file_location("astronaut_landmarks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ASTRONAUT_LANDMARKS.copy()


def write_astronaut_faces(folder: Path, landmarks: np.ndarray, angles=(0, -6, 6)) -> None:
    """Head-centred faceswap PNGs of the astronaut, the frame rotated by each angle."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = skimage.data.astronaut()
    for index, angle in enumerate(angles):
        matrix = cv2.getRotationMatrix2D((220.0, 130.0), angle, 1.0)
        rotated = cv2.warpAffine(frame, matrix, frame.shape[1::-1])
        points = landmarks @ matrix[:, :2].T + matrix[:, 2]
        face = AlignedFace(f"astronaut_{index}.png", 0, 175, 76, 90, 90, points)
        write_face_png(folder / f"astronaut_{index}_0.png", face.warp(rotated, HEAD_PX),
                       face_metadata(face, face.frame, rotated.shape[:2]))
