"""Warp to landmarks (faceswap's optional augmentation, off by default): bend a face so its 68
landmarks move toward those of a similar face of the other side."""
from __future__ import annotations

import cv2
import numpy as np

NEAREST_FACES = 10  # a face warps toward one of this many nearest faces of the other side
NOISE_SIGMA_PER_PX = 2.0 / 256.0  # noise added to the destination points, per px of size


def nearest_faces(landmarks: np.ndarray, others: np.ndarray,
                  count: int = NEAREST_FACES) -> np.ndarray:
    """For each face's aligned (68, 2) landmarks in (N, 68, 2), the indices (N, k) of the k
    nearest faces in `others` (M, 68, 2) by L2 distance over all 68 points, nearest first."""
    ours = landmarks.reshape(len(landmarks), -1).astype(np.float64)
    theirs = others.reshape(len(others), -1).astype(np.float64)
    # |a − b|² = |a|² + |b|² − 2a·b: an (N, M) matrix, never an (N, M, 136) one.
    distances = (ours ** 2).sum(1)[:, None] + (theirs ** 2).sum(1)[None, :] - 2.0 * ours @ theirs.T
    return np.argsort(distances, axis=1, kind="stable")[:, :min(count, len(others))]


def edge_anchors(size: int) -> np.ndarray:
    """The 8 fixed points (corners and edge midpoints) that keep the border in place."""
    last, mid = size - 1, (size - 1) / 2.0
    return np.array([[0, 0], [mid, 0], [last, 0], [last, mid], [last, last], [mid, last],
                     [0, last], [0, mid]], dtype=np.float64)


def warp_to_landmarks(image: np.ndarray, source: np.ndarray, destination: np.ndarray,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """Move `image`'s landmarks `source` (68, 2) to `destination` (68, 2), both image px.

    Destination points get Gaussian noise (σ = 2/256 × size) when `rng` is given. The dense map
    is the linear (Delaunay) interpolation of the point displacements, edges anchored, applied
    with `cv2.remap`.
    """
    from scipy.interpolate import griddata

    size = image.shape[0]
    destination = np.asarray(destination, np.float64)
    if rng is not None:
        destination = destination + rng.normal(0.0, NOISE_SIGMA_PER_PX * size, destination.shape)
    anchors = edge_anchors(size)
    # remap reads, for each output pixel, where to sample: map destination points to sources.
    dst_points = np.concatenate([destination, anchors])
    src_points = np.concatenate([np.asarray(source, np.float64), anchors])
    grid_y, grid_x = np.mgrid[0:size, 0:size]
    sample = griddata(dst_points, src_points, (grid_x, grid_y), method="linear")  # (H, W, 2)
    # Outside the points' hull (none with corner anchors, but guard it) sample in place.
    outside = np.isnan(sample[..., 0])
    sample[outside] = np.stack([grid_x, grid_y], -1)[outside]
    return cv2.remap(image, sample[..., 0].astype(np.float32), sample[..., 1].astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
