"""Synthetic faces: deterministic, two clearly different people, usable masks, files on disk."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from phaze.data.synthetic import render_faces, synthetic_faceset, write_faceset


def _masked_mean_rgb(faces: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """(N, 3) mean colour inside each face's mask."""
    weights = (masks > 127)[..., None]
    return (faces * weights).sum(axis=(1, 2)) / weights.sum(axis=(1, 2))


def test_render_faces_returns_uint8_rgb_and_masks_of_the_requested_size():
    faces, masks = render_faces("a", 3, 48, seed=0)
    assert faces.shape == (3, 48, 48, 3) and faces.dtype == np.uint8
    assert masks.shape == (3, 48, 48) and masks.dtype == np.uint8


def test_same_seed_gives_same_pixels():
    first, first_masks = render_faces("b", 4, 64, seed=7)
    again, again_masks = render_faces("b", 4, 64, seed=7)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first_masks, again_masks)


def test_different_seeds_give_different_faces():
    first, _ = render_faces("a", 2, 64, seed=1)
    other, _ = render_faces("a", 2, 64, seed=2)
    assert np.abs(first.astype(int) - other).mean() > 5


def test_face_does_not_depend_on_how_many_are_rendered():
    few, _ = render_faces("a", 2, 64, seed=3)
    many, _ = render_faces("a", 6, 64, seed=3)
    np.testing.assert_array_equal(few, many[:2])


def test_pictures_of_one_person_vary():
    faces, masks = render_faces("a", 8, 64, seed=0)
    assert len({face.tobytes() for face in faces}) == 8
    assert len({mask.tobytes() for mask in masks}) == 8  # pose moves the face


def test_identities_differ_in_face_colour_more_than_pictures_of_one_identity_do():
    faces_a, masks_a = render_faces("a", 24, 64, seed=0)
    faces_b, masks_b = render_faces("b", 24, 64, seed=0)
    mean_a, mean_b = _masked_mean_rgb(faces_a, masks_a), _masked_mean_rgb(faces_b, masks_b)
    between = np.linalg.norm(mean_a.mean(0) - mean_b.mean(0))
    within = max(mean_a.std(0).max(), mean_b.std(0).max())
    assert between > 60
    assert between > 3 * within


def test_identities_differ_in_face_width():
    _, masks_a = render_faces("a", 24, 64, seed=0)
    _, masks_b = render_faces("b", 24, 64, seed=0)
    assert (masks_b > 127).sum() > 1.15 * (masks_a > 127).sum()


def test_masks_cover_a_plausible_part_of_the_image_and_the_face_inside_them():
    faces, masks = render_faces("b", 8, 64, seed=0)
    covered = (masks > 127).mean(axis=(1, 2))
    assert np.all(covered > 0.1) and np.all(covered < 0.7)
    # B's skin is dark: the masked area is darker than a typical random background.
    assert _masked_mean_rgb(faces, masks).mean() < 110


def test_unknown_identity_is_rejected_with_the_allowed_names():
    with pytest.raises(ValueError, match="'a', 'b'"):
        render_faces("c", 1, 32, seed=0)


def test_write_faceset_writes_rgb_faces_and_same_named_masks(tmp_path):
    paths = write_faceset(tmp_path, "a", 3, size_px=32, seed=5)
    faces, masks = render_faces("a", 3, 32, seed=5)
    assert [p.parent for p in paths] == [tmp_path] * 3
    for path, face, mask in zip(paths, faces, masks):
        np.testing.assert_array_equal(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), face)
        mask_path = tmp_path / "masks" / path.name
        np.testing.assert_array_equal(cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE), mask)


def test_synthetic_faceset_serves_the_rendered_faces_with_masks():
    faceset = synthetic_faceset("b", 3, 32, seed=2)
    faces, masks = render_faces("b", 3, 32, seed=2)
    assert len(faceset) == 3 and faceset.has_masks
    np.testing.assert_array_equal(faceset.face(2).image, faces[2])
    np.testing.assert_array_equal(faceset.face(1).face_mask, masks[1])
