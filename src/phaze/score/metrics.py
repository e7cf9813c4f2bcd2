"""The score's figures as plain functions of embeddings, landmarks and images (no model here)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RIGHT_EYE = slice(36, 42)  # 68-point landmark indices of each eye
LEFT_EYE = slice(42, 48)


@dataclass(frozen=True)
class IdentityTransfer:
    """How far swaps moved from the source identity to the target identity."""

    share: float  # fraction of swaps whose embedding is nearer the target identity than the source
    mean_cosine_margin: float  # mean of cos(swap, target) − cos(swap, source); > 0 is good
    count: int  # swaps with an embedding (a face was found)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True).clip(min=1e-12)


def identity_transfer(swaps: np.ndarray, sources: np.ndarray,
                      targets: np.ndarray) -> IdentityTransfer:
    """Compare each swap embedding (N, D) with the mean source and mean target identity.

    An identity is the normalised mean of its faces' unit embeddings, so one odd face cannot
    decide it. "Nearer" is by cosine similarity.
    """
    if len(swaps) == 0 or len(sources) == 0 or len(targets) == 0:
        raise ValueError("identity transfer needs at least one swap, source and target embedding")
    source_id = _unit(_unit(sources).mean(axis=0))
    target_id = _unit(_unit(targets).mean(axis=0))
    swaps = _unit(swaps)
    margin = swaps @ target_id - swaps @ source_id  # (N,)
    return IdentityTransfer(share=float((margin > 0).mean()),
                            mean_cosine_margin=float(margin.mean()), count=len(swaps))


def inter_ocular_distance(landmarks: np.ndarray) -> float:
    """Distance between the two eye centres of (68, 2) landmarks, in px."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    return float(np.linalg.norm(landmarks[RIGHT_EYE].mean(0) - landmarks[LEFT_EYE].mean(0)))


def landmark_error_percent_iod(source: np.ndarray, swap: np.ndarray) -> float:
    """Mean point distance between a face's (68, 2) landmarks and its swap's, in % of the
    source face's inter-ocular distance (so it does not depend on the crop size)."""
    source, swap = np.asarray(source, np.float64), np.asarray(swap, np.float64)
    if source.shape != (68, 2) or swap.shape != (68, 2):
        raise ValueError(f"landmarks must be (68, 2), got {source.shape} and {swap.shape}")
    iod = inter_ocular_distance(source)
    if iod <= 0:
        raise ValueError("source landmarks have both eyes at one point")
    return float(np.linalg.norm(source - swap, axis=1).mean() / iod * 100.0)


def mean_ssim(originals: np.ndarray, reconstructions: np.ndarray) -> float:
    """Mean SSIM of uint8 RGB images (N, H, W, 3) against their reconstructions."""
    from skimage.metrics import structural_similarity

    if originals.shape != reconstructions.shape:
        raise ValueError(f"shapes differ: {originals.shape} vs {reconstructions.shape}")
    return float(np.mean([structural_similarity(a, b, channel_axis=2, data_range=255)
                          for a, b in zip(originals, reconstructions)]))


# dlib's face recognition model was trained so that two descriptors nearer than this are the
# same person: the one threshold its descriptors are meant to be read with.
SAME_PERSON_DISTANCE = 0.6


@dataclass(frozen=True)
class Retrieval:
    """Identity retrieval over a gallery: is each swap recognised as the target?

    A swap counts when its nearest gallery identity is the target *and* it lies within the
    recognition model's same-person distance of it. Unlike a two-way "nearer B than A" share,
    a face that looks like nobody in particular (a blur, an average face) does not count as B.
    """

    top1: float          # share of swaps recognised as the target (nearest, and close enough)
    margin: float        # mean of (distance to the nearest other identity − to the target)
    margin_std: float    # spread of that margin over the swaps
    target_distance: float   # mean distance of the swaps to the target identity
    count: int           # swaps with an embedding
    identities: int      # identities in the gallery (target included)


def identity_retrieval(swaps: np.ndarray, gallery: dict[str, np.ndarray], target: str,
                       same_person: float = SAME_PERSON_DISTANCE) -> Retrieval:
    """Top-1 retrieval of swap descriptors (N, D) among the gallery's identities, each the
    mean of its faces' descriptors (M, D); Euclidean distance, as the model was trained."""
    if len(swaps) == 0 or target not in gallery or len(gallery) < 2:
        raise ValueError("identity retrieval needs swaps, the target and another identity")
    names = list(gallery)
    centres = np.stack([np.asarray(gallery[name], np.float64).mean(axis=0) for name in names])
    swaps = np.asarray(swaps, np.float64)
    distance = np.linalg.norm(swaps[:, None, :] - centres[None], axis=-1)   # (N, I)
    target_index = names.index(target)
    to_target = distance[:, target_index]
    margin = np.delete(distance, target_index, axis=1).min(axis=1) - to_target
    recognised = (distance.argmin(axis=1) == target_index) & (to_target < same_person)
    return Retrieval(top1=float(recognised.mean()), margin=float(margin.mean()),
                     margin_std=float(margin.std()), target_distance=float(to_target.mean()),
                     count=len(swaps), identities=len(names))


def sharpness(faces: np.ndarray) -> float:
    """Median variance of the Laplacian over the middle half of each (N, H, W, 3) uint8 face:
    the eyes, nose and mouth, where a blurry swap loses its detail first."""
    import cv2

    values = []
    for face in faces:
        height, width = face.shape[:2]
        middle = face[height // 4: height - height // 4, width // 4: width - width // 4]
        grey = cv2.cvtColor(np.ascontiguousarray(middle), cv2.COLOR_RGB2GRAY)
        values.append(float(cv2.Laplacian(grey, cv2.CV_64F).var()))
    return float(np.median(values))


def sharpness_ratio(swaps: np.ndarray, targets: np.ndarray) -> float:
    """Sharpness of the swaps over that of the target faces, both at the smaller of their two
    sizes (so a 64 px model is compared with its targets at 64 px); 1.0 is as sharp."""
    import cv2

    size = min(swaps.shape[1], targets.shape[1])

    def at_size(faces: np.ndarray) -> np.ndarray:
        if faces.shape[1] == size:
            return faces
        return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)
                         for f in faces])

    reference = sharpness(at_size(targets))
    return sharpness(at_size(swaps)) / reference if reference > 0 else 0.0
