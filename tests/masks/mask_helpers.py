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
        write_face_png(folder / f"astronaut_{index}_0.png", face.warp(rotated, HEAD_PX, "head"),
                       face_metadata(face, face.frame, rotated.shape[:2]))


# Real objects cut out of other scikit-image photos by hand-placed outlines (as
# bench/make_mask_labelled_set.py does): kinds the segmenter never sees in training.
CUTOUTS = {
    "cat": ("chelsea", [(140, 40), (200, 20), (260, 40), (310, 30), (330, 110), (320, 200),
                        (260, 260), (180, 260), (130, 200), (120, 110)]),
    "cup": ("coffee", [(180, 60), (420, 60), (440, 140), (520, 170), (520, 260), (420, 280),
                       (380, 330), (220, 330), (170, 200)]),
}


def paste_cutout(frame: np.ndarray, name: str, centre: tuple[int, int], side_px: int,
                 flip: bool = False) -> np.ndarray:
    """Paste the object `name` on `frame` (in place) centred at `centre`, its longer side
    `side_px`; returns its (H, W) bool footprint."""
    photo_name, outline = CUTOUTS[name]
    photo = getattr(skimage.data, photo_name)()[..., :3]
    alpha = np.zeros(photo.shape[:2], np.float32)
    cv2.fillPoly(alpha, [np.array(outline, np.int32)], 1.0, cv2.LINE_AA)
    ys, xs = np.nonzero(alpha)
    box = slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)
    rgb, alpha = photo[box], alpha[box]
    scale = side_px / max(rgb.shape[:2])
    size = (int(rgb.shape[1] * scale), int(rgb.shape[0] * scale))
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = cv2.resize(alpha, size)[..., None]
    if flip:
        rgb, alpha = rgb[:, ::-1], alpha[:, ::-1]
    top, left = centre[1] - size[1] // 2, centre[0] - size[0] // 2
    region = frame[top:top + size[1], left:left + size[0]]
    region[:] = np.clip(region * (1 - alpha) + rgb * alpha, 0, 255).astype(np.uint8)
    footprint = np.zeros(frame.shape[:2], bool)
    footprint[top:top + size[1], left:left + size[0]] = alpha[..., 0] > 0.5
    return footprint
