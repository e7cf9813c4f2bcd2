"""Endless, reproducible streams of augmented A/B training batches, built by DataLoader workers."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from phaze.data.settings import AugmentConfig
from phaze.data.augment import Example, augment_pair, prepare_plain
from phaze.data.batch import PairBatch, SideBatch
from phaze.data.faceset import FaceSet
from phaze.data.landmark_warp import nearest_faces
from phaze.data.settings import MaskWeighting
from phaze.data.loss_weights import loss_weight_map, prepare_face_mask
from phaze.data.training_face import TrainingFace


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
                 position: StreamPosition, weighting: Weighting) -> None:
        super().__init__()
        if batch_size % position.world_size:
            raise ValueError(f"batch size {batch_size} does not split over "
                             f"{position.world_size} processes")
        self.facesets, self.batch_size = facesets, batch_size
        self.augment, self.seed, self.position = augment, seed, position
        self.input_size, self.output_size = input_size, output_size
        self.weighting = weighting
        self.destinations = (warp_destinations(facesets) if augment.warp_to_landmarks
                             else {side: None for side in facesets})

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
        rows = []
        for row, index in enumerate(indices):
            rng = np.random.default_rng([self.seed, side_code, batch_index, 1, first + row])
            face = faceset.face(int(index))
            destination = self._destination(side, int(index), rng)
            planes = mask_planes(face)
            example = augment_pair(face.image, planes, self.input_size, self.output_size,
                                   self.augment, rng, face.landmarks, destination)
            rows.append((example, face))
        return stack_examples(rows, self.weighting if faceset.has_weighting else None)

    def _destination(self, side: str, index: int, rng: np.random.Generator) -> np.ndarray | None:
        """Landmarks of one of the nearest faces of the other side (warp to landmarks)."""
        table = self.destinations[side]
        if table is None or table.get(index) is None:
            return None
        choices = table[index]
        return choices[int(rng.integers(len(choices)))]


@dataclass(frozen=True)
class Weighting:
    """How rows become loss weights: the mask options and whether the face mask counts."""

    masks: MaskWeighting = MaskWeighting()
    penalized: bool = True


def mask_planes(face: TrainingFace) -> np.ndarray | None:
    """(S, S, 3) uint8 [face mask, eyes, mouth] (zeros where absent), or None with neither."""
    if face.face_mask is None and face.areas is None:
        return None
    planes = np.zeros(face.image.shape[:2] + (3,), np.uint8)
    if face.face_mask is not None:
        planes[..., 0] = face.face_mask
    if face.areas is not None:
        planes[..., 1:] = face.areas
    return planes


def stack_examples(rows: list[tuple[Example, TrainingFace]],
                   weighting: Weighting | None) -> SideBatch:
    """A SideBatch of augmented rows; masks and loss weights when `weighting` is given.

    A row without a face mask gets a mask of ones (nothing masked out of its image losses) and
    `mask_present` 0, so a learned mask is trained only on faces that have one.
    """
    inputs = torch.from_numpy(np.stack([example.inputs for example, _ in rows]))
    targets = torch.from_numpy(np.stack([example.target for example, _ in rows]))
    if weighting is None:
        return SideBatch(inputs, targets)
    size = targets.shape[-1]
    masks, present, weights = [], [], []
    for example, face in rows:
        planes = example.masks
        face_mask = None
        if face.face_mask is not None:
            face_mask = prepare_face_mask(planes[0], weighting.masks)
        eyes, mouth = (planes[1], planes[2]) if face.areas is not None else (None, None)
        weights.append(loss_weight_map(face_mask, eyes, mouth, weighting.masks,
                                       weighting.penalized, size=size))
        masks.append(face_mask if face_mask is not None else np.ones((size, size), np.float32))
        present.append(face_mask is not None)
    any_mask = any(present)
    return SideBatch(inputs, targets,
                     masks=torch.from_numpy(np.stack(masks)[:, None]) if any_mask else None,
                     loss_weights=torch.from_numpy(np.stack(weights)[:, None]),
                     mask_present=torch.tensor(present, dtype=torch.float32)
                     if any_mask else None)


def warp_destinations(facesets: dict[str, FaceSet]) -> dict[str, dict[int, np.ndarray] | None]:
    """Per side, face index → landmarks (k, 68, 2) of its nearest faces on the other side."""
    sides = list(facesets)
    tables: dict[str, dict[int, np.ndarray] | None] = {}
    for side, other in zip(sides, reversed(sides)):
        ours, theirs = facesets[side].landmarks, facesets[other].landmarks
        have, have_other = np.isfinite(ours[:, 0, 0]), np.isfinite(theirs[:, 0, 0])
        if not have.any() or not have_other.any():
            tables[side] = None
            continue
        candidates = theirs[have_other]
        nearest = nearest_faces(ours[have], candidates)
        tables[side] = {int(index): candidates[row]
                        for index, row in zip(np.flatnonzero(have), nearest)}
    return tables


def make_training_batches(faceset_a: FaceSet, faceset_b: FaceSet, input_size: int,
                          output_size: int, batch_size: int, augment: AugmentConfig,
                          workers: int = 2, seed: int = 0,
                          position: StreamPosition | None = None,
                          weighting: Weighting | None = None) -> Iterator[PairBatch]:
    """Endless {"a": SideBatch, "b": SideBatch}; each face once per epoch per side; seeded.

    `batch_size` is the global batch; with a `position` of rank r of W each batch holds this
    rank's B/W rows, and the stream begins at batch `position.start`.
    """
    # No worker_init_fn calling cv2.setNumThreads: in a forked worker it deadlocks on the parent's
    # thread-pool state, and OpenCV already runs single-threaded in a forked child.
    dataset = _PairBatches({"a": faceset_a, "b": faceset_b}, input_size, output_size,
                           batch_size, augment, seed, position or StreamPosition(),
                           weighting or Weighting())
    loader = DataLoader(
        dataset, batch_size=None, num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        persistent_workers=workers > 0,
        prefetch_factor=2 if workers > 0 else None,
    )
    return iter(loader)


def preview_batch(faceset: FaceSet, count: int, input_size: int, output_size: int,
                  weighting: Weighting | None = None) -> SideBatch:
    """`count` evenly spaced faces, unaugmented, for previews; the same faces every call."""
    indices = (np.arange(count) * len(faceset)) // count
    rows = []
    for index in indices:
        face = faceset.face(int(index))
        rows.append((prepare_plain(face.image, mask_planes(face), input_size, output_size,
                                   face.landmarks), face))
    return stack_examples(rows, (weighting or Weighting()) if faceset.has_weighting else None)
