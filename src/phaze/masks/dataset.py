"""Faces for segmenter training: each face with its target (landmark hull or a drawn mask).

Faces are taken head-centred at the segmenter's size: for Phaze/faceswap face PNGs that is the
whole stored image, the same crop `mask apply` predicts on and convert cuts from a frame.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from phaze.data.sources.scan import frame_record
from phaze.data.sources.scan import FaceRecord, scan_folder
from phaze.errors import DataError
from phaze.faces.framing import Framing
from phaze.faces.geometry import central_box, subcrop_box
from phaze.faces.masks import extended_mask
from phaze.data.sources import labels
from phaze.masks.occluders import OccluderConfig, occlude

logger = logging.getLogger(__name__)

# Face-centred: the face fills the crop (a head crop would leave it a third of the pixels).
MASK_FRAMING = Framing(centering="face", coverage=100.0)
RIGHT_EYE, LEFT_EYE = slice(36, 42), slice(42, 48)


@dataclass(frozen=True)
class MaskFace:
    image: np.ndarray            # (S, S, 3) uint8 RGB
    target: np.ndarray           # (S, S) float32 [0, 1]: the face with nothing in front of it
    eyes: np.ndarray | None      # (2, 2) px, where glasses go
    hand_drawn: bool             # the target is a person's mask: a real label, weighted up


def load_mask_faces(folders: Sequence[str | Path], size_px: int) -> list[MaskFace]:
    """Every face of `folders` with landmarks or a hand-drawn mask, not excluded."""
    faces: list[MaskFace] = []
    for folder in folders:
        folder = Path(folder)
        found = _load_folder(folder, size_px)
        if not found:
            raise DataError(
                f"face folder {folder} has no face with landmarks (faces from `phaze extract` "
                "or faceswap/DFL faces) and no hand-drawn mask: the segmenter's self-supervised "
                "target is the landmark hull, so it needs one of them")
        faces += found
    return faces


def _load_folder(folder: Path, size_px: int) -> list[MaskFace]:
    scan = scan_folder(folder, "mask", report=False)
    drawn = labels.hand_drawn(folder)  # excluded faces: scan_folder leaves them out
    faces, skipped = [], 0
    for record in scan.records:
        if record.path is None:
            continue
        is_drawn = record.path.stem in drawn
        framed = frame_record(record, MASK_FRAMING, size_px)
        if framed is None:
            skipped += 1
            continue
        if is_drawn and framed.folder_mask is not None:
            target = framed.folder_mask.astype(np.float32) / 255.0
        elif framed.landmarks is not None:
            target = extended_mask(framed.landmarks, size_px)
        else:
            skipped += 1
            continue
        eyes = None
        if framed.landmarks is not None:
            eyes = np.stack([framed.landmarks[RIGHT_EYE].mean(0),
                             framed.landmarks[LEFT_EYE].mean(0)])
        faces.append(MaskFace(framed.image, target, eyes, is_drawn))
    if skipped:
        logger.warning("mask training: %d face(s) of %s have neither landmarks nor a hand-drawn "
                       "mask, or cannot be read: skipped", skipped, folder)
    return faces


def face_box(record: FaceRecord, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(left, top, side) in the face image's px of the crop the segmenter sees.

    A stored head face gives its face-centred sub-square; other faces are used whole (square
    ones) or by their centred square, as `frame_record` frames them.
    """
    height, width = shape[:2]
    if record.aligned is not None and height == width:
        return subcrop_box(height, record.aligned.pose_offsets, MASK_FRAMING)
    top, left, side = central_box(height, width, MASK_FRAMING)
    return left, top, side


def _augment(face: MaskFace, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray | None]:
    """A random flip, rotation, scale and shift, the same for image, target and eyes."""
    size = face.image.shape[0]
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-15, 15),
                                     rng.uniform(0.9, 1.1))
    matrix[:, 2] += rng.uniform(-0.06, 0.06, 2) * size
    if rng.random() < 0.5:
        matrix = np.array([[-1, 0, size - 1], [0, 1, 0]], np.float64) @ \
            np.vstack([matrix, [0, 0, 1]])
    image = cv2.warpAffine(face.image, matrix, (size, size), borderMode=cv2.BORDER_REFLECT)
    target = cv2.warpAffine(face.target, matrix, (size, size))
    eyes = None
    if face.eyes is not None:
        eyes = face.eyes @ matrix[:, :2].T + matrix[:, 2]
        eyes = eyes[np.argsort(eyes[:, 0])]
    return image, target, eyes


def _photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # A stronger lighting/camera jitter (gamma, saturation, blur, noise) was measured over three
    # seeds and did not help on the labelled set (docs/masks.md), so the jitter stays this simple.
    out = image.astype(np.float32) * rng.uniform(0.7, 1.3, 3) + rng.uniform(-25, 25)
    return np.clip(out, 0, 255).astype(np.uint8)


def make_batch(faces: Sequence[MaskFace], indices: Sequence[int], rng: np.random.Generator,
               occluders: OccluderConfig, textures: Sequence[np.ndarray],
               hand_weight: float,
               augment: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images (N, S, S, 3) uint8, targets (N, S, S) float32, weights (N,) float32).

    target = face mask × (1 − occluder): what stays visible once the occluder is pasted on.
    """
    images, targets, weights = [], [], []
    for index in indices:
        face = faces[index]
        image, target, eyes = face.image, face.target, face.eyes
        if augment:
            image, target, eyes = _augment(face, rng)
            image = _photometric(image, rng)
        image, alpha = occlude(image, target, textures, rng, occluders, eyes)
        images.append(image)
        targets.append(target * (alpha < 0.5))
        weights.append(hand_weight if faces[index].hand_drawn else 1.0)
    return np.stack(images), np.stack(targets).astype(np.float32), np.asarray(weights,
                                                                              np.float32)
