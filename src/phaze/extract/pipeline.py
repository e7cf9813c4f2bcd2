"""`extract_faces`: frames in, aligned face PNGs and a JSON alignments file out.

Every frame's faces are found and linked across video frames into tracks; each track segment
is smoothed with a centred window, so a face's final landmarks are known half a window after
it. Frames wait in a short queue until then and their faces are written from it: the video is
decoded once. `--only-like` keeps or drops a track as a whole, decided from several of its
frames, so it needs the whole video first: then the frames are decoded again to write the
kept faces (two passes).
"""
from __future__ import annotations

import os
import time
from collections import defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from phaze.errors import ConfigError, DataError
from phaze.extract.face_png import aligned_face_png, to_aligned_face
from phaze.extract.find import FaceFinder, FindConfig, FoundFace
from phaze.extract.identity import FaceEmbedder, LikeConfig, distances, reference_embeddings
from phaze.faces.smoothing.centred import POLY_ORDER, RunningSmoother, SmoothConfig
from phaze.extract.tracks import Link, TrackConfig, Tracker
from phaze.faces.aligned import AlignedFace
from phaze.formats.alignments_json import Alignments, VideoInfo, write_alignments
from phaze.io.images import write_bytes_atomic
from phaze.io.video import FrameSource, open_frames

LIKE_EMBED_EVERY = 10   # --only-like decides per track: embed more often for a surer vote
SUMMARY_NAMES = 10   # frames without a face named in the summary; the JSON lists them all
SIZE_MIN, SIZE_MAX, SIZE_STEP = 64, 1024, 32   # faceswap: 256..1024 in steps of 64


@dataclass(frozen=True)
class ExtractConfig:
    size_px: int = 512                  # side of the head-centred face PNGs
    every_n: int = 1                    # extract every n-th frame
    find: FindConfig = field(default_factory=FindConfig)
    alignments_path: Path | None = None   # default: <output>/alignments.json
    write_faces: bool = True            # False: alignments only (no face PNGs)
    progress: bool = False
    smooth: SmoothConfig = field(default_factory=SmoothConfig)   # video only
    track: TrackConfig = field(default_factory=TrackConfig)
    like: LikeConfig = field(default_factory=LikeConfig)       # keep only this person
    # Embed faces while tracking (video) so a different person in the same place starts a new
    # track even without a visible cut; always on when `like` is set.
    track_identity: bool = True
    write_threads: int = 2              # threads warping and PNG-encoding faces beside finding

    def __post_init__(self) -> None:
        if not SIZE_MIN <= self.size_px <= SIZE_MAX or self.size_px % SIZE_STEP:
            raise ConfigError(f"size {self.size_px} is invalid: expected a multiple of "
                              f"{SIZE_STEP} in {SIZE_MIN}..{SIZE_MAX} px")
        if self.every_n < 1:
            raise ConfigError(f"every-n {self.every_n} is invalid: expected an integer >= 1")
        if self.write_threads < 1:
            raise ConfigError(f"write threads {self.write_threads} is invalid: expected >= 1")


@dataclass
class ExtractReport:
    frames_read: int = 0
    faces_found: int = 0
    faces_kept: int = 0
    tracks: int = 0
    cuts: int = 0
    frames_without_face: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (name, why)
    face_files: list[Path] = field(default_factory=list)
    alignments_path: Path | None = None
    seconds: float = 0.0
    like_filtered: bool = False

    @property
    def frames_per_sec(self) -> float:
        return self.frames_read / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        lines = [f"frames read: {self.frames_read}, faces found: {self.faces_found}, "
                 f"frames without a face: {len(self.frames_without_face)} "
                 f"({self.frames_per_sec:.1f} frames/s)"]
        if self.tracks:
            lines.append(f"face tracks: {self.tracks}, scene cuts: {self.cuts}")
        if self.like_filtered:
            lines.append(f"kept {self.faces_kept} faces like the reference photos, dropped "
                         f"{self.faces_found - self.faces_kept}")
        lines.append(f"alignments: {self.alignments_path}")
        if self.frames_without_face:
            shown = self.frames_without_face[:SUMMARY_NAMES]
            more = len(self.frames_without_face) - len(shown)
            lines.append("no face in: " + ", ".join(shown) + (f" and {more} more" if more else ""))
        lines += [f"skipped {name}: {why}" for name, why in self.skipped]
        return "\n".join(lines)


