"""Reads one side's folder of aligned faces (and optional masks) into a resized, cached FaceSet."""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from phaze.errors import DataError
from phaze.io.images import IMAGE_SUFFIXES, decode_image, is_image_path

logger = logging.getLogger(__name__)

MASK_FOLDER = "masks"
_MAX_NAMED_FILES = 20  # a warning naming 10 000 files helps nobody


class FaceSet:
    """One side's faces at the working size: in memory when they fit, else decoded on access."""

    def __init__(self, paths: Sequence[Path], size_px: int, faces: np.ndarray | None = None,
                 masks: np.ndarray | None = None,
                 mask_paths: Sequence[Path] | None = None) -> None:
        self._paths = tuple(Path(p) for p in paths)
        self.size_px = size_px
        self._faces = _read_only(faces)  # (N, H, W, 3) uint8 RGB, or None when lazy
        self._masks = _read_only(masks)  # (N, H, W) uint8, or None when lazy or absent
        self._mask_paths = tuple(mask_paths) if mask_paths is not None else None
        self.has_masks = masks is not None or mask_paths is not None

    @property
    def paths(self) -> tuple[Path, ...]:
        return self._paths

    def __len__(self) -> int:
        return len(self._paths)

    def face(self, index: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB face at the working size."""
        if self._faces is not None:
            return self._faces[index]
        face = read_face(self._paths[index], self.size_px)
        if face is None:
            raise DataError(f"Face image {self._paths[index]} can no longer be read.")
        return face

    def mask(self, index: int) -> np.ndarray | None:
        """(H, W) uint8 mask (255 = face) at the working size, or None without masks."""
        if self._masks is not None:
            return self._masks[index]
        if self._mask_paths is None:
            return None
        mask = read_mask(self._mask_paths[index], self.size_px)
        if mask is None:
            raise DataError(f"Mask image {self._mask_paths[index]} can no longer be read.")
        return mask


def _read_only(array: np.ndarray | None) -> np.ndarray | None:
    # The cache is shared by every batch (and, after fork, by every worker): guard it.
    if array is not None:
        array.flags.writeable = False
    return array


def read_face(path: Path, size_px: int) -> np.ndarray | None:
    """The image at `path` as (size, size, 3) uint8 RGB, or None when it cannot be decoded."""
    image = decode_image(path)
    return None if image is None else _square(image, size_px)


def read_mask(path: Path, size_px: int) -> np.ndarray | None:
    """The grayscale mask at `path` as (size, size) uint8, or None when it cannot be decoded."""
    mask = decode_image(path, grayscale=True)
    return None if mask is None else _square(mask, size_px)


def _square(image: np.ndarray, size_px: int) -> np.ndarray:
    """Centre-crop to a square (aligned faces already are one) and area-resize to `size_px`."""
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    image = image[top:top + side, left:left + side]
    if side == size_px:
        return np.ascontiguousarray(image)
    return cv2.resize(image, (size_px, size_px), interpolation=cv2.INTER_AREA)


def load_faceset(folder: str | Path, side: str, min_count: int, size_px: int,
                 cache_limit_bytes: int = 2**30) -> FaceSet:
    """Every readable face in `folder`, resized to `size_px`; raises DataError if too few."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"Side {side.upper()} face folder {folder} does not exist or is not a "
                        f"folder.")
    images, not_images = _list_folder(folder)
    if not images and not not_images:
        raise DataError(f"Side {side.upper()} face folder {folder} is empty; it needs at least "
                        f"{min_count} face images ({'/'.join(s[1:] for s in IMAGE_SUFFIXES)}).")
    mask_paths = [folder / MASK_FOLDER / f"{path.stem}.png" for path in images]
    with_masks = any(path.is_file() for path in mask_paths)
    cache = _cache_bytes(len(images), size_px, with_masks) <= cache_limit_bytes
    decoded = _decode_all(images, mask_paths if with_masks else None, size_px, cache)
    _warn_unusable(side, folder, not_images,
                   [path for path, ok in zip(images, decoded.usable) if not ok])
    kept = [path for path, ok in zip(images, decoded.usable) if ok]
    _require_count(side, folder, len(kept), len(images) + len(not_images), min_count)
    kept_masks = [path for path, ok in zip(mask_paths, decoded.usable) if ok]
    masks_ok = with_masks and _all_masks_present(side, folder, decoded.mask_found, kept_masks)
    return FaceSet(kept, size_px, faces=decoded.faces,
                   masks=decoded.masks if masks_ok else None,
                   mask_paths=kept_masks if masks_ok and not cache else None)


