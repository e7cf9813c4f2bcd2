"""The folder's main person and how far each face is from them (other people, bad detections)."""
from __future__ import annotations

import numpy as np

from phaze.extract.identity import SAME_PERSON_DISTANCE

CORE_DISTANCE = 0.5   # tighter than "same person", so the core is one person even in a mix


def main_identity(embeddings: np.ndarray) -> np.ndarray:
    """(128,) centre of the largest group of mutually similar faces among (N, 128).

    The face with the most neighbours within CORE_DISTANCE seeds the group; the mean of those
    neighbours is the main identity. A plain mean would be pulled towards the other people.
    """
    gaps = np.linalg.norm(embeddings[:, None] - embeddings[None], axis=2)
    neighbours = gaps < CORE_DISTANCE
    seed = int(neighbours.sum(axis=1).argmax())
    return embeddings[neighbours[seed]].mean(axis=0)


def identity_distances(embeddings: np.ndarray) -> np.ndarray:
    """(N,) distance of each face from the folder's main identity (> ~0.6: someone else)."""
    return np.linalg.norm(embeddings - main_identity(embeddings), axis=1)


def identity_scores(embeddings: np.ndarray) -> np.ndarray:
    """(N,) 1 − distance: higher is more like the main person; below 1 − 0.6 = 0.4, another."""
    return 1.0 - identity_distances(embeddings)


SAME_PERSON_SCORE = 1.0 - SAME_PERSON_DISTANCE
