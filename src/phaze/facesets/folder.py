"""Read a folder of extracted faces (faceswap-style PNGs) into per-face measurements.

Faces are measured one at a time and their pixels dropped, so a folder of thousands of 512 px
faces needs the memory of one. Files that are not readable faces are listed with the reason,
never fatal, so one bad file does not stop the sort of ten thousand good ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phaze.errors import DataError
from phaze.facesets.measures import expression, sharpness, thumbnail
from phaze.facesets.pose import Pose, head_pose
from phaze.formats.faceswap_png import face_from_metadata, read_metadata
from phaze.io.images import decode_image

REJECTED = "rejected"   # sub-folder that filtered-out faces are moved to


@dataclass
class FaceStats:
    path: Path
    sharpness: float
    pose: Pose
    expression: dict[str, float]
    thumb: np.ndarray                  # (32, 32) normalised grey, for near-duplicates
    embedding: np.ndarray | None       # (128,) face-recognition embedding, when asked for


@dataclass
class FaceSet:
    folder: Path
    faces: list[FaceStats]
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (file name, why)


def face_pngs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"face folder '{folder}' does not exist or is not a folder")
    pngs = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".png")
    if not pngs:
        raise DataError(f"face folder '{folder}' has no .png faces: expected the output of "
                        "`phaze extract` (or faceswap's extract)")
    return pngs


def read_face_set(folder: str | Path, with_identity: bool = False,
                  progress: bool = False) -> FaceSet:
    """Measure every face PNG directly in `folder` (not in sub-folders such as rejected/)."""
    folder = Path(folder)
    paths = face_pngs(folder)
    embedder = None
    if with_identity:
        from phaze.extract.identity import FaceEmbedder
        embedder = FaceEmbedder()
    result = FaceSet(folder, [])
    if progress:
        from tqdm import tqdm
        paths = tqdm(paths, unit="face", desc="faces")
    for path in paths:
        stats = _measure(path, embedder, result.skipped)
        if stats is not None:
            result.faces.append(stats)
    if not result.faces:
        reasons = "; ".join(f"{name}: {why}" for name, why in result.skipped[:3])
        raise DataError(f"face folder '{folder}' has no usable faces ({reasons})")
    return result


def _measure(path: Path, embedder, skipped: list) -> FaceStats | None:
    try:
        metadata = read_metadata(path)
    except DataError as error:
        skipped.append((path.name, f"not a readable face PNG ({error})"))
        return None
    image = decode_image(path)
    if image is None:
        skipped.append((path.name, "not a readable PNG (corrupt or truncated)"))
        return None
    if metadata is None:
        skipped.append((path.name, "has no faceswap metadata (landmarks): not an extracted face"))
        return None
    face = face_from_metadata(metadata)
    size = image.shape[0]
    aligned = face.aligned_landmarks(size)  # head-centred, as stored
    return FaceStats(path, sharpness(image, aligned), head_pose(face.landmarks),
                     expression(face.landmarks), thumbnail(image),
                     embedder.embed(image, aligned) if embedder is not None else None)
