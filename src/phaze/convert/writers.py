"""Where converted frames go: image files or one video, chosen by name from a registry.

Every writer leaves only complete files: an image is written to a temporary name in the same
folder and renamed; a video is written to a temporary file that is renamed only by `close()`
after the last frame, and deleted by `abort()`, so an interrupted convert leaves no corrupt video.
"""
from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from phaze.convert import WRITERS
from phaze.errors import ConfigError, DataError
from phaze.io.images import write_bytes_atomic, write_failure

logger = logging.getLogger(__name__)


class FrameWriter(Protocol):
    def write(self, name: str, frame: np.ndarray) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


def _atomic_image(path: Path, frame: np.ndarray, params: list[int]) -> None:
    ok, encoded = cv2.imencode(path.suffix, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise DataError(f"could not encode '{path}'")
    # the shared atomic writer: numpy's tofile hid a full disk behind "N requested, 0 written"
    write_bytes_atomic(path, encoded.tobytes())


class ImageWriter:
    """One image file per frame in a folder: <frame stem>.<suffix>."""

    def __init__(self, output: Path, suffix: str, params: list[int]) -> None:
        self.folder, self.suffix, self.params = Path(output), suffix, params
        if self.folder.exists() and not self.folder.is_dir():
            raise DataError(f"output '{self.folder}' exists and is not a folder")
        self.folder.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, frame: np.ndarray) -> None:
        _atomic_image(self.folder / f"{Path(name).stem}{self.suffix}", frame, self.params)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass  # every finished frame is complete; a re-run overwrites them


VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")


class VideoWriter:
    """H.264 (libx264, yuv420p) in MP4/MOV/MKV at the source's fps, the source's audio copied.

    Frames are stamped 0, 1, 2, ... in a time base of 1/fps held by the writer. The stream's
    own time base is left to the muxer, which replaces it when it writes the header (mp4 picks
    e.g. 1/12800): stamping frames in the stream's time base would then give x264 colliding
    timestamps after its look-ahead, and the muxer refuses the packet (EINVAL).
    """

    def __init__(self, output: Path, fps: float | Fraction, audio_source: Path | None = None,
                 crf: int = 23, preset: str = "medium") -> None:
        import av  # heavy; only a video convert needs it

        self.path = Path(output)
        if self.path.suffix.lower() not in VIDEO_SUFFIXES:
            raise ConfigError(f"video output '{self.path}' is invalid: expected a "
                              + ", ".join(VIDEO_SUFFIXES) + " file name")
        self.temp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self.fps = Fraction(fps).limit_denominator(1001 * 1000)
        self.frame_time_base = 1 / self.fps
        self.options = {"crf": str(crf), "preset": preset}
        self.audio_source = audio_source
        self.audio_in = self.audio_out = None
        self.stream = None
        self.padding = (0, 0)   # (bottom, right) rows/columns added to reach even sizes
        self.count = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.container = av.open(str(self.temp), mode="w")
        except (av.FFmpegError, OSError) as error:
            _remove(self.temp)
            raise DataError(write_failure(self.path, error)) from None

    def _open_stream(self, frame: np.ndarray) -> None:
        height, width = frame.shape[:2]
        # yuv420p halves the chroma planes, so H.264 needs even sizes: one edge row/column is
        # repeated rather than a row of the picture dropped.
        self.padding = (height % 2, width % 2)
        if any(self.padding):
            logger.warning("frames of %dx%d are padded to %dx%d for H.264 video '%s' (it "
                           "needs even sizes)", width, height, width + self.padding[1],
                           height + self.padding[0], self.path)
        self.stream = self.container.add_stream("libx264", rate=self.fps, options=self.options)
        self.stream.width = width + self.padding[1]
        self.stream.height = height + self.padding[0]
        self.stream.pix_fmt = "yuv420p"
        self.stream.codec_context.time_base = self.frame_time_base
        self.audio_in, self.audio_out = self._open_audio()

    def _open_audio(self):
        if self.audio_source is None:
            return None, None
        import av

        source = av.open(str(self.audio_source))
        if not source.streams.audio:
            source.close()
            return None, None
        try:
            out = self.container.add_stream_from_template(source.streams.audio[0])
        except (ValueError, av.FFmpegError) as error:
            logger.warning("audio of '%s' cannot be copied into '%s' (%s); writing video only",
                           self.audio_source, self.path, error)
            source.close()
            return None, None
        return source, out

    def _padded(self, frame: np.ndarray) -> np.ndarray:
        bottom, right = self.padding
        if bottom or right:
            frame = np.pad(frame, ((0, bottom), (0, right), (0, 0)), mode="edge")
        return np.ascontiguousarray(frame)

    def write(self, name: str, frame: np.ndarray) -> None:
        import av

        try:
            self._write(frame)
        except (av.FFmpegError, OSError, ValueError) as error:
            # PyAV's errors with an errno (a full disk) are OSErrors; an encoder that will not
            # open is an FFmpegError: either way one line naming the file, and no partial file
            self.abort()
            raise DataError(write_failure(self.path, error)) from None

    def _write(self, frame: np.ndarray) -> None:
        import av

        if self.stream is None:
            self._open_stream(frame)
        video_frame = av.VideoFrame.from_ndarray(self._padded(frame), format="rgb24")
        video_frame.pts = self.count
        video_frame.time_base = self.frame_time_base
        for packet in self.stream.encode(video_frame):
            self.container.mux(packet)
        self.count += 1

    def _copy_audio(self) -> None:
        for packet in self.audio_in.demux(self.audio_in.streams.audio[0]):
            if packet.dts is None:  # the demuxer's final flush packet
                continue
            packet.stream = self.audio_out
            self.container.mux(packet)

    def close(self) -> None:
        """Flush the encoder, copy the audio and rename the finished file into place."""
        import av

        if self.count == 0:
            self.abort()
            raise DataError(f"no frames were written to '{self.path}'")
        try:
            self._flush()
        except (av.FFmpegError, OSError, ValueError) as error:
            # x264 holds frames back: a full disk often shows only here
            self.abort()
            raise DataError(write_failure(self.path, error)) from None
        os.replace(self.temp, self.path)

    def _flush(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        if self.audio_in is not None:
            self._copy_audio()
        self._close_audio()
        self.container.close()

    def _close_audio(self) -> None:
        if self.audio_in is not None:
            self.audio_in.close()
            self.audio_in = None   # abort may run twice: on the failed write, then in convert

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # noqa: BLE001 - the half-written file is deleted either way
            pass
        self._close_audio()
        _remove(self.temp)


def _remove(path: Path) -> None:
    """Delete a partial file if there is one; a path that cannot exist needs no cleaning."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def write_preview(path: Path, image: np.ndarray) -> None:
    """One still (a .png or .jpg file), written atomically."""
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise ConfigError(f"preview output '{path}' is invalid: expected a .png or .jpg file")
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_image(path, image, [])


DEFAULT_WRITER = "png"


def create_writer(name: str, output: str | Path, fps: float | None = None,
                  audio_source: Path | None = None, jpg_quality: int = 95) -> FrameWriter:
    """A writer by name: 'png' / 'jpg' (a folder of frames) or 'video' (one file)."""
    WRITERS.check(name)
    if name == "png":
        return ImageWriter(Path(output), ".png", [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if name == "jpg":
        return ImageWriter(Path(output), ".jpg", [cv2.IMWRITE_JPEG_QUALITY, jpg_quality])
    if not fps or fps <= 0:
        raise ConfigError(f"video output needs a frame rate > 0, got {fps!r}; "
                          "give --fps for a folder of frames")
    return VideoWriter(Path(output), fps, audio_source)
