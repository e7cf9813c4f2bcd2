"""The JSON alignments file extract writes for convert: every frame, its faces, the video's timing.

JSON, not pickle: it is read back without executing anything. Layout:
  {"__meta__": {"format": "phaze-alignments", "version": 1, "source": ..., "is_video": ...,
                "fps": ..., "frame_count": ..., "every_n": ..., "detector": ..., "aligner": ...},
   "frames": {"<frame name>": {"dims": [H, W], "faces": [{"x", "y", "w", "h", "score",
                                "rotation", "landmarks_xy": [[x, y] x 68]}]}}}
Frames that were read but had no face are listed with "faces": [].
"""
from __future__ import annotations

import json
from pathlib import Path

from phaze.errors import DataError
from phaze.extract.find import FoundFace
from phaze.io.images import write_bytes_atomic

FORMAT_NAME = "phaze-alignments"
VERSION = 1
MAX_BYTES = 1 << 30   # refuse absurd files rather than exhausting memory


def face_record(face: FoundFace) -> dict:
    box = face.box
    return {"x": round(box.left, 3), "y": round(box.top, 3), "w": round(box.width, 3),
            "h": round(box.height, 3), "score": round(face.score, 4), "rotation": face.rotation,
            "landmarks_xy": [[round(float(x), 3), round(float(y), 3)] for x, y in face.landmarks]}


def write_alignments(path: str | Path, meta: dict, frames: dict[str, dict]) -> Path:
    document = {"__meta__": {"format": FORMAT_NAME, "version": VERSION, **meta},
                "frames": frames}
    return write_bytes_atomic(path, json.dumps(document, indent=1).encode("utf-8"))


def read_alignments(path: str | Path) -> dict:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DataError(f"alignments '{path}' is larger than {MAX_BYTES} bytes")
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"alignments '{path}' cannot be read: {error}") from None
    meta = document.get("__meta__") if isinstance(document, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise DataError(f"alignments '{path}' is not a Phaze alignments file "
                        f"(expected __meta__.format = {FORMAT_NAME!r})")
    if not isinstance(document.get("frames"), dict):
        raise DataError(f"alignments '{path}' has no 'frames' mapping")
    return document
