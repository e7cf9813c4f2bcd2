"""Face folders: formats, skipped files with one warning, clear errors, masks, lazy decoding."""
from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from phaze.data.faceset import load_faceset
from phaze.errors import DataError

RED_RGB = (230, 20, 10)


def _write(path, size=40, rgb=RED_RGB) -> None:
    image = np.empty((size, size, 3), np.uint8)
    image[:] = rgb[::-1]  # cv2 writes BGR
    assert cv2.imwrite(str(path), image)


def _warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING]


def test_reads_png_jpg_jpeg_and_webp_in_any_case_sorted_by_name(tmp_path):
    for name in ("d.webp", "b.JPG", "a.png", "c.jpeg"):
        _write(tmp_path / name)
    faceset = load_faceset(tmp_path, "a", min_count=4, size_px=32)
    assert [p.name for p in faceset.paths] == ["a.png", "b.JPG", "c.jpeg", "d.webp"]
    assert len(faceset) == 4


def test_faces_are_rgb_uint8_at_the_working_size(tmp_path):
    _write(tmp_path / "a.png", size=50)
    face = load_faceset(tmp_path, "a", min_count=1, size_px=32).face(0).image
    assert face.shape == (32, 32, 3) and face.dtype == np.uint8
    np.testing.assert_array_equal(face[16, 16], RED_RGB)


def test_resize_uses_area_interpolation(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), image)
    face = load_faceset(tmp_path, "a", min_count=1, size_px=32).face(0).image
    expected = cv2.resize(image, (32, 32), interpolation=cv2.INTER_AREA)[..., ::-1]
    np.testing.assert_array_equal(face, expected)


def test_non_square_image_is_centre_cropped_not_squashed(tmp_path):
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, 20:60] = 255  # only the central square is white
    cv2.imwrite(str(tmp_path / "wide.png"), image)
    face = load_faceset(tmp_path, "a", min_count=1, size_px=40).face(0).image
    assert face.min() == 255


def test_corrupt_image_is_skipped_with_one_warning_naming_it(tmp_path, caplog):
    for name in ("a.png", "c.png"):
        _write(tmp_path / name)
    (tmp_path / "b.png").write_bytes(b"definitely not a png" * 10)
    faceset = load_faceset(tmp_path, "a", min_count=2, size_px=32)
    assert [p.name for p in faceset.paths] == ["a.png", "c.png"]
    assert len(_warnings(caplog)) == 1
    assert "b.png" in _warnings(caplog)[0].getMessage()


