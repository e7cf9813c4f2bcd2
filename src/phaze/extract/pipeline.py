"""`extract_faces`: frames in, aligned face PNGs and a JSON alignments file out."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from phaze.errors import ConfigError, DataError
from phaze.extract.face_png import aligned_face_png, to_aligned_face
from phaze.extract.find import FaceFinder, FindConfig
from phaze.formats.alignments_json import Alignments, VideoInfo, write_alignments
from phaze.io.images import write_bytes_atomic
from phaze.io.video import Frame, FrameSource, open_frames

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

    def __post_init__(self) -> None:
        if not SIZE_MIN <= self.size_px <= SIZE_MAX or self.size_px % SIZE_STEP:
            raise ConfigError(f"size {self.size_px} is invalid: expected a multiple of "
                              f"{SIZE_STEP} in {SIZE_MIN}..{SIZE_MAX} px")
        if self.every_n < 1:
            raise ConfigError(f"every-n {self.every_n} is invalid: expected an integer >= 1")


@dataclass
class ExtractReport:
    frames_read: int = 0
    faces_found: int = 0
    frames_without_face: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (name, why)
    face_files: list[Path] = field(default_factory=list)
    alignments_path: Path | None = None
    seconds: float = 0.0

    @property
    def frames_per_sec(self) -> float:
        return self.frames_read / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        lines = [f"frames read: {self.frames_read}, faces found: {self.faces_found}, "
                 f"frames without a face: {len(self.frames_without_face)} "
                 f"({self.frames_per_sec:.1f} frames/s)",
                 f"alignments: {self.alignments_path}"]
        if self.frames_without_face:
            shown = self.frames_without_face[:SUMMARY_NAMES]
            more = len(self.frames_without_face) - len(shown)
            lines.append("no face in: " + ", ".join(shown) + (f" and {more} more" if more else ""))
        lines += [f"skipped {name}: {why}" for name, why in self.skipped]
        return "\n".join(lines)


def extract_faces(input_path: str | Path, output: str | Path,
                  config: ExtractConfig = ExtractConfig(),
                  finder: FaceFinder | None = None) -> ExtractReport:
    """Find every face in a video or image folder; write its aligned PNG and the alignments.

    `finder` lets a caller that extracts several inputs load the models once.

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
    report = ExtractReport(alignments_path=alignments_path)
    started, alignments = time.perf_counter(), Alignments()
    for frame in _progress(frames, source, config):
        alignments.add_frame(frame.name,
                             _extract_frame(frame, finder, source, output, config, report))
    report.seconds = time.perf_counter() - started
    report.skipped = list(source.skipped)
    if not report.frames_read:
        raise DataError(f"input '{source.path}' gave no readable frames: "
                        + "; ".join(f"{name}: {why}" for name, why in source.skipped))
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


def _extract_frame(frame: Frame, finder: FaceFinder, source: FrameSource, output: Path,
                   config: ExtractConfig, report: ExtractReport) -> list:
    """The frame's faces as AlignedFace (frame px), their PNGs written when asked for."""
    faces = [to_aligned_face(frame.name, index, found)
             for index, found in enumerate(finder.find(frame.image))]
    report.frames_read += 1
    report.faces_found += len(faces)
    if not faces:
        report.frames_without_face.append(frame.name)
    stem = Path(frame.name).stem
    for face in faces if config.write_faces else ():
        path = output / f"{stem}_{face.face_index}.png"
        write_bytes_atomic(path, aligned_face_png(frame.image, face, config.size_px,
                                                  source.is_video))
        report.face_files.append(path)
    return faces


def _progress(frames, source: FrameSource, config: ExtractConfig):
    if not config.progress:
        return frames
    from tqdm import tqdm
    total = -(-source.frame_count // config.every_n) if source.frame_count else None
    return tqdm(frames, total=total, unit="frame", desc="extract")
