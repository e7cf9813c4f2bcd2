"""Near-duplicate faces: groups whose small grey thumbnails are almost the same picture.

A still stretch of video gives dozens of near-identical faces; they add training time, not
variety. Within each group the sharpest face is kept and the others are the duplicates.
"""
from __future__ import annotations

import numpy as np

# RMS difference of brightness-normalised 32 px thumbnails (units: the thumbnail's std dev).
# Measured on a real talking-head clip: a noisy or JPEG-70 copy of a face differs by ~0.012,
# consecutive frames by 0.025 (still moments) to 0.1 (median 0.07), frames 5+ apart by >0.15.
DUPLICATE_DISTANCE = 0.04


def duplicate_groups(thumbs: np.ndarray, max_distance: float = DUPLICATE_DISTANCE
                     ) -> list[list[int]]:
    """Indices of (N, 32, 32) thumbnails grouped by chains of near-duplicates (size ≥ 2)."""
    flat = thumbs.reshape(len(thumbs), -1)
    squares = (flat ** 2).sum(1)
    gaps = np.sqrt(np.maximum(squares[:, None] + squares[None] - 2 * flat @ flat.T, 0)
                   / flat.shape[1])
    parent = list(range(len(flat)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for first, second in zip(*np.nonzero(np.triu(gaps < max_distance, k=1))):
        parent[root(int(first))] = root(int(second))
    groups: dict[int, list[int]] = {}
    for index in range(len(flat)):
        groups.setdefault(root(index), []).append(index)
    return [members for members in groups.values() if len(members) > 1]


def duplicates_to_drop(thumbs: np.ndarray, sharpness: np.ndarray,
                       max_distance: float = DUPLICATE_DISTANCE) -> list[int]:
    """Indices of every duplicate except the sharpest of its group."""
    drop = []
    for members in duplicate_groups(thumbs, max_distance):
        keep = max(members, key=lambda index: sharpness[index])
        drop += [index for index in members if index != keep]
    return sorted(drop)
