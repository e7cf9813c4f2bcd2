"""Who a face is: dlib's face-recognition net (128-D embeddings) and matching against references.

Two embeddings of one person lie within about 0.6 (Euclidean) of each other, different people
farther apart (dlib's own threshold, from its LFW evaluation). The net ships in
face-recognition-models, like the detector and aligner weights: nothing is downloaded.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from phaze.errors import ConfigError, DataError
from phaze.extract.weights import weights_path
from phaze.io.images import decode_image

SAME_PERSON_DISTANCE = 0.6
EMBEDDING_SIZE = 128


class FaceEmbedder:
    """dlib's ResNet face descriptor, computed on its own 150 px chip cut from the 68 points."""

    def __init__(self) -> None:
        import dlib
        self._dlib = dlib
        self._net = dlib.face_recognition_model_v1(str(weights_path("recognition")))

    def embed(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """(128,) embedding of the face whose (68, 2) frame-px `landmarks` are given."""
        dlib = self._dlib
        points = [dlib.point(int(round(x)), int(round(y))) for x, y in landmarks]
        (left, top), (right, bottom) = landmarks.min(0), landmarks.max(0)
        rect = dlib.rectangle(int(left), int(top), int(right), int(bottom))
        shape = dlib.full_object_detection(rect, points)
        return np.asarray(self._net.compute_face_descriptor(
            np.ascontiguousarray(image), shape), np.float64)


def distances(embeddings: np.ndarray, references: np.ndarray) -> np.ndarray:
    """(N,) distance of each of (N, 128) `embeddings` to its nearest of (R, 128) `references`."""
    embeddings = np.atleast_2d(embeddings)
    gaps = np.linalg.norm(embeddings[:, None, :] - references[None, :, :], axis=2)
    return gaps.min(axis=1)


@dataclass(frozen=True)
class LikeConfig:
    """`--only-like`: keep faces of the person in these reference photos."""

    references: tuple[Path, ...] = ()
    max_distance: float = SAME_PERSON_DISTANCE

    def __post_init__(self) -> None:
        if not 0 < self.max_distance < 2:
            raise ConfigError(f"like distance {self.max_distance} is invalid: expected 0 < d < 2 "
                              f"(same person below ~{SAME_PERSON_DISTANCE})")

    @property
    def enabled(self) -> bool:
        return bool(self.references)


def reference_embeddings(paths: tuple[Path, ...], finder, embedder: FaceEmbedder) -> np.ndarray:
    """(R, 128): one embedding per reference photo, each of which must show exactly one face."""
    found = []
    for path in paths:
        image = decode_image(path)
        if image is None:
            raise DataError(f"reference photo '{path}' cannot be read as an image "
                            "(expected a .png, .jpg or .webp photo of the person)")
        faces = finder.find(image)
        if len(faces) != 1:
            what = "no face" if not faces else f"{len(faces)} faces"
            raise DataError(f"reference photo '{path}' shows {what}: expected exactly one face "
                            "(crop it to the person to keep)")
        found.append(embedder.embed(image, faces[0].landmarks))
    return np.stack(found)
