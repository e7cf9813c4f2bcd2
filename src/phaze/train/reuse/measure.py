"""One recipe's figures: swap quality and leakage on held-out faces, and its loss curve."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from phaze.errors import DataError
from phaze.faces.framing import Framing
from phaze.score.recognizer import CachingRecognizer
from phaze.train.run_log import Progress

Faces = np.ndarray  # (N, S, S, 3) uint8 RGB


@dataclass(frozen=True)
class ScoringFaces:
    """Held-out faces at the model's working size, framed as training framed them."""

    a: Faces                 # the new A
    b: Faces
    old_a: Faces | None      # the old A (reference identity for leakage)


def read_faces(paths: Sequence[Path], framing: Framing, size_px: int, limit: int,
               what: str) -> Faces:
    from phaze.formats.face_files import framed_face_image

    images = [image for image in (framed_face_image(path, framing, size_px)
                                  for path in paths[:limit]) if image is not None]
    if not images:
        raise DataError(f"{what}: none of the faces could be read")
    return np.stack(images)


class _Renders:
    """The model's renderings of an image set by one side's decoder, each computed once (the
    score, the leakage and the sheet all ask for the same swaps)."""

    def __init__(self, model_dir: Path) -> None:
        from phaze.storage.checkpoint import load_model_dir
        from phaze.inference import Swapper

        model, _ = load_model_dir(model_dir, "cpu")
        self._swappers = {"b": Swapper(model, "a-to-b"), "a": Swapper(model, "b-to-a")}
        self._done: dict[tuple[str, int], Faces] = {}

    def to(self, side: str) -> Callable[[Faces], Faces]:
        def render(images: Faces) -> Faces:
            key = (side, id(images))   # the same array object: the same faces
            if key not in self._done:
                self._done[key] = self._swappers[side].swap_arrays(images).faces
            return self._done[key]
        return render


@dataclass(frozen=True)
class Measured:
    figures: dict           # `phaze score`'s report plus "leakage"
    swaps_to_b: Faces       # the held-out new A's faces shown as B
    swaps_to_a: Faces       # the held-out B's faces shown as A


def measure_recipe(model_dir: Path, faces: ScoringFaces,
                   recognizer: CachingRecognizer) -> Measured:
    """`phaze score`'s figures for the held-out faces, plus leakage toward the old A."""
    from phaze.score.leakage import score_leakage
    from phaze.score.run import score_faces

    renders = _Renders(model_dir)
    render = {side: renders.to(side) for side in ("a", "b")}
    figures = score_faces(faces.a, faces.b, render, recognizer).to_dict()
    figures["leakage"] = None
    if faces.old_a is not None:
        figures["leakage"] = {
            # The question: do new A's faces shown as B look like the old A?
            "a-to-b": score_leakage(render["b"](faces.a), faces.old_a, faces.b,
                                    recognizer).to_dict(),
            # And does the new A's decoder draw the old A instead of the new one?
            "b-to-a": score_leakage(render["a"](faces.b), faces.old_a, faces.a,
                                    recognizer).to_dict()}
    return Measured(figures, render["b"](faces.a), render["a"](faces.b))


def loss_curve(history: Sequence[Progress]) -> list[tuple[int, float]]:
    """(iteration, mean of the two sides' losses) at every logged report."""
    return [(p.iteration, (p.losses["a"] + p.losses["b"]) / 2)
            for p in history if "a" in p.losses and "b" in p.losses]


def final_loss(curve: Sequence[tuple[int, float]]) -> float | None:
    """Mean of the last tenth of the curve (at least one report): one report is noisy."""
    if not curve:
        return None
    tail = curve[-max(1, len(curve) // 10):]
    return float(np.mean([loss for _, loss in tail]))


def iterations_to_reach(curve: Sequence[tuple[int, float]], level: float | None) -> int | None:
    """The first logged iteration whose loss is at or below `level`; None if never."""
    if level is None:
        return None
    return next((iteration for iteration, loss in curve if loss <= level), None)
