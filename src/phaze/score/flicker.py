"""Flicker of a converted clip: how much the face region changes from frame to frame, against
how much it changes in the source.

A steady swap changes about as much as the real face does (ratio near 1); a face that shakes
or boils from frame to frame scores well above 1. The region of a pair of frames is the union
of both frames' face boxes (landmark bounding boxes grown by `margin`), the same pixels in
output and source, so the ratio compares like with like.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

Frames = Iterable[tuple[str, np.ndarray]]   # (name, (H, W, 3) uint8), in order


@dataclass(frozen=True)
class Flicker:
    output_change: float    # mean |frame t − frame t−1| in the face region, 0–255 levels
    source_change: float
    pairs: int              # consecutive frame pairs with a face in both

    @property
    def ratio(self) -> float | None:
        return self.output_change / self.source_change if self.source_change > 0 else None


def face_box(faces: list[np.ndarray], shape: tuple[int, ...],
             margin: float = 0.1) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) px around every face's (68, 2) landmarks, or None."""
    if not faces:
        return None
    points = np.concatenate([np.asarray(f, np.float64).reshape(-1, 2) for f in faces])
    low, high = points.min(0), points.max(0)
    grow = (high - low) * margin
    left, top = np.floor(low - grow).astype(int)
    right, bottom = np.ceil(high + grow).astype(int)
    height, width = shape[:2]
    top, left = max(top, 0), max(left, 0)
    bottom, right = min(bottom, height), min(right, width)
    return (top, bottom, left, right) if bottom > top and right > left else None


def _union(a, b):
    return (min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3]))


def measure_flicker(source: Frames, output: Frames,
                    faces_of: dict[str, list[np.ndarray]]) -> Flicker:
    """Mean frame-to-frame change in the face region of `output` and of `source`, which must
    hold the same frames in the same order; `faces_of[name]` are the frame's landmarks."""
    total_out = total_src = 0.0
    pixels = pairs = 0
    previous = None     # (box, source frame, output frame) of the frame before
    for (name, src), (_, out) in zip(source, output):
        box = face_box(faces_of.get(name, []), src.shape)
        if box is not None and previous is not None and previous[0] is not None:
            top, bottom, left, right = _union(box, previous[0])
            region = np.s_[top:bottom, left:right]
            total_src += np.abs(src[region].astype(np.int16) - previous[1][region]).sum()
            total_out += np.abs(out[region].astype(np.int16) - previous[2][region]).sum()
            pixels += src[region].size
            pairs += 1
        previous = (box, src, out)
    if not pixels:
        return Flicker(0.0, 0.0, 0)
    return Flicker(total_out / pixels, total_src / pixels, pairs)
