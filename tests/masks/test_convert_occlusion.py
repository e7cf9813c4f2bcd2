"""Convert with the occlusion mask keeps an occluder's pixels that the landmark mask paints over.

The frame is a real photo (the astronaut). First with a green object pasted on her cheek and
mouth and an oracle segmenter that marks green as "not face", so the test checks convert's own
part: crop head-centred, predict, warp into the swap's crop, combine, composite. Then with real
objects (a cat's head, a coffee cup, cut out of other photos) and a really trained segmenter,
through convert's default mask blur.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import torch
from torch import nn

from phaze.faces.aligned import CoreGeometry
from phaze.convert.pipeline import ConvertOptions, FaceConverter, _Pending
from phaze.convert.mask import MaskOptions
from phaze.faces.framing import Framing
from phaze.masks.network import SegmenterConfig
from phaze.masks.predict import MaskPredictor
from phaze.model.side_output import SideOutput

from mask_helpers import astronaut_landmarks, paste_cutout

INPUT_PX = OUTPUT_PX = 64
GREEN = np.array([0, 255, 0], np.uint8)


class GreenIsNotFace(nn.Module):
    """Logits: high everywhere except on pure green pixels."""

    def __init__(self) -> None:
        super().__init__()
        self.config = SegmenterConfig(size_px=64, widths=(4, 8, 16))
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        green = (images[:, 1] > 0.8) & (images[:, 0] < 0.2) & (images[:, 2] < 0.2)
        return torch.where(green, -20.0, 20.0)[:, None]


def _grey_swap(batch: torch.Tensor) -> SideOutput:
    return SideOutput(torch.full((batch.shape[0], 3, OUTPUT_PX, OUTPUT_PX), 0.5))


def _frame_with_occluder() -> tuple[np.ndarray, np.ndarray]:
    frame = np.ascontiguousarray(skimage.data.astronaut())
    occluder = np.zeros(frame.shape[:2], np.uint8)
    cv2.ellipse(occluder, (245, 150), (22, 14), 20, 0, 360, 1, -1)  # her left cheek and mouth
    frame[occluder > 0] = GREEN
    inside = cv2.erode(occluder, np.ones((13, 13), np.uint8)) > 0  # 6 px from the soft edge
    return frame, inside


def _convert(mask_type: str, occlusion=None, combine: str = "none") -> np.ndarray:
    frame, _ = _frame_with_occluder()
    options = ConvertOptions(mask_type=mask_type, colour="none", occlusion_combine=combine,
                             mask=MaskOptions(blur_kernel=0, threshold_pct=4.0))
    converter = FaceConverter(_grey_swap, INPUT_PX, OUTPUT_PX, Framing("face", 87.5),
                              CoreGeometry(), options, learns_mask=False, occlusion=occlusion)
    item = _Pending("astronaut", frame, [astronaut_landmarks()])
    converter.convert_batch([item])
    return item.frame



def test_the_landmark_mask_paints_over_the_occluder():
    before, inside = _frame_with_occluder()
    after = _convert("extended")
    assert np.any(after[inside] != before[inside], axis=-1).mean() > 0.9


def test_the_occlusion_mask_leaves_the_occluder_unchanged_and_swaps_the_rest():
    before, inside = _frame_with_occluder()
    oracle = MaskPredictor(GreenIsNotFace())
    for combine in ("none", "intersect"):
        after = _convert("occlusion", oracle, combine)
        np.testing.assert_array_equal(after[inside], before[inside])
        face = np.zeros(before.shape[:2], bool)
        face[100:140, 195:235] = True  # her nose and right cheek: swapped
        assert np.any(after[face] != before[face], axis=-1).mean() > 0.9


# --- with a really trained segmenter --------------------------------------------------------
# Trained by bench/make_test_mask_model.py: self-supervised (landmark hull minus synthetic
# occluders) on three faces of the astronaut, 64 px, 0.12 M parameters, 2000 steps. Nothing of
# the cat or the cup pasted below is seen in training.
ASTRONAUT_SEGMENTER = Path(__file__).parent / "mask_model_astronaut"
OBJECTS = [("cat", (250, 150), 60, True), ("cup", (215, 170), 55, False)]  # frame px


@pytest.fixture(scope="module")
def astronaut_segmenter() -> MaskPredictor:
    return MaskPredictor.load(ASTRONAUT_SEGMENTER)


def _frame_with_objects() -> tuple[np.ndarray, np.ndarray]:
    frame = np.ascontiguousarray(skimage.data.astronaut())
    footprint = np.zeros(frame.shape[:2], bool)
    for name, centre, side_px, flip in OBJECTS:
        footprint |= paste_cutout(frame, name, centre, side_px, flip)
    return frame, footprint


def _convert_default_mask(frame: np.ndarray, mask_type: str, occlusion=None,
                          combine: str = "none") -> np.ndarray:
    """Convert with convert's default mask processing (blur, threshold, box blend)."""
    options = ConvertOptions(mask_type=mask_type, colour="none", occlusion_combine=combine)
    converter = FaceConverter(_grey_swap, INPUT_PX, OUTPUT_PX, Framing("face", 87.5),
                              CoreGeometry(), options, learns_mask=False, occlusion=occlusion)
    item = _Pending("astronaut", frame.copy(), [astronaut_landmarks()])
    converter.convert_batch([item])
    return np.abs(item.frame.astype(int) - frame.astype(int)).max(-1) > 2  # (H, W) changed


@pytest.mark.parametrize("combine", ["none", "intersect"])
def test_a_trained_segmenter_keeps_real_objects_the_landmark_mask_paints_over(
        astronaut_segmenter, combine):
    frame, footprint = _frame_with_objects()
    painted = _convert_default_mask(frame, "extended")
    band = np.ones((7, 7), np.uint8)  # a 3 px band along the objects' outline is left out
    inside = (cv2.erode(footprint.astype(np.uint8), band) > 0) & painted
    assert inside.sum() > 1000  # the landmark mask swaps most of both objects
    changed = _convert_default_mask(frame, "occlusion", astronaut_segmenter, combine)
    assert 1.0 - changed[inside].mean() >= 0.95  # 99.5 % measured
    visible = painted & (cv2.dilate(footprint.astype(np.uint8), band) == 0)
    assert changed[visible].mean() >= 0.5  # 58 % measured: most of the face is still swapped
