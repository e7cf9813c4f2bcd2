"""The alignments convert reads: for each frame name, its faces' 68 landmarks.

Extract writes them as JSON: {"frames": {name: {"faces": [{"box", "landmarks_68", "score"}]}},
"video": {"frame_count", "fps"}} (the video part only for a video). When
`phaze.formats.alignments_json` lands, `load_alignments` delegates to it.
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
        faces = {str(name): [_landmarks(face["landmarks_68"]) for face in entry.get("faces", [])]
                 for name, entry in frames.items()}
        video = raw.get("video") or {}
        count = video.get("frame_count")
        fps = video.get("fps")
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise DataError(f"alignments file '{path}' is not Phaze alignments ({error!r})") from None
    return Alignments(path, faces, int(count) if count is not None else None,
                      float(fps) if fps is not None else None, list(faces))


def _landmarks(points) -> np.ndarray:
    array = np.asarray(points, dtype=np.float32)
    if array.shape != (68, 2) or not np.isfinite(array).all():
        raise ValueError(f"landmarks of shape {array.shape}, expected (68, 2) finite numbers")
    return array
