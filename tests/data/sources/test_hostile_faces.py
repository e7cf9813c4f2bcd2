"""One bad face file never stops a run: crafted metadata makes a plain crop, named in a warning,
and bombs stay within their budgets (memory measured in a subprocess)."""
from __future__ import annotations

import logging
import pickle
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hostile_helpers import run_python, zero_bomb

from phaze.data.sources import scan_folder
from phaze.data.sources.scan import read_record
from phaze.faces.aligned import AlignedFace
from phaze.formats.faceswap_png import face_metadata, itxt_chunk
from phaze.io.images import encode_image

BOMB_BOUND_MB = 1024


def _faceswap_png(path: Path, text: str) -> Path:
    """A 64 px face PNG whose faceswap iTXt chunk holds `text` verbatim."""
    png = encode_image(np.full((64, 64, 3), 90, np.uint8), ".png")
    position = png.find(b"IDAT") - 4
    path.write_bytes(png[:position] + itxt_chunk(text) + png[position:])
    return path


def _metadata(astronaut_landmarks: np.ndarray, mask: dict | None = None) -> dict:
    face = AlignedFace("astronaut.png", 0, 175, 76, 90, 90, astronaut_landmarks)
    metadata = face_metadata(face, "astronaut.png", (512, 512))
    if mask is not None:
        metadata["alignments"]["mask"] = {"components": mask}
    return metadata


def _mask(compressed: bytes, stored_size: int) -> dict:
    return {"mask": compressed, "affine_matrix": [[1.0, 0, 0], [0, 1.0, 0]],
            "interpolator": 2, "stored_size": stored_size, "stored_centering": "face"}


def _dfl_jpg(path: Path, metadata: dict) -> Path:
    jpeg = cv2.imencode(".jpg", np.full((64, 64, 3), 100, np.uint8))[1].tobytes()
    payload = pickle.dumps(metadata)
    path.write_bytes(jpeg[:2] + b"\xff\xef" + (len(payload) + 2).to_bytes(2, "big") + payload
                     + jpeg[2:])
    return path


def _dfl_landmarks() -> np.ndarray:
    return np.stack([np.linspace(5, 59, 68), np.linspace(8, 56, 68)], 1).astype(np.float32)


def _assert_plain_crop_named(folder: Path, name: str, caplog) -> None:
    before = (folder / name).read_bytes()
    with caplog.at_level(logging.WARNING):
        scan = scan_folder(folder, "a")
    assert [record.kind for record in scan.records] == ["plain"]
    assert [path.name for path, _ in scan.broken] == [name]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(name in line and "used as a plain crop" in line and "\n" not in line
               for line in warnings), warnings
    assert (folder / name).read_bytes() == before   # the source is untouched


@pytest.mark.parametrize("change", [
    ("'x': 175", "'x': 1e999"),                      # inf: OverflowError in int()
    ("'w': 90", "'w': -1e999"),
    ("'y': 76", "'y': 1e300"),
])
def test_a_faceswap_box_of_inf_or_absurd_size_is_a_plain_crop(tmp_path, astronaut_landmarks,
                                                                change, caplog):
    text = repr(_metadata(astronaut_landmarks)).replace(*change)
    assert change[1] in text
    _faceswap_png(tmp_path / "face_0.png", text)
    _assert_plain_crop_named(tmp_path, "face_0.png", caplog)


def test_faceswap_landmarks_of_1e300_are_a_plain_crop(tmp_path, astronaut_landmarks, caplog):
    metadata = _metadata(astronaut_landmarks)
    metadata["alignments"]["landmarks_xy"][30] = [1e300, 1e300]
    _faceswap_png(tmp_path / "face_0.png", repr(metadata))
    _assert_plain_crop_named(tmp_path, "face_0.png", caplog)


@pytest.mark.parametrize("stored_size", [10**7, 0, -5, "sixty", 1e999])
def test_an_impossible_mask_stored_size_is_a_plain_crop(tmp_path, astronaut_landmarks,
                                                        stored_size, caplog):
    mask = _mask(zlib.compress(bytes(64 * 64)), stored_size)
    _faceswap_png(tmp_path / "face_0.png", repr(_metadata(astronaut_landmarks, mask)))
    _assert_plain_crop_named(tmp_path, "face_0.png", caplog)


def test_a_mask_that_is_too_short_is_a_plain_crop(tmp_path, astronaut_landmarks,
                                                                caplog):
    mask = _mask(zlib.compress(bytes(10)), 64)   # 10 bytes for a 64 x 64 mask
    _faceswap_png(tmp_path / "face_0.png", repr(_metadata(astronaut_landmarks, mask)))
    _assert_plain_crop_named(tmp_path, "face_0.png", caplog)


