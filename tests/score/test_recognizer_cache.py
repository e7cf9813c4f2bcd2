"""CachingRecognizer: each distinct face is read once, so repeated scores read only what is new."""
from __future__ import annotations

import numpy as np
import torch

from phaze.config.parse import options_from_mapping
from phaze.score.recognizer import CachingRecognizer, FaceReading
from phaze.train.preview_score import PreviewScorer
from phaze.train.speed import Speed


class CountingRecognizer:
    """Stands in for dlib: a reading whose embedding is the face's mean (fixed landmarks),
    and a call count."""

    def __init__(self) -> None:
        self.calls = 0

    def read(self, face: np.ndarray) -> FaceReading:
        self.calls += 1
        return FaceReading(embedding=np.full(128, face.mean()),
                           landmarks=np.arange(136.0).reshape(68, 2))


def _face(value: int, size: int = 8) -> np.ndarray:
    return np.full((size, size, 3), value, dtype=np.uint8)


def test_each_distinct_face_is_read_once():
    counting = CountingRecognizer()
    recognizer = CachingRecognizer(counting)

    first = recognizer.read(_face(1))
    again = recognizer.read(_face(1).copy())
    recognizer.read(_face(2))
    recognizer.read(np.full((4, 16, 3), 1, dtype=np.uint8))  # same bytes, another shape

    assert again is first
    assert counting.calls == 3


def test_the_oldest_reading_is_forgotten_past_max_entries():
    counting = CountingRecognizer()
    recognizer = CachingRecognizer(counting, max_entries=2)
    for value in (1, 2, 1, 3):   # 1 is used again, so 2 is the oldest when 3 arrives
        recognizer.read(_face(value))

    recognizer.read(_face(1))
    assert counting.calls == 3
    recognizer.read(_face(2))
    assert counting.calls == 4


def test_a_second_preview_reads_only_the_new_swaps(train_tiny, make_train_step,
                                                   random_pair_batch):
    step = make_train_step(options_from_mapping(train_tiny), Speed())
    samples = random_pair_batch(step)   # 2 faces a side
    counting = CountingRecognizer()
    scorer = PreviewScorer()
    scorer._recognizer = CachingRecognizer(counting)

    scorer.score(step.model, samples, step.parts.precision)
    assert counting.calls == 8   # 4 real faces and 2 × 2 swaps (48 → 32 for 8 a side)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():   # training moved the weights: new swaps
        for param in step.model.parameters():
            param.add_(0.05 * torch.randn(param.shape, generator=generator))
    scorer.score(step.model, samples, step.parts.precision)

    assert counting.calls == 12