@dataclass
class _Face:
    """One found face: what was found, where it belongs, its landmarks (smoothed once final)."""

    found: FoundFace
    link: Link
    landmarks: np.ndarray
    final: bool = False


@dataclass
class _FrameFaces:
    name: str
    faces: list[_Face]

    @property
    def final(self) -> bool:
        return all(face.final for face in self.faces)


def extract_faces(input_path: str | Path, output: str | Path,
                  config: ExtractConfig = ExtractConfig(),
                  finder: FaceFinder | None = None,
                  embedder: FaceEmbedder | None = None) -> ExtractReport:
    """Find every face in a video or image folder; write its aligned PNG and the alignments.

    `finder` and `embedder` let a caller that extracts several inputs load the models once.

    Re-running overwrites: every file is written to a temp name and renamed, so an interrupted
    run leaves whole files only, and the alignments file is written last.
    """
    output = Path(output)
    alignments_path = Path(config.alignments_path or output / "alignments.json")
    check_outputs(Path(input_path), output, alignments_path)   # before any frame is read
    source, frames = open_frames(input_path, config.every_n)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"output folder '{output}' cannot be made: "
                        f"{error.strerror or error}") from None
    if finder is None:
        finder = FaceFinder(config.find)
    elif finder.config != config.find:
        finder = finder.with_config(config.find)   # reuses its loaded models
    needs_embedder = config.like.enabled or (config.track_identity and source.is_video)
    if embedder is None and needs_embedder:
        embedder = FaceEmbedder()
    references = (reference_embeddings(config.like.references, finder, embedder)
                  if config.like.enabled else None)
    report = ExtractReport(alignments_path=alignments_path, like_filtered=config.like.enabled)
    started = time.perf_counter()
    window = sampled_window(config.smooth.window_frames, config.every_n)
    smoother = RunningSmoother(window if source.is_video else 0)
    steps = _Steps(finder, embedder if needs_embedder else None, smoother, config, report)
    write_now = config.write_faces and references is None
    with _FaceWriter(output, config, source.is_video, report, enabled=write_now) as writer:
        found = _find_and_write(frames, source, steps, writer)
    report.skipped = list(source.skipped)
    if not report.frames_read:
        raise DataError(f"input '{source.path}' gave no readable frames: "
                        + "; ".join(f"{name}: {why}" for name, why in source.skipped))
    if references is not None:
        _keep_like(found, references, config.like.max_distance)
    alignments = _alignments(found)
    report.faces_kept = alignments.face_count
    if config.write_faces and not write_now and report.faces_kept:
        _write_faces_again(input_path, alignments, source.is_video, output, config, report)
    report.seconds = time.perf_counter() - started
    if source.is_video and source.fps:
        alignments.video = VideoInfo(source.frame_count or report.frames_read, source.fps)
    write_alignments(report.alignments_path, alignments)
    return report


def check_outputs(input_path: Path, output: Path, alignments: Path) -> None:
    """Refuse outputs that cannot be written (or would overwrite the input) before the run, not
    after an hour of video: --output must be a folder, --alignments a file in a writable one."""
    if output.resolve() == input_path.resolve():
        raise DataError(f"--output '{output}' is the input folder: faces written there could "
                        "overwrite its frames; choose another folder")
    if output.exists() and not output.is_dir():
        raise DataError(f"--output '{output}' exists and is not a folder: give a folder for "
                        "the aligned faces")
    if alignments.resolve() == input_path.resolve():
        raise DataError(f"--alignments '{alignments}' is the input: choose another path")
    if alignments.is_dir():
        raise DataError(f"--alignments '{alignments}' is a folder: expected a .json file path")
    folder = alignments.parent
    if folder.resolve() != output.resolve() and not folder.is_dir():
        raise DataError(f"--alignments '{alignments}': its folder '{folder}' does not exist")
    existing = folder
    while not existing.exists() and existing != existing.parent:   # the run makes --output
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise DataError(f"--alignments '{alignments}' cannot be written: '{existing}' is not a "
                        "writable folder")


