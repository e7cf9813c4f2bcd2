"""Classify a face folder: which faces carry alignment metadata, which are plain crops.

A folder may mix kinds. Each readable image becomes one `FaceRecord`; a face whose metadata is
missing is a plain crop, and one whose metadata is broken or refused is *also* a plain crop, counted
and named in one warning, never dropped silently. Metadata readers are looked up by file suffix
in `METADATA_READERS`: DFL JPGs (landmarks in the stored face's px, XSeg mask) and faceswap/Phaze
PNGs (the face in its frame, so any centering can be sub-cropped from the stored head face, and
the stored masks mapped into the face's px).
"""
from __future__ import annotations

import logging
import math
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from phaze.errors import DataError
from phaze.faces.aligned import AlignedFace
from phaze.formats.dfl_jpg import read_dfl_jpg
from phaze.io.images import is_image_path
from phaze.io.limits import current_limits, env_name
from phaze.data.sources.labels import EXCLUDED_FILE, excluded

logger = logging.getLogger(__name__)

FaceKind = Literal["faceswap", "dfl", "plain", "synthetic"]
MASK_FOLDER = "masks"
_MAX_NAMED_FILES = 10


@dataclass(frozen=True)
class FaceMetadata:
    """What a metadata reader found in one face file."""

    kind: FaceKind
    landmarks: np.ndarray  # (68, 2) float32 in the stored face's px
    mask: np.ndarray | None = None  # (H, W) uint8 stored mask (DFL XSeg, faceswap mask)
    detail: str = ""  # e.g. DFL face type
    aligned: AlignedFace | None = None  # faceswap faces: the face in its frame (head-centred)


@dataclass(frozen=True)
class FaceRecord:
    """One training face: where it is, what kind it is and what it carries."""

    kind: FaceKind
    path: Path | None  # None for synthetic faces held in memory
    landmarks: np.ndarray | None = None  # (68, 2) stored-face px, None for plain crops
    mask: np.ndarray | None = None  # (H, W) uint8 mask stored in the file (or given in memory)
    mask_path: Path | None = None  # masks/<stem>.png, read on use
    image: np.ndarray | None = None  # (H, W, 3) uint8 RGB, only for in-memory faces
    aligned: AlignedFace | None = None  # faceswap faces: frame geometry of the stored head face

    @property
    def has_mask(self) -> bool:
        return self.mask is not None or self.mask_path is not None

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else f"<{self.kind} face>"


@dataclass
class SourceScan:
    """Every face of one side, with counts by kind and the files whose metadata was unusable."""

    side: str
    records: list[FaceRecord]
    broken: list[tuple[Path, str]] = field(default_factory=list)  # used as plain crops

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(record.kind for record in self.records)
        return {kind: counts.get(kind, 0) for kind in ("faceswap", "dfl", "plain", "synthetic")}

    @property
    def with_masks(self) -> int:
        return sum(record.has_mask for record in self.records)

    def summary(self) -> str:
        """One line: how many faces of each kind (and broken, masked) the side has."""
        parts = [f"{count} {kind}" for kind, count in self.counts.items() if count]
        line = f"side {self.side.upper()}: {len(self.records)} faces ({', '.join(parts)})"
        if self.broken:
            line += f", {len(self.broken)} with broken metadata used as plain crops"
        if 0 < self.with_masks < len(self.records):
            line += (f"; {self.with_masks} of {len(self.records)} have a stored mask: used "
                     "where present, the others fall back to the landmark mask or none")
        return line


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
    landmarks = aligned.aligned_landmarks(size_px, "head")
    mask = stored_faceswap_mask(metadata, aligned, size_px, path)
    return FaceMetadata("faceswap", landmarks.astype(np.float32), mask, aligned=aligned)


