"""Helpers shared by the faceset tests (a uniquely named module: `conftest` is ambiguous)."""
from __future__ import annotations

import shutil
from pathlib import Path


def copy_faces(*folders: Path, into: Path) -> Path:
    into.mkdir()
    for folder in folders:
        for path in folder.glob("*.png"):
            shutil.copy(path, into / path.name)
    return into
