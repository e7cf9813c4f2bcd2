"""Convert throughput: frames/s for a 640×360 H.264 video with one face per frame, on CPU.

Builds a Phaze-A model from a preset (random weights: speed does not depend on training),
writes a synthetic clip with a face-like ellipse that moves, writes alignments, then times the
whole `convert` (decode → crop → model → mask → colour → paste → H.264 encode).
A second run with the model replaced by an identity function shows the cost outside the model.

    PYTHONPATH=src .venv/bin/python bench/convert_speed.py --frames 60 --preset original

The crop uses the real face-geometry core (`phaze.faces`: Umeyama + solvePnP per face), as
`phaze convert` does. This is a script, never a test.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np
import torch

from phaze.storage.checkpoint import TrainingState, save_checkpoint, write_marker
from phaze.config.presets import resolve_options
from phaze.convert.geometry import default_geometry
from phaze.convert.pipeline import ConvertOptions, FaceConverter
from phaze.faces.aligned import AlignedFace
from phaze.faces.framing import Framing
from phaze.formats.alignments_json import Alignments, VideoInfo, write_alignments
from phaze.convert.run import ConvertJob, build_converter, convert
from phaze.model.phaze_a import build_model

WIDTH, HEIGHT, FACE_PX = 640, 360, 140


def make_clip(folder: Path, frames: int, fps: int = 25) -> tuple[Path, Path]:
    video, alignments = folder / "clip.mp4", Alignments(video=VideoInfo(frames, fps))
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8), (5, 5), 0)
    angles = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index in range(frames):
            frame = background.copy()
            cx, cy = 200 + 3 * index % 240, 180
            cv2.ellipse(frame, (cx, cy), (55, 68), 0, 0, 360, (200, 160, 140), -1)
            name = f"clip_{index + 1:06d}.png"
            landmarks = np.stack([cx + 55 * np.cos(angles), cy + 68 * np.sin(angles)], 1)
            alignments.add_frame(name, [AlignedFace(name, 0, cx - 55, cy - 68, 110, 136,
                                                    landmarks)])
            av_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            av_frame.pts = index
            for packet in stream.encode(av_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return video, write_alignments(folder / "clip.json", alignments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--preset", default="original")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        options = resolve_options(args.preset, overrides={"enc_load_weights": False})
        write_marker(folder / "model", options)
        save_checkpoint(folder / "model", build_model(options).state_dict(), TrainingState())
        video, alignments = make_clip(folder, args.frames)
        job = ConvertJob(folder / "model", video, alignments, folder / "out.mp4", device="cpu")
        settings = ConvertOptions(batch_size=args.batch_size)
        converter = build_converter(job, settings, default_geometry())
        identity = FaceConverter(lambda batch: [batch], converter.input_px, converter.input_px,
                                 Framing(), default_geometry(), settings, learns_mask=False)
        for name, chosen in (("model", converter), ("identity", identity)):
            start = time.perf_counter()
            report = convert(job, settings, converter=chosen)
            seconds = time.perf_counter() - start
            print(f"{args.preset:>10} {name:>8}: {report.frames} frames {WIDTH}x{HEIGHT} in "
                  f"{seconds:.2f} s = {report.frames / seconds:.1f} frames/s "
                  f"(input {converter.input_px} px, output {converter.output_px} px, "
                  f"threads {args.threads}, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