@pytest.mark.parametrize("key, value", [
    ("source_rect", "10,20,110,120"),
    ("image_to_face_mat", "not a matrix"),
    ("xseg_mask", "not an image"),
    ("landmarks", np.full((68, 2), np.inf, np.float32)),
    ("source_landmarks", np.full((68, 2), 1e30, np.float32)),
    ("source_rect", 17),
])
def test_a_dfl_jpg_with_a_malformed_field_is_a_plain_crop(tmp_path, key, value, caplog):
    metadata = {"face_type": "whole_face", "landmarks": _dfl_landmarks(), key: value}
    _dfl_jpg(tmp_path / "face.jpg", metadata)
    _assert_plain_crop_named(tmp_path, "face.jpg", caplog)


def test_a_dfl_xseg_mask_claiming_gigapixels_is_refused_from_its_header(tmp_path, caplog):
    import struct

    from hostile_helpers import png_chunk

    header_only = (b"\x89PNG\r\n\x1a\n"   # a DFL segment holds 64 KB: the header is the threat
                   + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
                   + png_chunk(b"IDAT", zlib.compress(bytes(20001))) + png_chunk(b"IEND", b""))
    metadata = {"face_type": "whole_face", "landmarks": _dfl_landmarks(),
                "xseg_mask": header_only}
    _dfl_jpg(tmp_path / "face.jpg", metadata)
    _assert_plain_crop_named(tmp_path, "face.jpg", caplog)
    assert "20000x20000" in caplog.text and "PHAZE_MAX_IMAGE_PIXELS" in caplog.text


def test_a_swap_reads_a_broken_face_as_a_plain_crop(tmp_path, astronaut_landmarks):
    text = repr(_metadata(astronaut_landmarks)).replace("'x': 175", "'x': 1e999")
    record = read_record(_faceswap_png(tmp_path / "face_0.png", text))
    assert record.kind == "plain"


_SCAN_IN_CHILD = """
import logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(message)s")
from phaze.data.sources import scan_folder
scan = scan_folder("faces", "a")
print("KINDS", [record.kind for record in scan.records])
"""


def test_a_stored_mask_zlib_bomb_is_not_inflated(tmp_path, astronaut_landmarks):
    bomb = zero_bomb(2**30)        # 1 MB on disk, 1 GiB of zeros: uncapped, over the bound
    (tmp_path / "faces").mkdir()
    _faceswap_png(tmp_path / "faces" / "face_0.png",   # a plausible side: inflation stops
                  repr(_metadata(astronaut_landmarks, _mask(bomb, 128))))

    result = run_python(_SCAN_IN_CHILD, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "KINDS ['plain']" in result.stdout
    assert "face_0.png: used as a plain crop" in result.stdout
    assert "inflates past stored_size" in result.stdout
    assert result.peak_mb < BOMB_BOUND_MB, result.peak_mb


@pytest.mark.parametrize("text, reason", [
    ("[" + "0," * 4_000_000 + "0]", "PHAZE_MAX_METADATA_NODES"),   # 8 MB, 4 M values
    (repr({"x": bytes(range(256)) * 12_000}), "no 'alignments' dict"),   # a 12 MB string
])
def test_a_huge_literal_in_the_metadata_stays_under_the_memory_bound(tmp_path, text, reason):
    (tmp_path / "faces").mkdir()
    _faceswap_png(tmp_path / "faces" / "face_0.png", text)

    result = run_python(_SCAN_IN_CHILD, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "KINDS ['plain']" in result.stdout
    assert "face_0.png: used as a plain crop" in result.stdout and reason in result.stdout
    assert result.peak_mb < BOMB_BOUND_MB, result.peak_mb


def test_a_face_image_over_the_area_budget_is_skipped_by_name(tmp_path, caplog):
    import struct

    from hostile_helpers import png_chunk

    from phaze.data.sources.scan import frame_record
    from phaze.faces.framing import Framing
    from phaze.score.run import read_faces

    folder = tmp_path / "faces"
    folder.mkdir()
    (folder / "good.png").write_bytes(encode_image(np.full((64, 64, 3), 90, np.uint8)))
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    (folder / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
                                      + png_chunk(b"IEND", b""))
    with caplog.at_level(logging.WARNING):
        assert frame_record(read_record(folder / "huge.png"), Framing(), 64) is None
        assert read_faces(folder, limit=8).shape == (1, 64, 64, 3)   # score goes on
    assert "huge.png: skipped" in caplog.text and "20000x20000" in caplog.text
