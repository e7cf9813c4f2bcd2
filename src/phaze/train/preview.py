"""Preview grids: a fixed sample of faces, their reconstructions and swaps, as a labelled PNG.

Rows: A, A→A, A→B, B, B→B, B→A; one column per sample face. Faces are upscaled to at least
MIN_FACE_PX so a 64 px model is still readable.
"""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import torch

from phaze.data.batch import SideBatch
from phaze.io.images import encode_image
from phaze.io.tensors import tensor_to_uint8
from phaze.model.freeze import set_frozen_norms_eval
from phaze.storage.folder import ModelFolder
from phaze.train.precision import Precision

MIN_FACE_PX = 128
LABEL_WIDTH_PX = 120
HEADER_PX = 28
BACKGROUND = (32, 32, 32)
TEXT = (235, 235, 235)
ROWS = (("A", "a", None), ("A->A", "a", "a"), ("A->B swap", "a", "b"),
        ("B", "b", None), ("B->B", "b", "b"), ("B->A swap", "b", "a"))


@torch.no_grad()
def render_preview(model: torch.nn.Module, samples: dict[str, SideBatch], precision: Precision,
                   iteration: int) -> np.ndarray:
    """The preview grid as (H, W, 3) uint8 RGB; `samples` are on the model's device."""
    was_training = model.training
    model.eval()  # no dropout or noise: show what the model has learned
    try:
        rows = [_row(model, samples, precision, source, pathway)
                for _, source, pathway in ROWS]
    finally:
        if was_training:
            model.train()
            set_frozen_norms_eval(model)
    return _compose(rows, [label for label, _, _ in ROWS], iteration)


def _row(model: torch.nn.Module, samples: dict[str, SideBatch], precision: Precision,
         source: str, pathway: str | None) -> np.ndarray:
    """One row of faces side by side, (R, count·R, 3) uint8 RGB."""
    batch = samples[source]
    if pathway is None:
        faces = batch.targets
    else:
        with precision.autocast():
            faces = model.side_forward(batch.inputs, pathway).face
    return np.concatenate(list(tensor_to_uint8(faces)), axis=1)  # (R, N·R, 3)


def _compose(rows: list[np.ndarray], labels: list[str], iteration: int) -> np.ndarray:
    scale = math.ceil(MIN_FACE_PX / rows[0].shape[0])
    if scale > 1:
        rows = [cv2.resize(row, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
                for row in rows]
    face_px, width = rows[0].shape[0], rows[0].shape[1]
    canvas = np.full((HEADER_PX + face_px * len(rows), LABEL_WIDTH_PX + width, 3), BACKGROUND,
                     dtype=np.uint8)
    _text(canvas, f"iteration {iteration}", (8, HEADER_PX - 9))
    for index, (row, label) in enumerate(zip(rows, labels)):
        top = HEADER_PX + index * face_px
        canvas[top:top + face_px, LABEL_WIDTH_PX:] = row
        _text(canvas, label, (8, top + face_px // 2 + 5))
    return canvas


def _text(canvas: np.ndarray, text: str, origin: tuple[int, int]) -> None:
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.5, TEXT, 1, cv2.LINE_AA)


def write_preview(folder: ModelFolder, iteration: int, image: np.ndarray) -> Path:
    """Save in the model folder as the latest preview and the one of `iteration`."""
    return folder.write_preview(iteration, encode_image(image, ".png"))
