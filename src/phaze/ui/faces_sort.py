"""The Faces page's sort orders and coverage picture: the same measures as `phaze faces`.

Sorting needs every face of the folder measured (identity also embeds each face, ~0.1 s a face
on a CPU core), and the gallery asks for one page at a time, so measured folders are kept while
none of their PNGs change: paging and re-sorting do not measure again.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

from phaze.facesets.folder import FaceSet, read_face_set
from phaze.facesets.sorting import SORT_KEYS, ranked
from phaze.ui.folders import AllowedFolders

NAME_ORDER = "name"   # the gallery's plain order: file names, as listed on disk
CACHED_FOLDERS = 8    # measured folders kept (a few face sets and their A/B pairs)


def _signature(folder: Path) -> tuple:
    """What a measured folder depends on: its PNGs' names, sizes and modification times."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".png")
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


@dataclass
class FaceSetCache:
    """Measured face folders of this server, reused until one of their PNGs changes."""

    entries: dict[tuple[Path, bool], tuple[tuple, FaceSet]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, folder: Path, with_identity: bool = False) -> FaceSet:
        # One at a time: two tabs asking for one folder measure it once, not twice in parallel.
        with self.lock:
            signature = _signature(folder) if folder.is_dir() else ()
            for identity in (True, False) if not with_identity else (True,):
                hit = self.entries.get((folder, identity))
                if hit is not None and hit[0] == signature:
                    return hit[1]
            face_set = read_face_set(folder, with_identity=with_identity)
            self.entries[(folder, with_identity)] = (signature, face_set)
            while len(self.entries) > CACHED_FOLDERS:
                self.entries.pop(next(iter(self.entries)))   # the oldest first
            return face_set


def sort_keys() -> list[dict[str, str]]:
    """The gallery's sort choices: file names, then every `phaze faces sort --by` key."""
    return [{"name": NAME_ORDER, "description": "file name"}] + [
        {"name": name, "description": SORT_KEYS[name].description} for name in SORT_KEYS]


def sorted_files(cache: FaceSetCache, folder: Path, files: list[Path],
                 key: str) -> list[tuple[Path, float | None]]:
    """`files` in `phaze faces sort --by key` order, each with its value; files that are not
    measurable faces (no metadata, corrupt) follow in name order with no value."""
    if key == NAME_ORDER:
        return [(path, None) for path in files]
    entry = SORT_KEYS.get_entry(key)   # an unknown key is one line, before any face is read
    ranking = ranked(cache.get(folder, entry.needs_identity), key)
    by_name = {path.name: path for path in files}
    ordered = [(by_name[face.path.name], value) for face, value in ranking
               if face.path.name in by_name]
    measured = {path.name for path, _ in ordered}
    return ordered + [(path, None) for path in files if path.name not in measured]


def add_routes(app: FastAPI, allowed: AllowedFolders, cache: FaceSetCache) -> None:
    from phaze.facesets.coverage import coverage, coverage_json, coverage_picture
    from phaze.io.images import encode_image

    def measured_pair(faces_a: str, faces_b: str):
        set_a = cache.get(allowed.resolve(faces_a))
        set_b = cache.get(allowed.resolve(faces_b))
        return set_a, set_b, coverage(set_a.faces, set_b.faces)

    @app.get("/api/faces/sort-keys")
    def faces_sort_keys() -> list[dict[str, str]]:
        return sort_keys()

    @app.get("/api/faces/coverage")
    def faces_coverage(faces_a: str, faces_b: str) -> dict[str, Any]:
        """`phaze faces coverage`'s JSON for the two folders."""
        return coverage_json(*measured_pair(faces_a, faces_b))

    @app.get("/api/faces/coverage.png")
    def faces_coverage_picture(faces_a: str, faces_b: str) -> Response:
        """`phaze faces coverage`'s picture for the two folders (made in memory, not saved)."""
        picture = coverage_picture(*measured_pair(faces_a, faces_b))
        return Response(encode_image(picture, ".png"), media_type="image/png",
                        headers={"Cache-Control": "no-store"})
