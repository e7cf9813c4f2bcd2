"""One side's training faces: a face source framed as the model sees it, with masks and landmarks.

A source is a folder (faceswap/Phaze face PNGs, DFL JPGs and plain crops, mixed as they come;
masks optional in `masks/`) or faces in memory (`phaze.data.sources.synthetic_source`). Every
face is framed at the model's centering and coverage (`phaze.data.sources.framing`) and given its
face mask and eye/mouth areas (`phaze.data.training_face`) once, at load; the result is kept in
memory when it fits, else rebuilt on access.
"""
from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from phaze.data.settings import MaskWeighting
from phaze.data.sources.framing import frame_record
from phaze.data.sources.scan import FaceRecord, SourceScan, log_scan, scan_folder
from phaze.data.training_face import TrainingFace, build_training_face
from phaze.errors import DataError
from phaze.faces.framing import Framing
from phaze.io.images import IMAGE_SUFFIXES, is_image_path

logger = logging.getLogger(__name__)

_MAX_NAMED_FILES = 20  # a warning naming 10 000 files helps nobody
_BYTES_PER_PX = 6      # RGB, face mask, eye and mouth areas
# Files that extract (or faceswap) keeps beside the faces: not faces, but not a user's mistake.
COMPANION_SUFFIXES = (".json", ".fsa")


class FaceSet:
    """One side's faces at the working size: in memory when they fit, else framed on access."""

    def __init__(self, records: Sequence[FaceRecord], size_px: int, framing: Framing,
                 mask_type: str = "extended", faces: Sequence[TrainingFace] | None = None,
                 all_faces: Sequence[TrainingFace] | None = None) -> None:
        """`faces`: the cache (None: frame on access); `all_faces`: every face once, to derive
        the landmarks and mask flags without framing the set again (default: `faces`)."""
        self._records = tuple(records)
        self.size_px, self.framing, self.mask_type = size_px, framing, mask_type
        self._faces = tuple(_read_only(face) for face in faces) if faces is not None else None
        if all_faces is None:
            all_faces = [self.face(i) for i in range(len(self))]
        self._landmarks = landmark_array(all_faces)
        self.has_masks = any(face.face_mask is not None for face in all_faces)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(record.name for record in self._records)

    @property
    def paths(self) -> tuple[Path | None, ...]:
        return tuple(record.path for record in self._records)

    def __len__(self) -> int:
        return len(self._records)

    def face(self, index: int) -> TrainingFace:
        if self._faces is not None:
            return self._faces[index]
        face = _build(self._records[index], self.framing, self.size_px, self.mask_type)
        if face is None:
            raise DataError(f"face {self._records[index].name} can no longer be read.")
        return face

    @property
    def landmarks(self) -> np.ndarray:
        """(N, 68, 2) float32 framed landmarks; NaN rows for faces without landmarks."""
        return self._landmarks

    @property
    def has_landmarks(self) -> bool:
        return bool(np.isfinite(self._landmarks[:, 0, 0]).any())

    @property
    def has_weighting(self) -> bool:
        """True when a face has a mask or landmarks, so its batches carry loss weights."""
        return self.has_masks or self.has_landmarks


def _read_only(face: TrainingFace) -> TrainingFace:
    # Shared by every batch (and, after fork, by every worker): guard the cache.
    for array in (face.image, face.face_mask, face.areas, face.landmarks):
        if array is not None:
            array.flags.writeable = False
    return face


def landmark_array(faces: Sequence[TrainingFace]) -> np.ndarray:
    """(N, 68, 2) float32 landmarks of `faces`, NaN rows where a face has none."""
    points = np.full((len(faces), 68, 2), np.nan, np.float32)
    for index, face in enumerate(faces):
        if face.landmarks is not None:
            points[index] = face.landmarks
    return points


def _build(record: FaceRecord, framing: Framing, size_px: int,
           mask_type: str) -> TrainingFace | None:
    framed = frame_record(record, framing, size_px)
    return None if framed is None else build_training_face(framed, mask_type)


