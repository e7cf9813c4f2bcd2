"""Frames of a video or of a folder of images, streamed one at a time.

Videos are read with PyAV: its wheels bundle FFmpeg (with libx264), so decoding and writing
H.264 need no system FFmpeg, and it exposes the container's fps, frame count and audio streams
(convert needs them to write a matching video and mux the sound back). Frames are decoded once,
in order, and dropped after use: memory stays at one frame whatever the video's length.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from phaze.errors import ConfigError, DataError
from phaze.io.image_header import check_area
from phaze.io.images import decode_image, is_image_path

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts",
                  ".wmv", ".flv")


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its 0-based position in the source, its name, its pixels."""

    index: int
    name: str              # file name the frame is known by (video: '<stem>_000001.png')
    image: np.ndarray      # (H, W, 3) uint8 RGB


@dataclass
class FrameSource:
    """What a reader knows about its source, plus the problems met while reading it."""

    path: Path
    is_video: bool
    fps: float | None = None
    frame_count: int | None = None          # frames in the source (video: from the container)
    has_audio: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (name, why)


def is_video_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def video_frame_name(video: Path, index: int) -> str:
    """faceswap's naming: '<video stem>_<1-based frame number, 6 digits>.png'."""
    return f"{video.stem}_{index + 1:06d}.png"


def open_frames(path: str | Path, every_n: int = 1) -> tuple[FrameSource, Iterator[Frame]]:
    """A video file or a folder of images → (its FrameSource, an iterator of every n-th frame).

    Problems (an unreadable image, a truncated video) are appended to `source.skipped` while
    iterating; the iterator stops cleanly instead of raising.
    """
    if every_n < 1:
        raise ConfigError(f"every-n {every_n} is invalid: expected an integer >= 1")
    path = Path(path)
    if path.is_dir():
        source = FrameSource(path, is_video=False)
        return source, _folder_frames(source, every_n)
    if not path.exists():
        raise DataError(f"input '{path}' does not exist: expected a folder of images or a video")
    if not is_video_path(path):
        raise DataError(f"input '{path}' is neither a folder nor a video: expected a folder "
                        "or one of " + ", ".join(VIDEO_SUFFIXES))
    source, container = _open_video(path)
    return source, _video_frames(source, container, every_n)


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and is_image_path(p))


def _folder_frames(source: FrameSource, every_n: int) -> Iterator[Frame]:
    images = list_images(source.path)
    if not images:
        raise DataError(f"folder '{source.path}' has no images: expected .png, .jpg, .jpeg "
                        "or .webp files")
    source.frame_count = len(images)
    return _decode_each(source, images[::every_n], every_n)


def _decode_each(source: FrameSource, images: list[Path], every_n: int) -> Iterator[Frame]:
    for position, path in enumerate(images):
        try:
            image = decode_image(path)
        except DataError as error:   # larger than the image-area budget: skipped, said why
            source.skipped.append((path.name, str(error)))
            continue
        if image is None:
            source.skipped.append((path.name, "not a readable image"))
            continue
        yield Frame(position * every_n, path.name, image)


def _open_video(path: Path):
    import av
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as error:
        raise DataError(f"video '{path}' cannot be opened: {error}") from None
    if not container.streams.video:
        container.close()
        raise DataError(f"video '{path}' has no video stream")
    stream = container.streams.video[0]
    try:
        check_area(stream.width, stream.height, f"{path} (its frames)")
    except DataError:
        container.close()
        raise
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else None
    count = stream.frames or None
    if count is None and container.duration and fps:
        # Some containers (mkv, webm) do not store a frame count; estimate it from the duration.
        count = int(round(container.duration / 1_000_000 * fps))
    source = FrameSource(path, is_video=True, fps=fps, frame_count=count,
                         has_audio=bool(container.streams.audio))
    return source, container


def _video_frames(source: FrameSource, container, every_n: int) -> Iterator[Frame]:
    import av
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"   # frame-parallel decoding; the order of frames is kept
    index = -1
    try:
        for decoded in container.decode(stream):
            index += 1
            if index % every_n:
                continue
            yield Frame(index, video_frame_name(source.path, index),
                        decoded.to_ndarray(format="rgb24"))
    except (av.FFmpegError, OSError) as error:
        source.skipped.append((source.path.name, f"decoding stopped after frame {index + 1}: "
                                                 f"{error}"))
    finally:
        container.close()
    read = index + 1
    if source.frame_count and read < source.frame_count and not source.skipped:
        source.skipped.append((source.path.name, f"video ended after {read} of "
                                                 f"{source.frame_count} frames (truncated?)"))


def write_test_video(path: str | Path, frames: Iterator[np.ndarray] | list[np.ndarray],
                     fps: int = 25, codec: str = "libx264") -> Path:
    """Write RGB uint8 frames as a video (used by tests and benchmarks to make inputs)."""
    import av
    path = Path(path)
    with av.open(str(path), mode="w") as container:
        stream = None
        for image in frames:
            if stream is None:
                stream = container.add_stream(codec, rate=Fraction(fps))
                stream.height, stream.width = image.shape[:2]
                stream.pix_fmt = "yuv420p"
                # Near-lossless so tests can compare landmarks on decoded frames.
                stream.options = {"crf": "12", "preset": "ultrafast"}
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    return path
