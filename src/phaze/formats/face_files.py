"""What one face image file carries beyond its pixels, and the file framed as a model sees it.

Metadata readers are looked up by file suffix in `METADATA_READERS`: DFL JPGs (landmarks in the
stored face's px, XSeg mask) and faceswap/Phaze PNGs (the face in its frame, so any centering
can be sub-cropped from the stored head face, and the stored masks mapped into the face's px).
Metadata that is broken or refused is reported as a reason, never fatal: the face is then a
plain crop. Training (`phaze.data.sources`), swap and score all read face files through here,
so they treat a face file the same way.
"""
from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from phaze.errors import DataError
from phaze.faces.aligned import AlignedFace
from phaze.faces.crop import FRAMING_ERRORS, stored_face_cut
from phaze.faces.framing import Framing
from phaze.faces.geometry import invert_matrix
from phaze.formats.dfl_jpg import read_dfl_jpg
from phaze.io.images import IMAGE_SUFFIXES, decode_image, is_image_path
from phaze.io.limits import current_limits, env_name

logger = logging.getLogger(__name__)

FaceKind = Literal["faceswap", "dfl", "plain", "synthetic"]
# Malformed values a reader may miss: the face is still a plain crop, not a crash.
_READER_SLIPS = (ValueError, TypeError, OverflowError, ArithmeticError, LookupError,
                 MemoryError, RecursionError, cv2.error)


@dataclass(frozen=True)
class FaceMetadata:
    """What a metadata reader found in one face file."""

    kind: FaceKind
    landmarks: np.ndarray  # (68, 2) float32 in the stored face's px
    mask: np.ndarray | None = None  # (H, W) uint8 stored mask (DFL XSeg, faceswap mask)
    detail: str = ""  # e.g. DFL face type
    aligned: AlignedFace | None = None  # faceswap faces: the face in its frame (head-centred)


MetadataReader = Callable[[Path], "FaceMetadata | None"]


def _read_dfl(path: Path) -> FaceMetadata | None:
    face = read_dfl_jpg(path)
    if face is None:
        return None
    return FaceMetadata("dfl", face.landmarks, face.xseg_mask, face.face_type)


def _read_faceswap(path: Path) -> FaceMetadata | None:
    """faceswap/Phaze face PNG: head-centred face, landmarks mapped into its px."""
    from phaze.formats.faceswap_png import ALIGNMENTS_VERSION, face_from_metadata, read_metadata

    metadata = read_metadata(path)
    if metadata is None:
        return None
    version = metadata.get("source", {}).get("alignments_version", ALIGNMENTS_VERSION)
    if not isinstance(version, (int, float)) or version > ALIGNMENTS_VERSION:
        raise DataError(f"{path}: faceswap alignments version {version!r} is not supported "
                        f"(up to {ALIGNMENTS_VERSION}).")
    size_px = int.from_bytes(path.read_bytes()[16:20], "big")  # IHDR width
    aligned = face_from_metadata(metadata)
    landmarks = aligned.aligned_landmarks(size_px)
    mask = stored_faceswap_mask(metadata, aligned, size_px, path)
    return FaceMetadata("faceswap", landmarks.astype(np.float32), mask, aligned=aligned)


def stored_faceswap_mask(metadata: dict, aligned: AlignedFace, size_px: int,
                         path: Path) -> np.ndarray | None:
    """The first mask stored in faceswap metadata, mapped into the head face's px (uint8)."""
    masks = metadata["alignments"].get("mask") or {}
    if not isinstance(masks, dict) or not masks:
        return None
    name, entry = next(iter(masks.items()))
    try:
        side = int(entry["stored_size"])
        stored = inflate_mask(entry["mask"], side, current_limits().max_mask_bytes)
        frame_to_mask = np.asarray(entry["affine_matrix"], np.float64).reshape(2, 3)
    except (KeyError, TypeError, ValueError, OverflowError, zlib.error) as error:
        raise DataError(f"{path}: stored mask {name!r} cannot be read ({error})") from None
    if not np.isfinite(frame_to_mask).all():
        raise DataError(f"{path}: stored mask {name!r} has a non-finite affine_matrix")
    # mask px -> frame px -> head-face px
    mask_to_frame = np.vstack([invert_matrix(frame_to_mask), [0.0, 0.0, 1.0]])
    mask_to_face = aligned.matrix(size_px) @ mask_to_frame
    return cv2.warpAffine(stored, mask_to_face, (size_px, size_px), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)


def inflate_mask(compressed: bytes, side: int, max_bytes: int) -> np.ndarray:
    """A (side, side) uint8 mask from zlib data, never inflating more than `max_bytes`: a
    2 MB bomb of zeros would otherwise become GBs (`zlib.decompress(bufsize=...)` is no cap)."""
    if not isinstance(compressed, bytes):
        raise TypeError(f"mask is a {type(compressed).__name__}, expected bytes")
    if not 0 < side * side <= max_bytes:
        raise ValueError(f"stored_size {side} is outside 1..{math.isqrt(max_bytes)} px (raise "
                         f"the limit with {env_name('max_mask_bytes')}=<bytes>)")
    inflater = zlib.decompressobj()
    data = inflater.decompress(compressed, side * side)
    if len(data) < side * side:
        raise ValueError(f"mask holds {len(data)} bytes, expected {side * side}")
    if inflater.decompress(inflater.unconsumed_tail, 1):   # one byte more is enough to know
        raise ValueError(f"mask data inflates past stored_size² = {side * side} bytes")
    return np.frombuffer(data, np.uint8).reshape(side, side)


METADATA_READERS: dict[str, MetadataReader] = {".jpg": _read_dfl, ".jpeg": _read_dfl,
                                               ".png": _read_faceswap}


def read_face_metadata(path: Path, readers: dict[str, MetadataReader] | None = None
                       ) -> tuple[FaceMetadata | None, str | None]:
    """(metadata, None) for a face file with usable metadata; (None, reason) when its metadata
    is broken or refused; (None, None) when it has none (or no reader knows its suffix)."""
    reader = (METADATA_READERS if readers is None else readers).get(path.suffix.lower())
    if reader is None:
        return None, None
    try:
        return reader(path), None
    except DataError as error:
        return None, str(error)
    except _READER_SLIPS as error:
        return None, f"{path}: metadata unusable ({type(error).__name__}: {error})"


def framed_face_image(path: str | Path, framing: Framing, size_px: int) -> np.ndarray | None:
    """The face at `path` framed as training frames it (a faceswap PNG is sub-cropped at the
    framing's centering, any other face cut around its middle), at `size_px`; None (with a
    warning naming it) when it cannot be decoded or framed."""
    path = Path(path)
    metadata, _ = read_face_metadata(path)   # unusable metadata: a plain crop, as in training
    try:
        image = decode_image(path)
    except DataError as error:
        logger.warning("%s: skipped: %s", path.name, error)
        return None
    if image is None:
        return None
    aligned = None if metadata is None else metadata.aligned
    try:
        return stored_face_cut(image, aligned, framing, size_px).plane(image)
    except FRAMING_ERRORS as error:
        logger.warning("%s: skipped: cannot be framed (%s)", path.name, error)
        return None


def list_images(input_dir: str | Path) -> list[Path]:
    """Face images in `input_dir` (not recursive), sorted by name."""
    folder = Path(input_dir)
    if not folder.is_dir():
        raise DataError(f"input folder '{folder}' does not exist or is not a folder")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and is_image_path(p))
    if not paths:
        raise DataError(f"input folder '{folder}' holds no images (expected "
                        + ", ".join(IMAGE_SUFFIXES) + " files)")
    return paths
