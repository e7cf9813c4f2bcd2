"""Frames/s of `extract_faces` on CPU for a 640x360 video (the astronaut moving across frames).

Usage: PYTHONPATH=src python bench/extract_speed.py [--frames 40] [--detector hog]
Prints frames/s for decoding + detection + landmarks + 512 px face PNGs + alignments, and the
1-minute load average, since the figure depends on what else runs.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np


def make_video(path: Path, frames: int) -> Path:
    from skimage import data

    from phaze.io.video import write_test_video
    astronaut = data.astronaut()

    def frame(k: int) -> np.ndarray:
        angle = 15 * np.sin(k / 7)
        matrix = cv2.getRotationMatrix2D((223, 127), angle, 0.9)
        matrix[:, 2] += np.array([200 + 6 * k % 240, 170]) - [223, 127]
        return cv2.warpAffine(astronaut, matrix, (640, 360), borderValue=(90, 110, 90))

    return write_test_video(path, (frame(k) for k in range(frames)), fps=25)


def main() -> None:
    import torch
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--detector", default="hog")
    args = parser.parse_args()

    from phaze.extract.find import FaceFinder, FindConfig
    from phaze.extract.pipeline import ExtractConfig, extract_faces

    with tempfile.TemporaryDirectory() as folder:
        video = make_video(Path(folder) / "bench.mp4", args.frames)
        find = FindConfig(detector=args.detector)
        finder = FaceFinder(find)   # model loading is not part of the per-frame figure
        config = ExtractConfig(find=find)
        started = time.perf_counter()
        report = extract_faces(video, Path(folder) / "faces", config, finder=finder)
        elapsed = time.perf_counter() - started
    load = os.getloadavg()[0]
    print(f"detector={args.detector} frames={report.frames_read} faces={report.faces_found} "
          f"face_pngs={config.write_faces} {report.frames_read / elapsed:.1f} frames/s "
          f"(640x360, 1 thread, load average {load:.1f})")


if __name__ == "__main__":
    main()