def _list_folder(folder: Path) -> tuple[list[Path], list[Path]]:
    """(image files, other files), each sorted by name; hidden files are not ours to judge."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if is_image_path(p)]
    return images, [p for p in files if not is_image_path(p)]


def _cache_bytes(count: int, size_px: int, with_masks: bool) -> int:
    return count * size_px * size_px * (4 if with_masks else 3)


@dataclass
class _Decoded:
    usable: list[bool] = field(default_factory=list)  # one per listed image
    mask_found: list[bool] = field(default_factory=list)  # one per usable image
    faces: np.ndarray | None = None  # (usable, H, W, 3) when caching
    masks: np.ndarray | None = None  # (usable, H, W) when caching and masks exist


def _decode_all(images: list[Path], mask_paths: list[Path] | None, size_px: int,
                cache: bool) -> _Decoded:
    """Decode every face (to validate it, and to keep it when `cache`) on a few threads."""
    count = len(images)
    result = _Decoded()
    if cache:
        result.faces = np.empty((count, size_px, size_px, 3), dtype=np.uint8)
        result.masks = np.empty((count, size_px, size_px), np.uint8) if mask_paths else None
    jobs = zip(images, mask_paths or [None] * count)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:  # cv2 frees the GIL
        for face, mask in pool.map(lambda job: _decode_one(*job, size_px), jobs):
            result.usable.append(face is not None)
            if face is None:
                continue
            kept = len(result.mask_found)  # usable images are compacted in place
            if result.faces is not None:
                result.faces[kept] = face
            if result.masks is not None and mask is not None:
                result.masks[kept] = mask
            result.mask_found.append(mask is not None)
    kept = len(result.mask_found)
    result.faces = None if result.faces is None else result.faces[:kept]
    result.masks = None if result.masks is None else result.masks[:kept]
    return result


def _decode_one(path: Path, mask_path: Path | None,
                size_px: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    face = read_face(path, size_px)
    if face is None or mask_path is None or not mask_path.is_file():
        return face, None
    return face, read_mask(mask_path, size_px)


def _warn_unusable(side: str, folder: Path, not_images: list[Path], corrupt: list[Path]) -> None:
    notes = [f"{p.name} (not an image)" for p in not_images]
    notes += [f"{p.name} (cannot be decoded)" for p in corrupt]
    if not notes:
        return
    named = ", ".join(notes[:_MAX_NAMED_FILES])
    more = f" and {len(notes) - _MAX_NAMED_FILES} more" if len(notes) > _MAX_NAMED_FILES else ""
    logger.warning("Side %s: skipping %d unusable file(s) in %s: %s%s", side.upper(), len(notes),
                   folder, named, more)


def _require_count(side: str, folder: Path, usable: int, files: int, min_count: int) -> None:
    if usable < min_count:
        raise DataError(f"Side {side.upper()} face folder {folder} has {usable} usable face "
                        f"image(s) (of {files} file(s)); at least {min_count} (the batch size) "
                        f"are needed.")


def _all_masks_present(side: str, folder: Path, mask_found: list[bool],
                       mask_paths: list[Path]) -> bool:
    """True when every kept face has a readable mask; warns when only some do."""
    missing = [path.name for path, found in zip(mask_paths, mask_found) if not found]
    if missing:
        logger.warning("Side %s: only %d of %d faces in %s have a readable mask in %s/ "
                       "(e.g. %s is missing); ignoring all masks.", side.upper(),
                       len(mask_found) - len(missing), len(mask_found), folder, MASK_FOLDER,
                       missing[0])
    return not missing