def sampled_window(window_frames: int, every_n: int) -> int:
    """The smoothing window in extracted frames: the same span of video as `window_frames`
    source frames, odd; 0 (off) when that leaves too few to smooth. With --every-n 5 a 9-frame
    window spans one sample, so a training set cut from a video is not smoothed: its faces are
    far apart in time and averaging them would blur real expressions."""
    window = window_frames // every_n
    window -= 1 - window % 2
    return window if window > POLY_ORDER + 1 else 0


@dataclass
class _Steps:
    """What is done to each frame: find, track (and embed), smooth; and the report to fill."""

    finder: FaceFinder
    embedder: FaceEmbedder | None
    smoother: RunningSmoother
    config: ExtractConfig
    report: ExtractReport


def _find_and_write(frames, source: FrameSource, steps: _Steps,
                    writer: "_FaceWriter") -> list[_FrameFaces]:
    """Every frame's faces, linked into tracks (video), embedded where needed and smoothed; each
    frame is handed to `writer` (with its pixels) once all its faces are final."""
    config, report = steps.config, steps.report
    track = config.track
    if config.like.enabled and track.embed_every > LIKE_EMBED_EVERY:
        track = replace(track, embed_every=LIKE_EMBED_EVERY)
    tracker = Tracker(track, link_frames=source.is_video)
    result: list[_FrameFaces] = []
    waiting: deque[tuple[_FrameFaces, np.ndarray]] = deque()   # frames with faces not final
    open_faces: dict[tuple[int, int], _Face] = {}   # (segment, index in it) → face not final
    segment_lengths: dict[int, int] = defaultdict(int)
    what = "find" if config.like.enabled else "extract"
    for sequence, frame in enumerate(_progress(frames, source, config, what)):
        frame_faces = _find_frame(frame, sequence, tracker, steps)
        points = []
        for face in frame_faces.faces:
            segment = face.link.segment
            open_faces[(segment, segment_lengths[segment])] = face
            segment_lengths[segment] += 1
            points.append((segment, face.found.landmarks))
        _settle(steps.smoother.add(points), open_faces)
        result.append(frame_faces)
        if frame_faces.faces:   # a frame without faces has nothing to write: keep no pixels
            waiting.append((frame_faces, frame.image))
        while waiting and waiting[0][0].final:
            writer.write(*waiting.popleft())
    _settle(steps.smoother.close(), open_faces)
    while waiting:
        writer.write(*waiting.popleft())
    if source.is_video:
        report.tracks = len({face.link.track_id for frame in result for face in frame.faces})
        report.cuts = len(tracker.cuts)
    return result


def _find_frame(frame, sequence: int, tracker: Tracker, steps: _Steps) -> _FrameFaces:
    """One frame's faces with their track links; counts them in the report."""
    faces = steps.finder.find(frame.image, tracker.boxes_to_search(sequence, frame.image),
                              tracker.scan_whole(sequence))
    embed = None
    if steps.embedder is not None:
        def embed(landmarks, image=frame.image, embedder=steps.embedder):
            return embedder.embed(image, landmarks)
    links = tracker.update(sequence, frame.image, faces, embed)
    steps.report.frames_read += 1
    steps.report.faces_found += len(faces)
    if not faces:
        steps.report.frames_without_face.append(frame.name)
    return _FrameFaces(frame.name, [_Face(face, link, face.landmarks)
                                    for face, link in zip(faces, links)])


