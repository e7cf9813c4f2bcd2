"""The masks/ folder of a face folder: one documented place for every mask, and who made it.

Layout (docs/masks.md):
  <faces>/masks/<stem>.png         the face's mask, at the face image's size (255 = face)
  <faces>/masks/hand_drawn.json    {"faces": [stems]}: masks a person drew (editor); `mask
                                   apply` never overwrites them and training uses them as labels
  <faces>/excluded.json            {"faces": [file names]}: faces left out of training
Writers hold one lock (masks/.lock) while they check and write, so an editor save racing a
`mask apply` keeps the hand-drawn mask; files are written to a temp name and renamed.
"""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from phaze.errors import DataError
from phaze.io.images import write_bytes_atomic, write_image

MASK_FOLDER = "masks"
HAND_FILE = "hand_drawn.json"
EXCLUDED_FILE = "excluded.json"
LOCK_FILE = ".lock"


def mask_path(faces: Path, stem: str) -> Path:
    return Path(faces) / MASK_FOLDER / f"{stem}.png"


@contextlib.contextmanager
def masks_lock(faces: Path) -> Iterator[None]:
    """An exclusive lock on <faces>/masks/ for one check-and-write."""
    folder = Path(faces) / MASK_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    handle = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl
            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # Windows: writes stay atomic, only the check is unguarded
            pass
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _read_list(path: Path) -> list[str]:
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = data["faces"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise TypeError("'faces' is not a list of names")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(f"'{path}' cannot be read ({error}): expected JSON "
                        '{"faces": ["name", ...]}') from None
    return names


def _write_list(path: Path, names: set[str]) -> None:
    text = json.dumps({"faces": sorted(names)}, indent=1) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))


def hand_drawn(faces: Path) -> set[str]:
    """Stems of the faces whose mask a person drew."""
    return set(_read_list(Path(faces) / MASK_FOLDER / HAND_FILE))


def excluded(faces: Path) -> set[str]:
    """File names of the faces left out of training."""
    return set(_read_list(Path(faces) / EXCLUDED_FILE))


def set_excluded(faces: Path, name: str, exclude: bool) -> None:
    with masks_lock(faces):
        names = excluded(faces)
        names = names | {name} if exclude else names - {name}
        _write_list(Path(faces) / EXCLUDED_FILE, names)


def _as_uint8(mask: np.ndarray) -> np.ndarray:
    if mask.dtype == np.uint8:
        return mask
    return np.clip(np.rint(np.asarray(mask, np.float32) * 255.0), 0, 255).astype(np.uint8)


def save_hand_mask(faces: Path, stem: str, mask: np.ndarray) -> Path:
    """Store a drawn mask (uint8 0..255 or float 0..1) and mark it hand-drawn."""
    with masks_lock(faces):
        path = write_image(mask_path(faces, stem), _as_uint8(mask))
        _write_list(Path(faces) / MASK_FOLDER / HAND_FILE, hand_drawn(faces) | {stem})
    return path


def save_predicted_mask(faces: Path, stem: str, mask: np.ndarray) -> bool:
    """Store a segmenter's mask unless a person drew this face's mask; True when written."""
    with masks_lock(faces):
        if stem in hand_drawn(faces):
            return False
        write_image(mask_path(faces, stem), _as_uint8(mask))
    return True