def test_non_image_and_corrupt_files_share_a_single_warning(tmp_path, caplog):
    _write(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    faceset = load_faceset(tmp_path, "b", min_count=1, size_px=32)
    assert [p.name for p in faceset.paths] == ["a.png"]
    (warning,) = _warnings(caplog)
    assert "notes.txt" in warning.getMessage() and "broken.jpg" in warning.getMessage()


def test_clean_folder_logs_no_warning(tmp_path, caplog):
    _write(tmp_path / "a.png")
    load_faceset(tmp_path, "a", min_count=1, size_px=32)
    assert _warnings(caplog) == []


def test_missing_folder_raises_data_error_naming_it(tmp_path):
    with pytest.raises(DataError, match="nowhere"):
        load_faceset(tmp_path / "nowhere", "a", min_count=1, size_px=32)


def test_empty_folder_raises_data_error(tmp_path):
    with pytest.raises(DataError, match="empty"):
        load_faceset(tmp_path, "a", min_count=1, size_px=32)


def test_fewer_usable_faces_than_the_batch_raises_data_error_with_counts(tmp_path):
    for name in ("a.png", "b.png"):
        _write(tmp_path / name)
    (tmp_path / "c.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"has 2 usable .*of 3 file.*at least 4"):
        load_faceset(tmp_path, "b", min_count=4, size_px=32)


def test_folder_of_only_unusable_files_raises_data_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="has 0 usable"):
        load_faceset(tmp_path, "a", min_count=1, size_px=32)


def test_masks_with_matching_stems_are_detected_and_resized(tmp_path):
    (tmp_path / "masks").mkdir()
    for stem, value in (("a", 255), ("b", 100)):
        _write(tmp_path / f"{stem}.jpg", size=64)
        cv2.imwrite(str(tmp_path / "masks" / f"{stem}.png"), np.full((64, 64), value, np.uint8))
    faceset = load_faceset(tmp_path, "a", min_count=2, size_px=32)
    assert faceset.has_masks
    assert faceset.face(1).face_mask.shape == (32, 32) and faceset.face(1).face_mask.dtype == np.uint8
    assert faceset.face(0).face_mask[0, 0] == 255 and faceset.face(1).face_mask[0, 0] == 100


def test_folder_without_masks_has_none(tmp_path):
    _write(tmp_path / "a.png")
    faceset = load_faceset(tmp_path, "a", min_count=1, size_px=32)
    assert not faceset.has_masks and faceset.face(0).face_mask is None


def test_partial_masks_are_used_where_present_and_counted(tmp_path, caplog):
    (tmp_path / "masks").mkdir()
    for stem in ("a", "b"):
        _write(tmp_path / f"{stem}.png")
    cv2.imwrite(str(tmp_path / "masks" / "a.png"), np.full((40, 40), 255, np.uint8))
    with caplog.at_level(logging.INFO):
        faceset = load_faceset(tmp_path, "a", min_count=2, size_px=32)
    assert faceset.has_masks and faceset.face(0).face_mask.min() == 255
    assert faceset.face(1).face_mask is None
    assert "1 from masks/, 1 without a mask" in caplog.text


def test_lazy_decoding_beyond_the_cache_limit_gives_the_same_pixels(tmp_path):
    (tmp_path / "masks").mkdir()
    rng = np.random.default_rng(0)
    for stem in ("a", "b"):
        cv2.imwrite(str(tmp_path / f"{stem}.png"), rng.integers(0, 256, (48, 48, 3), np.uint8))
        mask = rng.integers(0, 256, (48, 48), np.uint8)
        cv2.imwrite(str(tmp_path / "masks" / f"{stem}.png"), mask)
    cached = load_faceset(tmp_path, "a", min_count=2, size_px=32)
    lazy = load_faceset(tmp_path, "a", min_count=2, size_px=32, cache_limit_bytes=0)
    assert lazy.has_masks
    for index in range(2):
        np.testing.assert_array_equal(lazy.face(index).image, cached.face(index).image)
        np.testing.assert_array_equal(lazy.face(index).face_mask, cached.face(index).face_mask)


def test_cached_faces_cannot_be_modified_by_a_caller(tmp_path):
    _write(tmp_path / "a.png")
    face = load_faceset(tmp_path, "a", min_count=1, size_px=32).face(0).image
    with pytest.raises(ValueError):
        face[0, 0, 0] = 0


def test_an_alignments_file_beside_the_faces_is_no_warning(tmp_path, caplog):
    _write(tmp_path / "a.png")
    (tmp_path / "alignments.json").write_text("{}")
    faceset = load_faceset(tmp_path, "a", min_count=1, size_px=32)
    assert len(faceset) == 1 and _warnings(caplog) == []


def test_the_framed_face_cache_follows_the_file_and_the_framing(tmp_path):
    # The cache lives for one load, keyed by nothing else: a face file changed between runs, or
    # another framing, is framed again from the file.
    from phaze.faces.framing import Framing

    ramp = np.tile(np.linspace(0, 255, 48, dtype=np.uint8)[None, :, None], (48, 1, 3))
    cv2.imwrite(str(tmp_path / "a.png"), ramp)
    first = load_faceset(tmp_path, "a", min_count=1, size_px=32).face(0).image.copy()
    tighter = load_faceset(tmp_path, "a", min_count=1, size_px=32,
                           framing=Framing(coverage=75.0)).face(0).image
    assert not np.array_equal(tighter, first)
    cv2.imwrite(str(tmp_path / "a.png"), 255 - ramp)
    again = load_faceset(tmp_path, "a", min_count=1, size_px=32).face(0).image
    # 255 - x framed, against 255 - (x framed): equal up to the resize's rounding.
    np.testing.assert_allclose(again.astype(int), 255 - first.astype(int), atol=1)
