"""The swap-quality score (`phaze score`'s figures) of the preview faces, for TensorBoard.

The preview samples are already framed as in training, so the swaps are the model's outputs
for exactly those inputs. dlib's models load once per run, at the first preview, and read each
real face once.
"""
from __future__ import annotations

import logging

import numpy as np
import torch

from phaze.data.batch import SideBatch
from phaze.io.tensors import tensor_to_uint8
from phaze.score.run import ScoreReport, score_faces
from phaze.train.precision import Precision

logger = logging.getLogger(__name__)


class PreviewScorer:
    """Scores the preview samples; turns itself off (once, said in the log) without dlib."""

    def __init__(self) -> None:
        self._recognizer = None
        self.available = True

    @torch.no_grad()
    def score(self, model: torch.nn.Module, samples: dict[str, SideBatch],
              precision: Precision) -> ScoreReport | None:
        if not self.available or not self._load():
            return None
        faces = {side: tensor_to_uint8(batch.targets) for side, batch in samples.items()}

        def rendered_by(decoder: str):
            def swap(images: np.ndarray) -> np.ndarray:
                source = "a" if images is faces["a"] else "b"
                with precision.autocast():
                    output = model.side_forward(samples[source].inputs, decoder).face
                return tensor_to_uint8(output.float())
            return swap

        was_training = model.training
        model.eval()
        try:
            return score_faces(faces["a"], faces["b"], {"a": rendered_by("a"),
                                                        "b": rendered_by("b")},
                               self._recognizer)
        finally:
            if was_training:
                model.train()

    def _load(self) -> bool:
        if self._recognizer is None:
            from phaze.errors import DataError
            from phaze.score.recognizer import CachingRecognizer

            try:
                # The preview's real faces are the same at every preview: read once per run.
                self._recognizer = CachingRecognizer()
            except (DataError, ImportError) as error:
                logger.warning("preview scores are off: %s", error)
                self.available = False
        return self.available


def score_scalars(report: ScoreReport) -> dict[str, float]:
    """TensorBoard tags → values; figures the recognizer could not compute are left out."""
    scalars = {f"score/ssim_{side}": value for side, value in report.reconstruction_ssim.items()}
    for direction, score in report.directions.items():
        for name in ("identity_share", "identity_margin", "landmark_error_percent_iod",
                     "retrieval_top1", "sharpness_ratio"):
            value = getattr(score, name)
            if value is not None:
                scalars[f"score_{direction}/{name}"] = float(value)
    return scalars
