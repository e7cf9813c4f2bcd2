"""Identity leakage: do swaps look like a person the model was meant to forget?

When a model is reused for a new pair (old A + B → new A + B), the parts loaded from the old
model may carry the old A's identity into the new swaps. Leakage compares each swap's face
embedding with the old identity and with the identity the swap should have: a swap nearer the
old identity has leaked.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from phaze.score.metrics import identity_transfer
from phaze.score.recognizer import FaceRecognizer

Faces = np.ndarray  # (N, H, W, 3) uint8 RGB


@dataclass(frozen=True)
class Leakage:
    """How close swaps come to an old identity, against the identity they should show."""

    share: float   # fraction of swaps nearer the old identity than the intended one
    margin: float  # mean cos(swap, old) − cos(swap, intended); < 0: no leak
    count: int     # swaps with an embedding


def identity_leakage(swaps: np.ndarray, old: np.ndarray, intended: np.ndarray) -> Leakage:
    """Embeddings (N, D) of swaps against the old identity's and the intended identity's.

    The same cosine comparison as identity transfer, with the intended identity in the place
    of the source: a swap "transferred" to the old identity is a leak.
    """
    moved = identity_transfer(swaps, sources=intended, targets=old)
    return Leakage(share=moved.share, margin=moved.mean_cosine_margin, count=moved.count)


@dataclass
class LeakageScore:
    """Leakage of a set of swaps, or None where the recognition model found no face."""

    faces: int
    share: float | None = None
    margin: float | None = None
    swaps_without_face: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def score_leakage(swaps: Faces, old_faces: Faces, intended_faces: Faces,
                  recognizer: FaceRecognizer) -> LeakageScore:
    """Leakage of `swaps` toward the identity of `old_faces`, against `intended_faces`'."""
    reads = {name: [recognizer.read(face) for face in faces]
             for name, faces in (("swaps", swaps), ("old identity faces", old_faces),
                                 ("intended identity faces", intended_faces))}
    found = {name: [r.embedding for r in values if r is not None]
             for name, values in reads.items()}
    score = LeakageScore(faces=len(swaps), swaps_without_face=len(swaps) - len(found["swaps"]))
    missing = [name for name, values in found.items() if not values]
    if missing:
        score.notes.append(f"no face found by the recognition model in any of the "
                           f"{' / '.join(missing)}: leakage not computed")
        return score
    leak = identity_leakage(np.stack(found["swaps"]), np.stack(found["old identity faces"]),
                            np.stack(found["intended identity faces"]))
    score.share, score.margin = leak.share, leak.margin
    if score.swaps_without_face:
        score.notes.append(f"{score.swaps_without_face} swap(s) without a face; figures use "
                           "the rest")
    return score
