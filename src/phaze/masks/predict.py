"""Inference: face crops → occlusion masks; `mask apply` for a face folder; masks for convert."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from phaze.data.sources.scan import scan_folder
from phaze.errors import DataError
from phaze.io.images import decode_image
from phaze.data.sources import labels
from phaze.masks.dataset import MASK_FRAMING, face_box
from phaze.masks.network import Segmenter
from phaze.masks.storage import load_mask_model

logger = logging.getLogger(__name__)


class MaskPredictor:
    """A loaded segmenter: square RGB crops of any size → float32 masks of the same size."""

    def __init__(self, model: Segmenter, batch_size: int = 32) -> None:
        self.model, self.batch_size = model.eval(), batch_size
        self.size_px = model.config.size_px
        self.device = next(model.parameters()).device

    @classmethod
    def load(cls, model_dir: str | Path, device: str = "cpu",
             batch_size: int = 32) -> MaskPredictor:
        return cls(load_mask_model(Path(model_dir), device)[0], batch_size)

    @torch.inference_mode()
    def predict(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """(H, W, 3) uint8 RGB crops → (H, W) float32 probabilities of visible face."""
        out: list[np.ndarray] = []
        for first in range(0, len(crops), self.batch_size):
            chunk = crops[first:first + self.batch_size]
            resized = np.stack([self._resize(crop, self.size_px) for crop in chunk])
            batch = torch.from_numpy(resized).to(self.device).permute(0, 3, 1, 2)  # (N,3,S,S)
            probs = torch.sigmoid(self.model(batch.float().div_(255.0)))[:, 0].cpu().numpy()
            out += [self._resize(p, crop.shape[0], crop.shape[1])
                    for p, crop in zip(probs, chunk)]
        return out

    @staticmethod
    def _resize(image: np.ndarray, height: int, width: int | None = None) -> np.ndarray:
        width = height if width is None else width
        if image.shape[:2] == (height, width):
            return image
        shrink = image.shape[0] > height
        return cv2.resize(image, (width, height),
                          interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)

    def frame_masks(self, frame: np.ndarray, jobs: Sequence[tuple[np.ndarray, np.ndarray]],
                    geometry, size_px: int) -> list[np.ndarray]:
        """Masks for faces of one frame, each in its output crop.

        jobs: (frame landmarks (68, 2), frame → output crop matrix (2, 3)); each face is cut
        head-centred (as the segmenter was trained), predicted, then warped into the crop.
        """
        matrices = [geometry.crop_matrix(lm, self.size_px, MASK_FRAMING) for lm, _ in jobs]
        crops = [cv2.warpAffine(frame, m, (self.size_px, self.size_px), flags=cv2.INTER_LINEAR)
                 for m in matrices]
        masks = []
        for prob, seg_matrix, (_, out_matrix) in zip(self.predict(crops), matrices, jobs):
            seg_to_out = _compose(out_matrix, _invert(seg_matrix))
            masks.append(cv2.warpAffine(prob, seg_to_out, (size_px, size_px),
                                        flags=cv2.INTER_LINEAR))
        return masks


def _invert(matrix: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(np.asarray(matrix, np.float64))


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The affine matrix of `outer` applied after `inner` (both (2, 3))."""
    full = np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]])
    return full[:2]


@dataclass(frozen=True)
class ApplyReport:
    written: int
    kept_hand_drawn: int
    unreadable: int


def apply_to_folder(model_dir: str | Path, faces: str | Path, device: str = "cpu",
                    batch_size: int = 32) -> ApplyReport:
    """Predict a mask for every face image of `faces` into faces/masks/<stem>.png.

    The mask has the face image's size (the face PNG is the head-centred crop the segmenter
    works on). Hand-drawn masks are kept, also when one is saved while this runs.
    """
    faces = Path(faces)
    predictor = MaskPredictor.load(model_dir, device, batch_size)
    records = [r for r in scan_folder(faces, "mask", report=False).records if r.path]
    if not records:
        raise DataError(f"face folder {faces} has no face images to mask")
    drawn = labels.hand_drawn(faces)
    todo = [r for r in records if r.path.stem not in drawn]
    written = kept = unreadable = 0
    for first in range(0, len(todo), batch_size):
        chunk = [(r, decode_image(r.path)) for r in todo[first:first + batch_size]]
        unreadable += sum(image is None for _, image in chunk)
        readable = [(r, image) for r, image in chunk if image is not None]
        boxes = [face_box(r, image.shape) for r, image in readable]
        crops = [_cut(image, box) for (_, image), box in zip(readable, boxes)]
        for (record, image), box, prob in zip(readable, boxes, predictor.predict(crops)):
            mask = _put_back(prob, box, image.shape[:2])
            if labels.save_predicted_mask(faces, record.path.stem, mask):
                written += 1
            else:
                kept += 1
                logger.info("%s: a hand-drawn mask was saved meanwhile; kept it",
                            record.path.name)
    return ApplyReport(written, kept + len(records) - len(todo), unreadable)


def _cut(image: np.ndarray, box: tuple[int, int, int]) -> np.ndarray:
    """The square (left, top, side) of `image`, zero where it reaches outside."""
    left, top, side = box
    height, width = image.shape[:2]
    crop = np.zeros((side, side) + image.shape[2:], image.dtype)
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + side, width), min(top + side, height)
    if x1 > x0 and y1 > y0:
        crop[y0 - top:y1 - top, x0 - left:x1 - left] = image[y0:y1, x0:x1]
    return crop


def _put_back(prob: np.ndarray, box: tuple[int, int, int], shape: tuple[int, int]) -> np.ndarray:
    """A crop's (side, side) mask placed into a zero (H, W) mask of the whole image."""
    left, top, side = box
    height, width = shape
    mask = np.zeros((height, width), np.float32)
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + side, width), min(top + side, height)
    if x1 > x0 and y1 > y0:
        mask[y0:y1, x0:x1] = prob[y0 - top:y1 - top, x0 - left:x1 - left]
    return mask
