"""Frame sources for convert: a folder of images or a video, read one frame at a time."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from phaze.errors import DataError
from phaze.io.image_header import check_area
from phaze.io.images import decode_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")


def video_frame_name(video: Path, index: int) -> str:
    """The name extract gives frame `index` (0-based) of `video` in the alignments.

    faceswap's naming, as `phaze.io.video` writes it: '<stem>_<1-based number, 6 digits>.png'.
    """
    return f"{video.stem}_{index + 1:06d}.png"


@dataclass
class FrameSource:
    path: Path
    is_video: bool
    names: list[str]                     # in reading order (video: the frames expected)
    fps: Fraction | None = None
    container_frames: int = 0            # the video container's own count; 0 when unknown

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[tuple[str, np.ndarray]]:
        return self._video() if self.is_video else self._images()

    def _images(self) -> Iterator[tuple[str, np.ndarray]]:
        for name in self.names:
            path = self.path / name
            image = decode_image(path)
            if image is None:
                raise DataError(f"frame '{path}' cannot be read as an image")
            yield name, image

    def _video(self) -> Iterator[tuple[str, np.ndarray]]:
        import av

        index = 0
        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                # Every decoded frame is yielded, even past the expected count, so no frame
                # of the source is ever dropped from the output.
                for frame in container.decode(stream):
                    yield video_frame_name(self.path, index), frame.to_ndarray(format="rgb24")
                    index += 1
        except av.FFmpegError as error:
            raise DataError(f"video '{self.path}' cannot be decoded after frame {index}: "
                            f"{error}") from None
        # A count estimated from the duration (no container count) may be one frame high.
        slack = 0 if self.container_frames else 1
        if index < len(self.names) - slack:
            raise DataError(f"video '{self.path}' ends after {index} frames but should have "
                            f"{len(self.names)}: it is truncated or damaged")


def open_frames(path: str | Path, expected_video_frames: int | None = None) -> FrameSource:
    """A folder of images (sorted by name) or a video file."""
    path = Path(path)
    if path.is_dir():
        names = sorted(p.name for p in path.iterdir()
                       if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not names:
            raise DataError(f"input folder '{path}' holds no images ("
                            + ", ".join(IMAGE_SUFFIXES) + ")")
        return FrameSource(path, False, names)
    if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
        return _open_video(path, expected_video_frames)
    raise DataError(f"input '{path}' is neither a folder of images nor a video file ("
                    + ", ".join(VIDEO_SUFFIXES) + ")")


def _open_video(path: Path, expected: int | None) -> FrameSource:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DataError(f"video '{path}' has no video stream")
            stream = container.streams.video[0]
            check_area(stream.width, stream.height, f"{path} (its frames)")
            fps = stream.average_rate or stream.guessed_rate
            container_frames = stream.frames or 0
            count = container_frames or expected
            if not count:  # nobody says: count by demuxing (no decoding)
                count = sum(1 for p in container.demux(stream) if p.size)
    except av.FFmpegError as error:
        raise DataError(f"video '{path}' cannot be opened: {error}") from None
    return FrameSource(path, True, [video_frame_name(path, i) for i in range(count)],
                       Fraction(fps) if fps else None, container_frames)
