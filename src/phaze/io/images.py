"""Reading and writing image files: RGB uint8 in memory, atomic writes on disk."""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from phaze.errors import DataError, SaveError
from phaze.registry import Registry
from phaze.io.image_header import check_image_area

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
WRITE_SUFFIXES = Registry.of("image suffix", (".png", ".jpg", ".jpeg"))


def is_image_path(path: str | Path) -> bool:
    """True when `path` has one of the image suffixes Phaze reads."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def decode_image(path: str | Path, grayscale: bool = False) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB (or (H, W) grey), or None when the file cannot be read or decoded.

    An image whose header claims more pixels than the area budget raises ImageTooLarge (a
    DataError naming the file) before any pixel is decoded."""
    try:
        # imdecode of raw bytes, unlike imread, also copes with non-ASCII paths on Windows.
        data = np.fromfile(Path(path), dtype=np.uint8)
        if not data.size or not check_image_area(data, str(path)):
            return None
        image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_COLOR)
    except (OSError, cv2.error):
        return None
    if image is None or grayscale:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_image(path: str | Path, grayscale: bool = False) -> np.ndarray:
    """Like `decode_image`, but an unreadable file raises DataError naming it."""
    image = decode_image(path, grayscale)
    if image is None:
        raise DataError(f"image '{path}' cannot be read: it is missing, empty or not a "
                        "decodable image")
    return image


def encode_image(image: np.ndarray, suffix: str = ".png", jpeg_quality: int = 95) -> bytes:
    """The bytes of an (H, W, 3) RGB or (H, W) grey uint8 image encoded as PNG or JPEG."""
    suffix = suffix.lower()
    WRITE_SUFFIXES.check(suffix, error=DataError)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (
            image.ndim == 3 and image.shape[2] != 3):
        raise DataError(f"image of shape {tuple(image.shape)} and dtype {image.dtype} cannot "
                        "be written: expected (H, W, 3) RGB or (H, W) uint8")
    pixels = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if suffix != ".png" else []
    ok, encoded = cv2.imencode(suffix, pixels, params)
    if not ok:
        raise DataError(f"could not encode an image as {suffix}")
    return encoded.tobytes()


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write `data` to a temp file beside `path`, then os.replace: never a half-written file."""
    path = Path(path)
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise DataError(write_failure(path, error)) from None
    try:
        _write_file(handle, data)
        os.replace(temp, path)
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        raise DataError(write_failure(path, error)) from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)  # Ctrl-C mid-write: leave nothing behind
        raise
    return path


def _write_file(handle: int, data: bytes) -> None:
    """Write and close an open descriptor (one seam where tests make the disk full)."""
    with os.fdopen(handle, "wb") as file:
        file.write(data)


def write_failure(path: str | Path, error: BaseException) -> str:
    """One line for a failed write of `path` (see `write_reason`)."""
    return f"could not write '{path}': {write_reason(error)}"


def write_reason(error: BaseException) -> str:
    """Why a write failed; a full disk is said plainly, whichever library reported it (an
    OSError's errno, safetensors' or FFmpeg's own error text)."""
    text = str(error)
    if getattr(error, "errno", None) == errno.ENOSPC or "No space left" in text \
            or "StorageFull" in text:
        return "No space left on device"
    return getattr(error, "strerror", None) or text or type(error).__name__


@contextlib.contextmanager
def removed_on_failure(*paths: Path) -> Iterator[None]:
    """For writers that cannot write to a temp name themselves (torch's ONNX exporter): a
    failed write (an OSError, or a library's own full-disk error) or Ctrl-C removes the named
    files, and a failed write becomes one SaveError line naming the first of them. Other
    errors (a missing exporter, a bad option) come before any write and leave files alone."""
    try:
        yield
    except BaseException as error:
        message = write_failure(paths[0], error)
        written = isinstance(error, OSError) or message.endswith("No space left on device")
        if written or isinstance(error, KeyboardInterrupt):
            for path in paths:
                Path(path).unlink(missing_ok=True)
        if written:
            raise SaveError(message) from error
        raise


def write_image(path: str | Path, image: np.ndarray, jpeg_quality: int = 95) -> Path:
    """Atomically write an RGB/grey uint8 image; the format follows the suffix (.png/.jpg)."""
    path = Path(path)
    return write_bytes_atomic(path, encode_image(image, path.suffix or ".png", jpeg_quality))
