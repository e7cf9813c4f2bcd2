"""faceswap PNG metadata: written where faceswap expects it, read back exactly, hostile text refused."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from phaze.errors import DataError
from phaze.faces.aligned import AlignedFace
from phaze.formats import faceswap_png
from phaze.formats.literal import LiteralError, parse_literal
from phaze.io.images import encode_image, read_image


def _face() -> AlignedFace:
    landmarks = np.random.default_rng(0).uniform(100, 300, (68, 2))
    return AlignedFace("frame_0001.png", 1, 110, 120, 180, 190, landmarks, 0.97)


def _image() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (32, 32, 3), np.uint8)


def test_round_trip_gives_identical_landmarks_and_fields(tmp_path):
    face = _face()
    meta = faceswap_png.face_metadata(face, "frame_0001.png", (480, 640))
    path = faceswap_png.write_face_png(tmp_path / "frame_0001_1.png", _image(), meta)
    read = faceswap_png.read_metadata(path)
    assert read == meta
    back = faceswap_png.face_from_metadata(read)
    np.testing.assert_array_equal(back.landmarks, face.landmarks)
    assert (back.x, back.y, back.w, back.h, back.face_index) == (110, 120, 180, 190, 1)
    assert read["source"]["alignments_version"] == 2.4
    assert read["source"]["source_frame_dims"] == (480, 640)
    np.testing.assert_array_equal(read_image(path), _image())  # still a valid PNG


def test_chunk_is_uncompressed_itxt_before_the_first_idat(tmp_path):
    meta = faceswap_png.face_metadata(_face(), "f.png", (10, 10))
    data = faceswap_png.add_metadata(encode_image(_image()), meta)
    chunk_at, idat_at = data.find(b"iTXtfaceswap"), data.find(b"IDAT")
    assert 0 < chunk_at < idat_at
    assert data[chunk_at + 12:chunk_at + 17] == b"\x00\x00\x00\x00\x00"  # flags, lang, key
    assert b"'alignments': {'x': 110" in data  # Python repr, single quotes


def test_png_without_metadata_reads_as_none(tmp_path):
    path = tmp_path / "plain.png"
    path.write_bytes(encode_image(_image()))
    assert faceswap_png.read_metadata(path) is None


def _png_with_text(tmp_path, text: str):
    path = tmp_path / "hostile.png"
    png = encode_image(_image())
    at = png.find(b"IDAT") - 4
    path.write_bytes(png[:at] + faceswap_png.itxt_chunk(text) + png[at:])
    return path


@pytest.mark.parametrize("text, reason", [
    ("__import__('os').system('touch PWNED')", "Call"),
    ("{'alignments': (lambda: 1)()}", "Call"),
    ("[" * 5000 + "]" * 5000, "literal|nesting"),
    ("{'a': " * 30 + "1" + "}" * 30, "nesting"),
    ("{**{'a': 1}}", "unpacking"),
    ("{'alignments': 1}", "alignments"),
])
def test_hostile_metadata_is_refused_and_nothing_runs(tmp_path, monkeypatch, text, reason):
    monkeypatch.chdir(tmp_path)
    path = _png_with_text(tmp_path, text)
    with pytest.raises(DataError, match=f"hostile.png.*({reason})"):
        faceswap_png.read_metadata(path)
    assert not (tmp_path / "PWNED").exists()


def test_huge_metadata_chunk_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.png"
    png = encode_image(_image())
    at = png.find(b"IDAT") - 4
    fake = struct.pack(">I", faceswap_png.MAX_CHUNK_BYTES + 1) + b"iTXt" + b"faceswap\x00"
    path.write_bytes(png[:at] + fake + png[at:])
    with pytest.raises(DataError, match="huge.png.*limit"):
        faceswap_png.read_metadata(path)


def test_zip_bomb_in_compressed_itxt_is_refused(tmp_path):
    path = tmp_path / "bomb.png"
    png = encode_image(_image())
    at = png.find(b"IDAT") - 4
    bomb = zlib.compress(b" " * (faceswap_png.MAX_CHUNK_BYTES + 10), 9)
    chunk = faceswap_png._chunk(b"iTXt", b"faceswap\x00\x01\x00\x00\x00" + bomb)
    path.write_bytes(png[:at] + chunk + png[at:])
    with pytest.raises(DataError, match="bomb.png.*expands"):
        faceswap_png.read_metadata(path)


def test_literal_parser_accepts_faceswap_values():
    value = parse_literal("{'m': b'\\x00x', 'f': True, 'n': None, 'v': [-1.5, (2, 3)]}")
    assert value == {"m": b"\x00x", "f": True, "n": None, "v": [-1.5, (2, 3)]}
    with pytest.raises(LiteralError):
        parse_literal("1 + 2")
