"""Face tracks: one face linked across video frames, broken at cuts, jumps and identity changes.

A face continues a track when its box overlaps the track's last box and its eyes have not jumped
further than a fast head turn moves them in one frame. A scene cut (the whole picture changes)
ends every track. Every few frames a track's face is also embedded (face-recognition net): a
face that overlaps but is someone else (two people swapping places, a cut the frame test missed)
starts a new track. A track may bridge a few frames where the detector missed; each unbroken run
of consecutive frames is a *segment*, the unit that temporal smoothing works on.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from phaze.errors import ConfigError
from phaze.extract.detectors import Box
from phaze.extract.identity import SAME_PERSON_DISTANCE

THUMB_PX = 32


@dataclass(frozen=True)
class TrackConfig:
    min_iou: float = 0.3            # box overlap (intersection over union) to continue a track
    max_jump_iod: float = 1.0       # eye-centre move per frame, in inter-ocular distances
    # Mean absolute difference (0..255) of 32 px grey thumbnails of consecutive frames; talking
    # heads stay under ~8, a cut to another shot is several times this.
    cut_difference: float = 30.0
    max_gap_frames: int = 3         # frames a track survives without its face (detector misses)
    # Embed a track's face at its start and every this many of its frames: dlib's net costs
    # ~0.08-0.2 s a face on one CPU core, so every frame would cost more than finding the
    # faces; every 50th (2 s at 25 fps) costs ~1.6 ms a frame. --only-like embeds more often.
    embed_every: int = 50
    max_embedding_distance: float = SAME_PERSON_DISTANCE
    # While faces are tracked, the detector looks only around them, and scans the whole frame
    # (for faces that newly appear) on every this-many-th frame and at cuts; 1 = every frame.
    search_every: int = 5

    def __post_init__(self) -> None:
        if not 0 < self.min_iou <= 1:
            raise ConfigError(f"track min iou {self.min_iou} is invalid: expected 0 < iou <= 1")
        if self.search_every < 1:
            raise ConfigError(f"full-scan-every {self.search_every} is invalid: expected >= 1 "
                              "frames (1 = scan every whole frame)")
        if self.embed_every < 1 or self.max_gap_frames < 0:
            raise ConfigError("track embed_every must be >= 1 and max_gap_frames >= 0")


@dataclass
class Track:
    track_id: int
    last_box: Box
    last_eyes: np.ndarray            # (2,) eye-centre midpoint, frame px
    last_iod: float
    last_seen: int                   # sequence number of the last frame with this face
    segment: int                     # id of the current unbroken run
    length: int = 0
    embeddings: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class Link:
    """Where one face of one frame belongs."""

    track_id: int
    segment: int
    embedding: np.ndarray | None     # set on the frames where the face was embedded


def box_iou(first: Box, second: Box) -> float:
    width = min(first.right, second.right) - max(first.left, second.left)
    height = min(first.bottom, second.bottom) - max(first.top, second.top)
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    return overlap / (first.width * first.height + second.width * second.height - overlap)


def eyes(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """Midpoint of the two eye centres and their distance (the inter-ocular distance)."""
    right, left = landmarks[36:42].mean(0), landmarks[42:48].mean(0)
    return (right + left) / 2, float(np.linalg.norm(left - right))


def thumbnail(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (THUMB_PX, THUMB_PX), interpolation=cv2.INTER_AREA).astype(np.float32)


class Tracker:
    """Feed it each frame's faces in order; it answers each face's track and segment."""

    def __init__(self, config: TrackConfig = TrackConfig(), link_frames: bool = True) -> None:
        self.config = config
        self.link_frames = link_frames   # False for photo folders: every face its own track
        self._active: list[Track] = []
        self._previous_thumb: np.ndarray | None = None
        self._next_track = self._next_segment = 0
        self.cuts: list[int] = []        # sequence numbers of frames that start a new shot

    def update(self, sequence: int, image: np.ndarray, faces: list,
               embed: Callable[[np.ndarray], np.ndarray] | None = None) -> list[Link]:
        """Links for `faces` (each with .box and .landmarks) found in frame number `sequence`.

        `embed(landmarks)` gives the face's embedding; None skips the identity checks.
        """
        if not self.link_frames:
            return [self._start(sequence, face, embed) for face in faces]
        self._note_cut(sequence, image)
        self._active = [track for track in self._active
                        if sequence - track.last_seen <= self.config.max_gap_frames + 1]
        links: list[Link | None] = [None] * len(faces)
        for track, position in self._matches(faces):
            links[position] = self._continue(track, sequence, faces[position], embed)
        return [link or self._start(sequence, faces[position], embed)
                for position, link in enumerate(links)]

    def boxes_to_search(self, sequence: int, image: np.ndarray) -> list[Box]:
        """Where frame `sequence`'s faces should be: the last boxes of the faces of the frame
        before. None (scan the whole frame) at a cut and for photos."""
        if not self.link_frames:
            return []
        if self._previous_thumb is not None and self._difference(image) > \
                self.config.cut_difference:
            return []
        return [track.last_box for track in self._active if track.last_seen == sequence - 1]

    def scan_whole(self, sequence: int) -> bool:
        """Whether frame `sequence` must also be scanned whole, for faces that newly appear."""
        return sequence % self.config.search_every == 0

    def _difference(self, image: np.ndarray) -> float:
        return float(np.abs(thumbnail(image) - self._previous_thumb).mean())

    def _note_cut(self, sequence: int, image: np.ndarray) -> None:
        thumb = thumbnail(image)
        if self._previous_thumb is not None and float(np.abs(
                thumb - self._previous_thumb).mean()) > self.config.cut_difference:
            self.cuts.append(sequence)
            self._active = []
        self._previous_thumb = thumb

    def _matches(self, faces: list) -> list[tuple[Track, int]]:
        """Greedy pairing, best overlap first, of active tracks and faces that may continue them."""
        candidates = []
        for track in self._active:
            for position, face in enumerate(faces):
                overlap = box_iou(track.last_box, face.box)
                centre, _ = eyes(face.landmarks)
                jump = float(np.linalg.norm(centre - track.last_eyes)) / max(track.last_iod, 1e-6)
                if overlap >= self.config.min_iou and jump <= self.config.max_jump_iod:
                    candidates.append((overlap, track, position))
        candidates.sort(key=lambda item: -item[0])
        used_tracks, used_faces, pairs = set(), set(), []
        for _, track, position in candidates:
            if track.track_id in used_tracks or position in used_faces:
                continue
            used_tracks.add(track.track_id)
            used_faces.add(position)
            pairs.append((track, position))
        return pairs

    def _continue(self, track: Track, sequence: int, face, embed) -> Link | None:
        embedding = None
        if embed is not None and track.length % self.config.embed_every == 0:
            embedding = embed(face.landmarks)
            reference = np.mean(track.embeddings, axis=0) if track.embeddings else None
            if reference is not None and float(np.linalg.norm(
                    embedding - reference)) > self.config.max_embedding_distance:
                self._active.remove(track)   # someone else took this place: a new track
                return self._start(sequence, face, None, embedding)
            track.embeddings.append(embedding)
        if sequence - track.last_seen > 1:   # bridged a detector miss: smoothing restarts
            track.segment = self._new_segment()
        self._advance(track, sequence, face)
        return Link(track.track_id, track.segment, embedding)

    def _start(self, sequence: int, face, embed, embedding: np.ndarray | None = None) -> Link:
        if embedding is None and embed is not None:
            embedding = embed(face.landmarks)
        centre, iod = eyes(face.landmarks)
        track = Track(self._next_track, face.box, centre, iod, sequence, self._new_segment(),
                      embeddings=[embedding] if embedding is not None else [])
        self._next_track += 1
        self._advance(track, sequence, face)
        if self.link_frames:   # photos never continue a track: keep none of them
            self._active.append(track)
        return Link(track.track_id, track.segment, embedding)

    def _advance(self, track: Track, sequence: int, face) -> None:
        track.last_box, track.last_seen = face.box, sequence
        track.last_eyes, track.last_iod = eyes(face.landmarks)
        track.length += 1

    def _new_segment(self) -> int:
        self._next_segment += 1
        return self._next_segment - 1
