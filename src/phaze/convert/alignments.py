"""The alignments convert reads: for each frame name, its faces' 68 landmarks.

Extract writes them as JSON (`phaze.extract.alignments`): {"__meta__": {"format":
"phaze-alignments", "fps", "frame_count", ...}, "frames": {name: {"faces": [{..., "landmarks_xy":
[[x, y] x 68]}]}}}. The shorter {"frames": {name: {"faces": [{"landmarks_68"}]}}, "video":
{"frame_count", "fps"}} is read too. Only plain JSON is read: nothing executes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phaze.errors import DataError


@dataclass
class Alignments:
    path: Path
    faces: dict[str, list[np.ndarray]]            # frame name → [(68, 2) float32 landmarks]
    frame_count: int | None = None                # of the source video, when one
    fps: float | None = None
    names: list[str] = field(default_factory=list)

    def for_frame(self, name: str) -> list[np.ndarray]:
        return self.faces.get(name, [])


def load_alignments(path: str | Path) -> Alignments:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"alignments file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"alignments file '{path}' is not valid JSON: {error}") from None
    try:
        frames = raw["frames"]
        faces = {str(name): [_landmarks(_points(face)) for face in entry.get("faces", [])]
                 for name, entry in frames.items()}
        meta = raw.get("__meta__")
        if isinstance(meta, dict):
            is_video = meta.get("is_video", True)
            count = meta.get("frame_count") if is_video else None
            fps = meta.get("fps") if is_video else None
        else:
            video = raw.get("video") or {}
            count, fps = video.get("frame_count"), video.get("fps")
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise DataError(f"alignments file '{path}' is not Phaze alignments ({error!r})") from None
    return Alignments(path, faces, int(count) if count is not None else None,
                      float(fps) if fps is not None else None, list(faces))


def _points(face: dict):
    return face["landmarks_xy"] if "landmarks_xy" in face else face["landmarks_68"]


def _landmarks(points) -> np.ndarray:
    array = np.asarray(points, dtype=np.float32)
    if array.shape != (68, 2) or not np.isfinite(array).all():
        raise ValueError(f"landmarks of shape {array.shape}, expected (68, 2) finite numbers")
    return array
