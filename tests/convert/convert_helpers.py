"""Shared test fixtures for convert: a box geometry, a synthetic video, known landmarks."""
from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import torch

from phaze.faces.aligned import AlignedFace
from phaze.formats.alignments_json import Alignments, VideoInfo
from phaze.formats.alignments_json import write_alignments as write_alignments_file
from phaze.model.side_output import SideOutput

FACE_PX = 40     # side of the face drawn into each frame
FRAME_HW = (72, 96)


class BoxGeometry:
    """Test stand-in for phaze.faces: crops the landmarks' bounding box, padded by 25 %."""

    def crop_matrix(self, landmarks, size_px, framing):
        lo, hi = landmarks.min(0), landmarks.max(0)
        side = float((hi - lo).max()) * 1.5
        scale = size_px / side
        centre = (lo + hi) / 2
        return np.array([[scale, 0, size_px / 2 - scale * centre[0]],
                         [0, scale, size_px / 2 - scale * centre[1]]], np.float64)

    def landmark_mask(self, landmarks, matrix, size_px, kind):
        points = landmarks @ matrix[:, :2].T + matrix[:, 2]
        mask = np.zeros((size_px, size_px), np.float32)
        cv2.fillConvexPoly(mask, cv2.convexHull(points.astype(np.int32)), 1.0)
        return mask


def landmarks_at(x: int, y: int) -> np.ndarray:
    """68 points on an ellipse inside the FACE_PX square with top-left (x, y)."""
    angles = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    r = FACE_PX * 0.4
    return np.stack([x + FACE_PX / 2 + r * np.cos(angles),
                     y + FACE_PX / 2 + r * np.sin(angles)], 1).astype(np.float32)


def textured_frame(index: int) -> np.ndarray:
    rng = np.random.default_rng(index)
    frame = rng.integers(0, 256, (*FRAME_HW, 3), dtype=np.uint8)
    return cv2.GaussianBlur(frame, (3, 3), 0)


def face_position(index: int) -> tuple[int, int]:
    return 10 + 4 * index, 12 + 2 * index


def make_frames(count: int) -> list[np.ndarray]:
    frames = []
    for index in range(count):
        frame = textured_frame(index)
        x, y = face_position(index)
        cv2.ellipse(frame, (x + FACE_PX // 2, y + FACE_PX // 2), (16, 18), 0, 0, 360,
                    (200, 160, 140), -1)
        frames.append(frame)
    return frames


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10, audio: bool = True,
                truncate: bool = False) -> None:
    """A lossless-ish H.264 clip (crf 0, yuv444p) with, optionally, an AAC tone."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps, options={"crf": "0"})
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv444p"
        sound = None
        if audio:  # every stream must exist before the first packet is muxed
            sound = container.add_stream("aac", rate=16000)
            sound.layout = "mono"
        for index, frame in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = index
            for packet in video.encode(vf):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            samples = 0
            while samples < len(frames) * 16000 // fps:
                tone = np.sin(np.arange(samples, samples + 1024) * 0.05)[None] * 0.3
                af = av.AudioFrame.from_ndarray(tone.astype(np.float32), format="fltp",
                                                layout="mono")
                af.sample_rate, af.pts = 16000, samples
                samples += 1024
                for packet in sound.encode(af):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)


def write_alignments(path: Path, faces: dict[str, list[np.ndarray]],
                     frame_count: int | None = None, fps: float | None = None) -> Path:
    """Alignments in extract's format (phaze.formats.alignments_json) with the given landmarks."""
    alignments = Alignments(video=VideoInfo(frame_count, fps) if frame_count is not None else None)
    for name, lms in faces.items():
        alignments.add_frame(name, [AlignedFace(name, index, 0, 0, 1, 1, np.asarray(lm, float), 1.0)
                                    for index, lm in enumerate(lms)])
    return write_alignments_file(path, alignments)


def invert_predict(output_px: int):
    """A 'model' whose decoder is a known function: the inverted face, resized."""
    def predict(batch: torch.Tensor) -> SideOutput:
        out = torch.nn.functional.interpolate(1.0 - batch, size=(output_px,) * 2, mode="area")
        return SideOutput(out)
    return predict