# --- loading ------------------------------------------------------------------------------------
def load_faceset(source: str | Path | SourceScan, side: str, min_count: int, size_px: int,
                 framing: Framing | None = None, mask_type: str = "extended",
                 cache_limit_bytes: int = 2**30) -> FaceSet:
    """Every usable face of `source` at `size_px`, framed by `framing`; DataError if too few."""
    MaskWeighting(mask_type=mask_type)  # the one check of the name, and its message
    framing = framing or Framing()
    if isinstance(source, SourceScan):
        scan, where, not_images = source, f"in-memory faces of side {side.upper()}", []
    else:
        folder = _check_folder(Path(source), side, min_count)
        scan, where = scan_folder(folder, side, report=False), str(folder)
        not_images = [p for p in _files(folder)
                      if not is_image_path(p) and p.suffix.lower() not in COMPANION_SUFFIXES]
    built = _build_all(scan.records, framing, size_px, mask_type)
    corrupt = [r for r, face in zip(scan.records, built) if face is None]
    kept = [(r, face) for r, face in zip(scan.records, built) if face is not None]
    _warn_unusable(side, where, not_images, corrupt)
    _require_count(side, where, len(kept), len(scan.records) + len(not_images), min_count)
    scan = _without(scan, corrupt)
    log_scan(scan)
    _log_masks(side, [face for _, face in kept], mask_type)
    records = [record for record, _ in kept]
    faces = [face for _, face in kept]
    cache = len(kept) * size_px * size_px * _BYTES_PER_PX <= cache_limit_bytes
    return FaceSet(records, size_px, framing, mask_type, faces=faces if cache else None,
                   all_faces=faces)


def _check_folder(folder: Path, side: str, min_count: int) -> Path:
    if not folder.is_dir():
        raise DataError(f"Side {side.upper()} face folder {folder} does not exist or is not a "
                        f"folder.")
    if not _files(folder):
        raise DataError(f"Side {side.upper()} face folder {folder} is empty; it needs at least "
                        f"{min_count} face images ({'/'.join(s[1:] for s in IMAGE_SUFFIXES)}).")
    return folder


def _files(folder: Path) -> list[Path]:
    """Files of `folder` by name; hidden files are not ours to judge."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _build_all(records: Sequence[FaceRecord], framing: Framing, size_px: int,
               mask_type: str) -> list[TrainingFace | None]:
    """Frame every face on a few threads (cv2 and PNG decoding free the GIL)."""
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda r: _build(r, framing, size_px, mask_type), records))


def _without(scan: SourceScan, dropped: list[FaceRecord]) -> SourceScan:
    gone = {id(record) for record in dropped}
    paths = {record.path for record in dropped}
    return SourceScan(scan.side, [r for r in scan.records if id(r) not in gone],
                      [(path, why) for path, why in scan.broken if path not in paths])


def _log_masks(side: str, faces: list[TrainingFace], mask_type: str) -> None:
    sources = Counter(face.mask_source for face in faces)
    if mask_type == "none" or not faces:
        return
    described = {"extended": "extended (landmarks)", "components": "components (landmarks)",
                 "stored": "stored with the face", "folder": "from masks/",
                 "occlusion": "occlusion (masks/ from the segmenter or drawn)",
                 "none": "without a mask (loss over the whole face)"}
    parts = [f"{count} {described[source]}" for source, count in sorted(sources.items())]
    weighted = sum(face.areas is not None for face in faces)
    logger.info("side %s face masks (%s): %s; eye/mouth weighting on %d of %d faces",
                side.upper(), mask_type, ", ".join(parts), weighted, len(faces))


def _warn_unusable(side: str, where: str, not_images: list[Path],
                   corrupt: list[FaceRecord]) -> None:
    notes = [f"{p.name} (not an image)" for p in not_images]
    notes += [f"{r.name} (cannot be decoded)" for r in corrupt]
    if not notes:
        return
    named = ", ".join(notes[:_MAX_NAMED_FILES])
    more = f" and {len(notes) - _MAX_NAMED_FILES} more" if len(notes) > _MAX_NAMED_FILES else ""
    logger.warning("Side %s: skipping %d unusable file(s) in %s: %s%s", side.upper(), len(notes),
                   where, named, more)


def _require_count(side: str, where: str, usable: int, files: int, min_count: int) -> None:
    if usable < min_count:
        raise DataError(f"Side {side.upper()} face folder {where} has {usable} usable face "
                        f"image(s) (of {files} file(s)); at least {min_count} (the batch size) "
                        f"are needed.")