def _settle(final: list[tuple[int, int, np.ndarray]],
            open_faces: dict[tuple[int, int], _Face]) -> None:
    """Give each face that became final its smoothed landmarks."""
    for segment, index, points in final:
        face = open_faces.pop((segment, index))
        face.landmarks, face.final = points, True


def _keep_like(found: list[_FrameFaces], references: np.ndarray, max_distance: float) -> None:
    """Drop every track whose median distance to the reference faces is above `max_distance`."""
    embeddings: dict[int, list[np.ndarray]] = defaultdict(list)
    for frame in found:
        for face in frame.faces:
            if face.link.embedding is not None:
                embeddings[face.link.track_id].append(face.link.embedding)
    keep = {track for track, values in embeddings.items()
            if float(np.median(distances(np.stack(values), references))) <= max_distance}
    for frame in found:
        frame.faces = [face for face in frame.faces if face.link.track_id in keep]


def _alignments(found: list[_FrameFaces]) -> Alignments:
    alignments = Alignments()
    for frame in found:
        faces = []
        for index, face in enumerate(frame.faces):   # re-indexed after any dropped faces
            faces.append(to_aligned_face(frame.name, index, face.found, face.landmarks,
                                         face.link.track_id))
        alignments.add_frame(frame.name, faces)
    return alignments


class _FaceWriter:
    """Writes frames' faces as PNGs; warping and PNG encoding (OpenCV, which releases the GIL)
    run in `config.write_threads` threads beside the finding, so on two cores the ~8 ms of PNG
    encoding per face leaves the frame time. At most two faces per thread wait, so memory stays
    bounded whatever the video's length; a failed write raises on the next frame."""

    def __init__(self, output: Path, config: ExtractConfig, is_video: bool,
                 report: ExtractReport, enabled: bool = True) -> None:
        self.output, self.config, self.is_video, self.report = output, config, is_video, report
        self.enabled = enabled
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future] = deque()

    def __enter__(self) -> "_FaceWriter":
        if self.enabled:
            self._pool = ThreadPoolExecutor(self.config.write_threads,
                                            thread_name_prefix="extract-write")
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is None:
            return
        try:
            if exc_info[0] is None:
                while self._pending:
                    self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def write(self, frame_faces: _FrameFaces, image: np.ndarray) -> None:
        if self._pool is None:
            return
        faces = [to_aligned_face(frame_faces.name, index, face.found, face.landmarks,
                                 face.link.track_id)
                 for index, face in enumerate(frame_faces.faces)]
        self.write_aligned(frame_faces.name, image, faces)

    def write_aligned(self, frame_name: str, image: np.ndarray,
                      faces: list[AlignedFace]) -> None:
        stem = Path(frame_name).stem
        for face in faces:
            path = self.output / f"{stem}_{face.face_index}.png"
            self._pending.append(self._pool.submit(_write_face, path, image, face,
                                                   self.config.size_px, self.is_video))
            self.report.face_files.append(path)
        while len(self._pending) > 2 * self.config.write_threads:
            self._pending.popleft().result()   # raises a failed write's DataError here


def _write_face(path: Path, frame: np.ndarray, face: AlignedFace, size_px: int,
                is_video: bool) -> None:
    write_bytes_atomic(path, aligned_face_png(frame, face, size_px, is_video))


def _write_faces_again(input_path: str | Path, alignments: Alignments, is_video: bool,
                       output: Path, config: ExtractConfig, report: ExtractReport) -> None:
    """Pass 2 (--only-like): decode the frames again and write each kept face's PNG."""
    source, frames = open_frames(input_path, config.every_n)
    with _FaceWriter(output, config, is_video, report) as writer:
        for frame in _progress(frames, source, config, "write"):
            writer.write_aligned(frame.name, frame.image, alignments.frames.get(frame.name, []))


def _progress(frames, source: FrameSource, config: ExtractConfig, what: str):
    if not config.progress:
        return frames
    from tqdm import tqdm
    total = -(-source.frame_count // config.every_n) if source.frame_count else None
    return tqdm(frames, total=total, unit="frame", desc=f"extract: {what}")
