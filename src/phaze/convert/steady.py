"""Steady swaps: each face's landmarks are smoothed along its track before convert aligns it.

The crop and paste matrices come from the landmarks, so landmark jitter makes the pasted face
shake against a still head. Faces are linked frame to frame into tracks (nearest landmark
centre, within half a face) and each track's landmarks go through a One-Euro filter
(`phaze.faces.smoothing`), frame by frame in output order: nothing is held back or re-read.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from phaze.convert import SMOOTHING_METHODS
from phaze.errors import ConfigError
from phaze.faces.smoothing import OneEuroConfig, OneEuroFilter, face_scale

MATCH_DISTANCE = 0.5     # a face continues a track if its centre moved < this × face size
MAX_GAP_S = 0.5          # a track unseen for longer ends (the face left, or a cut)


def check_smoothing(name: str) -> None:
    SMOOTHING_METHODS.check(name)


@dataclass
class _Track:
    filter: OneEuroFilter
    centre: np.ndarray       # (2,) raw landmark centre at the last sighting, px
    scale: float             # face size at the last sighting, px
    time_s: float            # time of the last sighting


class SteadyLandmarks:
    """Call once per frame, in order, with the frame's faces; returns them smoothed."""

    def __init__(self, fps: float, config: OneEuroConfig = OneEuroConfig()) -> None:
        if not fps > 0:
            raise ConfigError(f"smoothing needs a frame rate > 0, got {fps!r}")
        self.fps, self.config = float(fps), config
        self.tracks: list[_Track] = []

    def __call__(self, frame_index: int, faces: list[np.ndarray]) -> list[np.ndarray]:
        time_s = frame_index / self.fps
        self.tracks = [t for t in self.tracks if time_s - t.time_s <= MAX_GAP_S]
        matched = self._match(faces)
        smoothed = []
        for landmarks, track in zip(faces, matched):
            scale = face_scale(landmarks)
            if track is None:
                track = _Track(OneEuroFilter(self.config, scale), np.zeros(2), scale, time_s)
                self.tracks.append(track)
            track.centre, track.scale, track.time_s = landmarks.mean(0), scale, time_s
            smoothed.append(track.filter(landmarks, time_s))
        return smoothed

    def _match(self, faces: list[np.ndarray]) -> list[_Track | None]:
        """Greedy nearest-first matching of faces to live tracks (each used at most once)."""
        pairs = []
        for face_index, landmarks in enumerate(faces):
            centre = landmarks.mean(0)
            for track in self.tracks:
                distance = float(np.linalg.norm(centre - track.centre))
                if distance < MATCH_DISTANCE * track.scale:
                    pairs.append((distance, face_index, id(track), track))
        matched: list[_Track | None] = [None] * len(faces)
        used: set[int] = set()
        for _, face_index, track_id, track in sorted(pairs, key=lambda p: p[:3]):
            if matched[face_index] is None and track_id not in used:
                matched[face_index] = track
                used.add(track_id)
        return matched
