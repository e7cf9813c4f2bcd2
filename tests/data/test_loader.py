"""The A/B batch stream: shapes, epochs, reproducibility, workers, previews."""
from __future__ import annotations

from itertools import islice

import numpy as np
import torch

from phaze.data.settings import AugmentConfig
from phaze.data.faceset import FaceSet, load_faceset
from phaze.data.loader import make_training_batches, preview_batch
from phaze.data.sources import synthetic_source
from phaze.data.synthetic import synthetic_faceset, write_faceset


def coded_faceset(count: int, size_px: int, with_masks: bool = True) -> FaceSet:
    """Face i is a flat image of value 10·i + 5, so a batch reveals which faces it holds."""
    faces = np.stack([np.full((size_px, size_px, 3), 10 * i + 5, np.uint8) for i in range(count)])
    masks = np.full((count, size_px, size_px), 255, np.uint8) if with_masks else None
    return load_faceset(synthetic_source(faces, "a", masks), "a", 1, size_px)


def face_ids(images) -> list[int]:
    """Undo `coded_faceset`: the face index of each (C, H, W) image in [0, 1]."""
    return [int(round((float(img.mean()) * 255 - 5) / 10)) for img in images]


NOTHING = AugmentConfig(rotation_range=0, zoom_amount=0, shift_range=0, warp=False, color=False,
                        flip=False)


def _take(count: int, **kwargs) -> list[dict]:
    defaults = dict(input_size=32, output_size=48, batch_size=4, augment=AugmentConfig(),
                    workers=0, seed=0)
    faces_a = kwargs.pop("faceset_a", None)
    faces_b = kwargs.pop("faceset_b", None)
    faces_a = synthetic_faceset("a", 10, 48, seed=1) if faces_a is None else faces_a
    faces_b = synthetic_faceset("b", 7, 48, seed=2) if faces_b is None else faces_b
    return list(islice(make_training_batches(faces_a, faces_b, **{**defaults, **kwargs}), count))


def _assert_same(first: list[dict], second: list[dict]) -> None:
    for batch, other in zip(first, second, strict=True):
        for side in ("a", "b"):
            torch.testing.assert_close(batch[side].inputs, other[side].inputs, rtol=0, atol=0)
            torch.testing.assert_close(batch[side].targets, other[side].targets, rtol=0, atol=0)
            torch.testing.assert_close(batch[side].masks, other[side].masks, rtol=0, atol=0)


def test_batches_have_both_sides_with_the_documented_shapes_and_range():
    (batch,) = _take(1)
    assert set(batch) == {"a", "b"}
    for side in batch.values():
        assert side.inputs.shape == (4, 3, 32, 32)
        assert side.targets.shape == (4, 3, 48, 48)
        assert side.masks.shape == (4, 1, 48, 48)
        for tensor in (side.inputs, side.targets, side.masks):
            assert tensor.dtype == torch.float32
            assert 0.0 <= tensor.min() and tensor.max() <= 1.0


def test_side_without_masks_gets_none():
    (batch,) = _take(1, faceset_a=coded_faceset(6, 48, with_masks=False))
    assert batch["a"].masks is None and batch["b"].masks is not None


def test_every_face_is_seen_once_per_epoch_and_epochs_are_reshuffled():
    batches = _take(6, faceset_a=coded_faceset(12, 48), batch_size=4, augment=NOTHING)
    seen = [i for batch in batches for i in face_ids(batch["a"].targets)]
    first_epoch, second_epoch = seen[:12], seen[12:]
    assert sorted(first_epoch) == list(range(12)) == sorted(second_epoch)
    assert first_epoch != second_epoch


def test_batches_straddling_an_epoch_boundary_still_cover_every_face():
    batches = _take(5, faceset_b=coded_faceset(7, 48), batch_size=4, augment=NOTHING)
    seen = [i for batch in batches for i in face_ids(batch["b"].targets)]
    assert sorted(seen[:7]) == list(range(7)) == sorted(seen[7:14])


def test_same_seed_gives_the_same_batches():
    _assert_same(_take(3, seed=11), _take(3, seed=11))


def test_different_seeds_give_different_batches():
    first, other = _take(1, seed=1), _take(1, seed=2)
    assert not torch.equal(first[0]["a"].inputs, other[0]["a"].inputs)


def test_worker_processes_produce_the_same_stream_as_the_main_process():
    _assert_same(_take(4, workers=2, seed=3), _take(4, workers=0, seed=3))


def test_batches_from_a_face_folder_on_disk(tmp_path):
    write_faceset(tmp_path / "a", "a", 6, size_px=40)
    write_faceset(tmp_path / "b", "b", 6, size_px=40)
    faces_a = load_faceset(tmp_path / "a", "a", min_count=4, size_px=48)
    faces_b = load_faceset(tmp_path / "b", "b", min_count=4, size_px=48)
    (batch,) = _take(1, faceset_a=faces_a, faceset_b=faces_b)
    assert batch["b"].masks.shape == (4, 1, 48, 48)


def test_preview_batch_takes_evenly_spaced_faces_unaugmented():
    preview = preview_batch(coded_faceset(10, 48), 4, input_size=32, output_size=48)
    assert face_ids(preview.targets) == [0, 2, 5, 7]
    assert face_ids(preview.inputs) == [0, 2, 5, 7]
    assert preview.inputs.shape == (4, 3, 32, 32) and preview.masks.shape == (4, 1, 48, 48)


def test_preview_batch_is_the_same_every_call():
    faceset = synthetic_faceset("a", 9, 48)
    first, again = preview_batch(faceset, 3, 32, 48), preview_batch(faceset, 3, 32, 48)
    assert torch.equal(first.inputs, again.inputs) and torch.equal(first.targets, again.targets)


def test_a_stream_started_at_batch_k_continues_the_uninterrupted_stream():
    from phaze.data.loader import StreamPosition

    uninterrupted = _take(5)
    resumed = _take(2, position=StreamPosition(start=3))
    _assert_same(uninterrupted[3:], resumed)


def test_rank_shares_of_a_batch_are_the_rows_of_the_single_process_batch():
    from phaze.data.loader import StreamPosition

    whole = _take(3, batch_size=4, position=StreamPosition(start=1))
    shares = [_take(3, batch_size=4, position=StreamPosition(start=1, rank=rank, world_size=2))
              for rank in (0, 1)]
    for index, batch in enumerate(whole):
        for side in ("a", "b"):
            assert shares[0][index][side].inputs.shape[0] == 2
            joined = torch.cat([shares[rank][index][side].inputs for rank in (0, 1)])
            torch.testing.assert_close(joined, batch[side].inputs, rtol=0, atol=0)


def test_shares_and_workers_combine(tmp_path):
    from phaze.data.loader import StreamPosition

    single = _take(3, batch_size=4, position=StreamPosition(rank=1, world_size=2))
    workers = _take(3, batch_size=4, workers=2, position=StreamPosition(rank=1, world_size=2))
    _assert_same(single, workers)
