"""Classify a face folder: which faces carry alignment metadata, which are plain crops.

A folder may mix kinds. Each readable image becomes one `FaceRecord`; a face whose metadata is
missing is a plain crop, and one whose metadata is broken or refused is *also* a plain crop, counted
and named in one warning, never dropped silently. The metadata itself is read by
`phaze.formats.face_files` (DFL JPGs, faceswap/Phaze PNGs); `frame_record` cuts a record at a
model's framing (`phaze.faces.crop`), so training, previews and the mask model see the same crop.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phaze.errors import DataError
from phaze.faces.aligned import AlignedFace
from phaze.faces.crop import FRAMING_ERRORS, stored_face_cut
from phaze.faces.framing import Framing
from phaze.formats.face_files import FaceKind, MetadataReader, read_face_metadata
from phaze.io.images import decode_image, is_image_path
from phaze.data.sources.labels import EXCLUDED_FILE, excluded

logger = logging.getLogger(__name__)

MASK_FOLDER = "masks"
_MAX_NAMED_FILES = 10


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
                                    readers, scan))
    if report:
        log_scan(scan)
    return scan


def _record(path: Path, mask_path: Path | None, readers: dict[str, MetadataReader] | None,
            scan: SourceScan) -> FaceRecord:
    metadata, broken = read_face_metadata(path, readers)
    if broken is not None:
        scan.broken.append((path, broken))
    if metadata is None:
        return FaceRecord("plain", path, mask_path=mask_path)
    return FaceRecord(metadata.kind, path, landmarks=metadata.landmarks, mask=metadata.mask,
                      mask_path=mask_path, aligned=metadata.aligned)


def read_record(path: str | Path) -> FaceRecord:
    """One face file on its own (no masks folder): its metadata, or a plain crop when it has
    none or it cannot be used."""
    path = Path(path)
    return _record(path, None, None, SourceScan(side="", records=[]))


@dataclass(frozen=True)
class FramedFace:
    """One face at the working size, and what it carries, all in the same px."""

    image: np.ndarray                  # (S, S, 3) uint8 RGB
    landmarks: np.ndarray | None       # (68, 2) float32, or None for plain crops
    stored_mask: np.ndarray | None     # (S, S) uint8 mask stored in the file (or in memory)
    folder_mask: np.ndarray | None     # (S, S) uint8 mask from the masks/ folder


def frame_record(record: FaceRecord, framing: Framing, size_px: int) -> FramedFace | None:
    """`record` framed at `size_px`; None when its image (or mask file) cannot be decoded or
    is larger than the image-area budget (a warning names it)."""
    try:
        image = record.image if record.image is not None else decode_image(record.path)
        folder_mask = None
        if image is not None and record.mask_path is not None:
            folder_mask = decode_image(record.mask_path, grayscale=True)
            if folder_mask is None:
                return None
    except DataError as error:
        logger.warning("%s: skipped: %s", record.name, error)
        return None
    if image is None:
        return None
    try:
        cut = stored_face_cut(image, record.aligned, framing, size_px)
        return FramedFace(cut.plane(image), cut.landmarks(record.landmarks),
                          cut.plane(record.mask), cut.plane(folder_mask))
    except FRAMING_ERRORS as error:
        # geometry the metadata checks let through: one face is skipped, the run goes on
        logger.warning("%s: skipped: cannot be framed (%s)", record.name, error)
        return None


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
