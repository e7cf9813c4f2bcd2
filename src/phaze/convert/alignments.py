"""The alignments convert reads: for each frame name, its faces' 68 landmarks.

The file is the one `phaze extract` writes (`phaze.formats.alignments_json`); this module only
turns it into what convert asks of it: landmarks per frame, and the source video's timing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phaze.formats.alignments_json import read_alignments


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
    """Read extract's JSON alignments; a missing or malformed file is a DataError naming it."""
    path = Path(path)
    document = read_alignments(path)
    faces = {name: [np.asarray(face.landmarks, np.float32) for face in frame_faces]
             for name, frame_faces in document.frames.items()}
    video = document.video
    return Alignments(path, faces, video.frame_count if video else None,
                      video.fps if video else None, list(faces))
