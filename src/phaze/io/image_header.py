"""An image's size from its header, before decoding: a tiny file can claim gigapixels.

PNG, JPEG, WebP and BMP (the formats Phaze reads) are measured from their first bytes; anything else
has no known size and is not decoded at all, since OpenCV would accept formats (TIFF, EXR, ...)
whose headers are not checked here.
"""
from __future__ import annotations

import struct

from phaze.errors import DataError
from phaze.io.limits import Limits, current_limits, env_name

_PNG = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): they hold the size
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageTooLarge(DataError):
    """An image's header claims more pixels than the image-area budget."""


def image_size(data) -> tuple[int, int] | None:
    """(width, height) read from a PNG, JPEG, WebP or BMP header; None for anything else.

    `data` is any bytes-like object holding the whole file (a JPEG's size may follow large
    metadata segments, which are skipped by their lengths, not read)."""
    view = memoryview(data).cast("B")
    head = bytes(view[:32])
    if head.startswith(_PNG) and len(head) >= 24 and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    if head.startswith(b"\xff\xd8"):
        return _jpeg_size(view)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp_size(head)
    if head[:2] == b"BM" and len(head) >= 26:   # convert also reads .bmp frames
        width, height = struct.unpack("<ii", head[18:26])
        return abs(width), abs(height)
    return None


def _jpeg_size(data: memoryview) -> tuple[int, int] | None:
    position = 2
    while position + 9 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:          # fill byte
            position += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):   # markers without a length
            position += 2
            continue
        if marker == 0xDA:          # start of scan: no frame header before it
            return None
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return width, height
        position += 2 + struct.unpack(">H", data[position + 2:position + 4])[0]
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    kind = data[12:16]
    if kind == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        return width, int.from_bytes(data[27:30], "little") + 1
    if kind == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def check_image_area(data, name: str, limits: Limits | None = None) -> bool:
    """True when `data` is a PNG/JPEG/WebP/BMP within the area budget, False when its size is
    unknown; ImageTooLarge naming `name`, its size and the limit when it is larger."""
    size = image_size(data)
    if size is None:
        return False
    check_area(*size, name, limits)
    return True


def check_area(width: int, height: int, name: str, limits: Limits | None = None) -> None:
    """ImageTooLarge when width × height px is over the image-area budget (an image, or a
    video's frames, checked before anything is decoded)."""
    limit = (limits or current_limits()).max_image_pixels
    if width * height > limit:
        raise ImageTooLarge(
            f"image '{name}' is {width}x{height} px ({width * height / 1e6:.1f} MP): larger "
            f"than the {limit / 1e6:.1f} MP limit (raise it with "
            f"{env_name('max_image_pixels')}=<pixels>)")