def stored_faceswap_mask(metadata: dict, aligned: AlignedFace, size_px: int,
                         path: Path) -> np.ndarray | None:
    """The first mask stored in faceswap metadata, mapped into the head face's px (uint8)."""
    import cv2

    from phaze.faces.geometry import invert_matrix

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
    mask_to_face = aligned.matrix(size_px, "head") @ mask_to_frame
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


def scan_folder(folder: str | Path, side: str,
                readers: dict[str, MetadataReader] | None = None,
                report: bool = True) -> SourceScan:
    """Classify every image of `folder` (and pair it with masks/<stem>.png if that exists).

    `report=False` leaves the summary to the caller (`log_scan`), e.g. after it has dropped the
    faces whose images cannot be decoded."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"side {side.upper()} face folder {folder} does not exist or is not a "
                        "folder.")
    readers = METADATA_READERS if readers is None else readers
    scan = SourceScan(side=side, records=[])
    left_out = excluded(folder)  # faces a person excluded in the Faces page (docs/masks.md)
    if left_out:
        logger.info("side %s: %d face(s) excluded by %s", side.upper(), len(left_out),
                    folder / EXCLUDED_FILE)
    for path in sorted(p for p in folder.iterdir()
                       if p.is_file() and not p.name.startswith(".") and is_image_path(p)
                       and p.name not in left_out):
        mask_path = folder / MASK_FOLDER / f"{path.stem}.png"
        scan.records.append(_record(path, mask_path if mask_path.is_file() else None,
                                    readers.get(path.suffix.lower()), scan))
    if report:
        log_scan(scan)
    return scan


def _record(path: Path, mask_path: Path | None, reader: MetadataReader | None,
            scan: SourceScan) -> FaceRecord:
    metadata = None
    if reader is not None:
        try:
            metadata = reader(path)
        except DataError as error:
            scan.broken.append((path, str(error)))
        except (ValueError, TypeError, OverflowError, ArithmeticError, LookupError,
                MemoryError, RecursionError, cv2_error()) as error:
            # a reader missed a malformed value: the face is still a plain crop, not a crash
            scan.broken.append((path, f"{path}: metadata unusable "
                                      f"({type(error).__name__}: {error})"))
    if metadata is None:
        return FaceRecord("plain", path, mask_path=mask_path)
    return FaceRecord(metadata.kind, path, landmarks=metadata.landmarks, mask=metadata.mask,
                      mask_path=mask_path, aligned=metadata.aligned)


def cv2_error() -> type[BaseException]:
    """OpenCV's exception type (a geometry call on absurd landmarks raises it)."""
    import cv2

    return cv2.error


def read_record(path: str | Path) -> FaceRecord:
    """One face file on its own (no masks folder): its metadata, or a plain crop when it has
    none or it cannot be used."""
    path = Path(path)
    scan = SourceScan(side="", records=[])
    return _record(path, None, METADATA_READERS.get(path.suffix.lower()), scan)


def synthetic_source(faces: np.ndarray, side: str,
                     masks: np.ndarray | None = None) -> SourceScan:
    """In-memory faces (N, H, W, 3) uint8 RGB, e.g. the built-in synthetic identities."""
    records = [FaceRecord("synthetic", None, image=face,
                          mask=None if masks is None else masks[index])
               for index, face in enumerate(faces)]
    return SourceScan(side=side, records=records)


def log_scan(scan: SourceScan) -> None:
    """The scan's summary line, the plain-crop note and the broken files, by name."""
    logger.info(scan.summary())
    if scan.counts["plain"]:
        logger.info("side %s: %d plain crops have no landmarks: no landmark mask, eye/mouth "
                    "weighting or warp to landmarks for them", scan.side.upper(),
                    scan.counts["plain"])
    for path, reason in scan.broken[:_MAX_NAMED_FILES]:
        logger.warning("%s: used as a plain crop: %s", path.name, reason)
    if len(scan.broken) > _MAX_NAMED_FILES:
        logger.warning("... and %d more faces with broken metadata",
                       len(scan.broken) - _MAX_NAMED_FILES)
