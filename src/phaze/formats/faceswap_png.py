"""faceswap's aligned-face PNGs: the `faceswap` iTXt chunk written and read back.

The chunk text is the Python repr of a dict. It is parsed by `literal.parse_literal`, which
refuses anything but plain literals, so a hostile file can never run code.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from phaze.errors import DataError
from phaze.faces.aligned import AlignedFace
from phaze.faces.geometry import MAX_COORDINATE_PX
from phaze.formats.literal import MAX_TEXT_CHARS, LiteralError, parse_literal
from phaze.io.images import encode_image, write_bytes_atomic

KEYWORD = b"faceswap"
ALIGNMENTS_VERSION = 2.4
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK_BYTES = MAX_TEXT_CHARS * 4  # UTF-8 text of at most MAX_TEXT_CHARS characters


def face_metadata(face: AlignedFace, source_filename: str, frame_dims: tuple[int, int],
                  is_video: bool = False, original_filename: str | None = None) -> dict:
    """The faceswap PNG header dict for one extracted face (frame_dims is (H, W))."""
    if original_filename is None:
        original_filename = f"{Path(face.frame).stem}_{face.face_index}.png"
    return {
        "alignments": {
            "x": int(face.x), "y": int(face.y), "w": int(face.w), "h": int(face.h),
            "landmarks_xy": face.landmarks.tolist(),  # repr of floats round-trips exactly
            "mask": {}, "identity": {},
        },
        "source": {
            "alignments_version": ALIGNMENTS_VERSION,
            "original_filename": original_filename,
            "face_index": int(face.face_index),
            "source_filename": source_filename,
            "source_is_video": bool(is_video),
            "source_frame_dims": (int(frame_dims[0]), int(frame_dims[1])),
        },
    }


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def itxt_chunk(text: str, keyword: bytes = KEYWORD) -> bytes:
    """An uncompressed iTXt chunk: keyword, flags 0/0, empty language and translated keyword."""
    return _chunk(b"iTXt", keyword + b"\x00\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8"))


def add_metadata(png: bytes, metadata: dict) -> bytes:
    """`png` with a faceswap iTXt chunk holding repr(metadata) inserted before the first IDAT."""
    position = png.find(b"IDAT") - 4  # the chunk starts with its 4-byte length
    if not png.startswith(PNG_SIGNATURE) or position < len(PNG_SIGNATURE):
        raise DataError("cannot add metadata: the data is not a PNG with image data")
    return png[:position] + itxt_chunk(repr(metadata)) + png[position:]


def write_face_png(path: str | Path, image: np.ndarray, metadata: dict) -> Path:
    """Atomically write an (S, S, 3) RGB face as PNG with its faceswap metadata chunk."""
    return write_bytes_atomic(path, add_metadata(encode_image(image, ".png"), metadata))


def _chunks(data: bytes, name: str):
    """(type, payload) of each chunk up to IDAT; every length is checked against the cap."""
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT" or kind == b"IEND":
            return
        if length > MAX_CHUNK_BYTES:
            raise DataError(f"'{name}': a {kind!r} chunk of {length} bytes is larger than the "
                            f"{MAX_CHUNK_BYTES} byte limit for metadata")
        payload = data[offset + 8:offset + 8 + length]
        if len(payload) != length:
            raise DataError(f"'{name}' is truncated inside its {kind!r} chunk")
        yield kind, payload
        offset += 12 + length


def _itxt_text(payload: bytes, name: str) -> tuple[bytes, str]:
    keyword, _, rest = payload.partition(b"\x00")
    if len(rest) < 2:
        raise DataError(f"'{name}' has a malformed iTXt chunk")
    compressed, rest = rest[0], rest[2:]
    _language, _, rest = rest.partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    if compressed:
        inflater = zlib.decompressobj()
        text = inflater.decompress(text, MAX_CHUNK_BYTES)
        if inflater.unconsumed_tail:
            raise DataError(f"'{name}': compressed metadata expands beyond "
                            f"{MAX_CHUNK_BYTES} bytes")
    try:
        return keyword, text.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"'{name}': the metadata text is not valid UTF-8") from None


def read_metadata(path: str | Path) -> dict | None:
    """The faceswap metadata dict of a PNG, None when it has none; hostile text → DataError."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"'{path}' cannot be read: {error.strerror or error}") from None
    if not data.startswith(PNG_SIGNATURE):
        raise DataError(f"'{path}' is not a PNG file")
    for kind, payload in _chunks(data, str(path)):
        if kind != b"iTXt" or not payload.startswith(KEYWORD + b"\x00"):
            continue
        _, text = _itxt_text(payload, str(path))
        try:
            metadata = parse_literal(text)
        except LiteralError as error:
            raise DataError(f"'{path}': faceswap metadata refused: {error}") from None
        return validate_metadata(metadata, str(path))
    return None


def validate_metadata(metadata: Any, name: str) -> dict:
    """`metadata` itself when it has the faceswap alignments and source fields, else DataError."""
    if not isinstance(metadata, dict) or not isinstance(metadata.get("alignments"), dict):
        raise DataError(f"'{name}': faceswap metadata has no 'alignments' dict")
    alignments = metadata["alignments"]
    missing = [key for key in ("x", "y", "w", "h", "landmarks_xy") if key not in alignments]
    if missing:
        raise DataError(f"'{name}': faceswap metadata lacks alignments key {missing[0]!r}")
    box = [alignments[key] for key in ("x", "y", "w", "h")]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box) \
            or not all(abs(v) <= MAX_COORDINATE_PX for v in box):  # also refuses inf and nan
        raise DataError(f"'{name}': the face box x/y/w/h {box!r} must be finite numbers within "
                        f"+-{MAX_COORDINATE_PX:.0f} px")
    try:
        points = np.asarray(alignments["landmarks_xy"], dtype=np.float64)
    except (TypeError, ValueError):
        points = np.zeros(0)
    if points.shape != (68, 2) or not np.isfinite(points).all() \
            or np.abs(points).max() > MAX_COORDINATE_PX:
        raise DataError(f"'{name}': landmarks_xy has shape {points.shape}: expected 68 finite "
                        f"(x, y) points within +-{MAX_COORDINATE_PX:.0f} px")
    source = metadata.get("source", {})
    if not isinstance(source, dict):
        raise DataError(f"'{name}': faceswap metadata 'source' must be a dict")
    return metadata


def face_from_metadata(metadata: dict, frame: str | None = None) -> AlignedFace:
    """The AlignedFace (frame px) recorded in validated faceswap metadata."""
    alignments, source = metadata["alignments"], metadata.get("source", {})
    frame = frame or str(source.get("source_filename", ""))
    index = source.get("face_index", 0)
    return AlignedFace(frame, int(index) if isinstance(index, int) else 0,
                       int(alignments["x"]), int(alignments["y"]),
                       int(alignments["w"]), int(alignments["h"]),
                       np.asarray(alignments["landmarks_xy"], np.float64))
