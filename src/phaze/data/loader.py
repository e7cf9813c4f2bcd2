"""Endless, reproducible streams of augmented A/B training batches, built by DataLoader workers."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from phaze.data.augment import AugmentConfig, augment_pair, prepare_plain
from phaze.data.batch import PairBatch, SideBatch
from phaze.data.faceset import FaceSet


class _EpochOrder:
    """Face indices of one side as an endless run of epochs, each a fresh permutation."""

    def __init__(self, count: int, seed: int, side: int) -> None:
        self._count, self._seed, self._side = count, seed, side
        self._epoch, self._order = -1, np.empty(0, dtype=np.int64)

    def take(self, start: int, stop: int) -> np.ndarray:
        """Indices at stream positions [start, stop); a batch may span two epochs."""
        return np.array([self._at(position) for position in range(start, stop)], dtype=np.int64)

    def _at(self, position: int) -> int:
        epoch, offset = divmod(position, self._count)
        if epoch != self._epoch:
            epoch_rng = np.random.default_rng([self._seed, self._side, epoch, 0])
            self._epoch, self._order = epoch, epoch_rng.permutation(self._count)
        return int(self._order[offset])


@dataclass(frozen=True)
class StreamPosition:
    """Where a process reads the batch stream: from batch `start`, its `rank`'s share of each.

    Batch k is the same for every (rank, world size) split: rank r of W gets examples
    [r·B/W, (r+1)·B/W) of global batch k (B = the global batch size), so W processes together
    see exactly the batches one process would, and a resume at iteration k continues the stream
    at batch k instead of starting it again.
    """

    start: int = 0
    rank: int = 0
    world_size: int = 1

    def __post_init__(self) -> None:
        if self.start < 0 or not 0 <= self.rank < self.world_size:
            raise ValueError(f"bad stream position {self}")


class _PairBatches(IterableDataset):
    """Yields {"a": SideBatch, "b": SideBatch} forever.

    Batch k is fully determined by (seed, k): its faces come from position k·batch of the side's
    epoch stream and each example's augmentation from an RNG seeded with (seed, side, k, example),
    so a rank can make its rows of batch k alone. Worker w of W makes batches start + w,
    start + w + W, ...; DataLoader hands them out round-robin, so the sequence is the same for
    any number of workers.
    """

    def __init__(self, facesets: dict[str, FaceSet], input_size: int, output_size: int,
                 batch_size: int, augment: AugmentConfig, seed: int,
                 position: StreamPosition) -> None:
        super().__init__()
        if batch_size % position.world_size:
            raise ValueError(f"batch size {batch_size} does not split over "
                             f"{position.world_size} processes")
        self.facesets, self.batch_size = facesets, batch_size
        self.augment, self.seed, self.position = augment, seed, position
        self.input_size, self.output_size = input_size, output_size

    def __iter__(self) -> Iterator[PairBatch]:
        worker = get_worker_info()
        first, step = (0, 1) if worker is None else (worker.id, worker.num_workers)
        orders = {side: _EpochOrder(len(faces), self.seed, code)
                  for code, (side, faces) in enumerate(self.facesets.items())}
        batch_index = self.position.start + first
        while True:
            yield {side: self._side_batch(side, orders[side], code, batch_index)
                   for code, side in enumerate(self.facesets)}
            batch_index += step

    def _side_batch(self, side: str, order: _EpochOrder, side_code: int,
                    batch_index: int) -> SideBatch:
        share = self.batch_size // self.position.world_size
        first = self.position.rank * share
        start = batch_index * self.batch_size + first
        indices = order.take(start, start + share)
        faceset = self.facesets[side]
        examples = [augment_pair(faceset.face(i), faceset.mask(i), self.input_size,
                                 self.output_size, self.augment,
                                 np.random.default_rng([self.seed, side_code, batch_index, 1,
                                                        first + row]))
                    for row, i in enumerate(indices)]
        return _stack(examples)


def _stack(examples: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]) -> SideBatch:
    inputs, targets, masks = zip(*examples)
    has_masks = all(mask is not None for mask in masks)
    return SideBatch(torch.from_numpy(np.stack(inputs)), torch.from_numpy(np.stack(targets)),
                     torch.from_numpy(np.stack(masks)) if has_masks else None)


def make_training_batches(faceset_a: FaceSet, faceset_b: FaceSet, input_size: int,
                          output_size: int, batch_size: int, augment: AugmentConfig,
                          workers: int = 2, seed: int = 0,
                          position: StreamPosition | None = None) -> Iterator[PairBatch]:
    """Endless {"a": SideBatch, "b": SideBatch}; each face once per epoch per side; seeded.

    `batch_size` is the global batch; with a `position` of rank r of W each batch holds this
    rank's B/W rows, and the stream begins at batch `position.start`.
    """
    # No worker_init_fn calling cv2.setNumThreads: in a forked worker it deadlocks on the parent's
    # thread-pool state, and OpenCV already runs single-threaded in a forked child.
    dataset = _PairBatches({"a": faceset_a, "b": faceset_b}, input_size, output_size,
                           batch_size, augment, seed, position or StreamPosition())
    loader = DataLoader(
        dataset, batch_size=None, num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        persistent_workers=workers > 0,
        prefetch_factor=2 if workers > 0 else None,
    )
    return iter(loader)


def preview_batch(faceset: FaceSet, count: int, input_size: int, output_size: int,
                  coverage: float = 100.0) -> SideBatch:
    """`count` evenly spaced faces, unaugmented, for previews; the same faces every call."""
    indices = (np.arange(count) * len(faceset)) // count
    return _stack([prepare_plain(faceset.face(int(i)), faceset.mask(int(i)), input_size,
                                 output_size, coverage) for i in indices])
