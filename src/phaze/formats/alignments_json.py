"""Phaze's alignments file: every frame's faces (box, 68 landmarks, score) as JSON, for convert.

The layout `phaze extract` writes and convert (`phaze.convert.alignments`) reads:
{"__meta__": {"format": "phaze-alignments", "version": 1, "is_video", "frame_count", "fps", ...},
 "frames": {frame name: {"faces": [{"x", "y", "w", "h", "score", "landmarks_xy": [[x, y] × 68],
                                   "track_id" (optional)}]}}}.
Frames without a face are listed with "faces": []. "track_id" (video face track) is optional:
files written before it existed still read. This module gives it a validated, typed view.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from phaze.errors import DataError
from phaze.faces.aligned import AlignedFace
from phaze.faces.geometry import LEGACY_POINTS, MAX_COORDINATE_PX
from phaze.io.images import write_bytes_atomic

FORMAT_NAME = "phaze-alignments"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 2**31  # ~40 M faces; a bigger file is not an alignments file
MIN_LANDMARK_SPREAD_PX = 1e-3  # closer than this, no alignment matrix can be found


@dataclass
class VideoInfo:
    """The source video's frame count and frames per second."""

    frame_count: int
    fps: float


@dataclass
class Alignments:
    """Frame name → faces in that frame (in face-index order), plus the source video's info."""

    frames: dict[str, list[AlignedFace]] = field(default_factory=dict)
    video: VideoInfo | None = None

    def add_frame(self, frame: str, faces: list[AlignedFace] | None = None) -> None:
        """Record `frame` with its faces (an empty list when none was found)."""
        self.frames[frame] = list(faces or [])

    @property
    def face_count(self) -> int:
        """Faces over all frames."""
        return sum(len(faces) for faces in self.frames.values())


def _face_to_json(face: AlignedFace) -> dict[str, Any]:
    entry = {"x": int(face.x), "y": int(face.y), "w": int(face.w), "h": int(face.h),
             "score": float(face.score), "landmarks_xy": np.round(face.landmarks, 3).tolist()}
    if face.track_id is not None:
        entry["track_id"] = int(face.track_id)
    return entry


def to_json(alignments: Alignments) -> dict[str, Any]:
    """The JSON-ready dict of `alignments`."""
    meta: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                            "is_video": alignments.video is not None}
    if alignments.video is not None:
        meta.update(frame_count=int(alignments.video.frame_count),
                    fps=float(alignments.video.fps))
    return {"__meta__": meta,
            "frames": {frame: {"faces": [_face_to_json(face) for face in faces]}
                       for frame, faces in alignments.frames.items()}}


def write_alignments(path: str | Path, alignments: Alignments) -> Path:
    """Atomically write `alignments` as JSON to `path`."""
    text = json.dumps(to_json(alignments), separators=(",", ":"))
    return write_bytes_atomic(path, text.encode("utf-8"))


def read_alignments(path: str | Path) -> Alignments:
    """The alignments in `path`; anything malformed is a DataError naming the file and entry."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DataError(f"alignments file '{path}' is larger than {MAX_FILE_BYTES} bytes")
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DataError(f"alignments file '{path}' cannot be read: "
                        f"{error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise DataError(f"alignments file '{path}' is not valid JSON: {error}") from None
    return from_json(raw, str(path))


def from_json(raw: Any, name: str = "alignments") -> Alignments:
    """Alignments from a parsed JSON dict, validated entry by entry."""
    meta = raw.get("__meta__") if isinstance(raw, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise DataError(f"'{name}' is not a Phaze alignments file (expected __meta__.format "
                        f"= {FORMAT_NAME!r})")
    if meta.get("version") != FORMAT_VERSION:
        raise DataError(f"'{name}' has alignments version {meta.get('version')!r}: this Phaze "
                        f"reads version {FORMAT_VERSION}")
    frames = raw.get("frames")
    if not isinstance(frames, dict):
        raise DataError(f"'{name}': 'frames' must map frame names to {{\"faces\": [...]}}")
    video = _video(meta, name) if meta.get("is_video") else None
    result = Alignments(video=video)
    for frame, entry in frames.items():
        faces = entry.get("faces") if isinstance(entry, dict) else None
        if not isinstance(faces, list):
            raise DataError(f"'{name}': frame {frame!r} must hold {{\"faces\": [...]}}")
        result.frames[frame] = [_face(face, frame, index, name)
                                for index, face in enumerate(faces)]
    return result


def _video(raw: dict, name: str) -> VideoInfo:
    count, fps = raw.get("frame_count"), raw.get("fps")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise DataError(f"'{name}': video frame_count {count!r} must be an integer >= 0")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0 \
            or not math.isfinite(fps):
        raise DataError(f"'{name}': video fps {fps!r} must be a number > 0")
    return VideoInfo(count, float(fps))


def _face(entry: Any, frame: str, index: int, name: str) -> AlignedFace:
    where = f"'{name}': frame {frame!r} face {index}"
    if not isinstance(entry, dict):
        raise DataError(f"{where} must be an object with x, y, w, h, score, landmarks_xy")
    box = [entry.get(key) for key in ("x", "y", "w", "h")]
    score = entry.get("score", 1.0)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box) \
            or not all(abs(v) <= MAX_COORDINATE_PX for v in box):   # also refuses NaN, inf
        raise DataError(f"{where}: box x/y/w/h {box!r} must be finite numbers within "
                        f"+-{MAX_COORDINATE_PX:.0f} px")
    if isinstance(score, bool) or not isinstance(score, (int, float)) \
            or not math.isfinite(score):
        raise DataError(f"{where}: score {score!r} must be a finite number")
    try:
        points = np.asarray(entry.get("landmarks_xy"), dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        points = np.zeros(0)
    if points.shape != (68, 2) or not np.isfinite(points).all():
        raise DataError(f"{where}: landmarks_xy has shape {points.shape}: expected 68 finite "
                        "[x, y]")
    if np.ptp(points[LEGACY_POINTS], axis=0).max() < MIN_LANDMARK_SPREAD_PX:
        raise DataError(f"{where}: landmarks_xy are degenerate (all points coincide)")
    track_id = entry.get("track_id")
    if track_id is not None and (isinstance(track_id, bool) or not isinstance(track_id, int)
                                 or track_id < 0):
        raise DataError(f"{where}: track_id {track_id!r} must be an integer >= 0")
    x, y, w, h = (int(round(v)) for v in box)
    try:
        return AlignedFace(frame, index, x, y, w, h, points, float(score), track_id)
    except DataError as error:
        raise DataError(f"{where}: {error}") from None
