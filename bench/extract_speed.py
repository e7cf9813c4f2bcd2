"""Frames/s of `extract_faces` on CPU for a video of the astronaut moving across frames.

Usage: PYTHONPATH=src python bench/extract_speed.py [--frames 40] [--detector hog]
       [--width 480 --height 480] [--refeed 5] [--smooth 9] [--no-track-identity]
Prints frames/s of the whole extract: decoding + detection + landmarks (re-feed) + tracking
(with face-recognition embeddings every 50th frame of a track) + smoothing + 512 px face PNGs
(encoded in 2 threads beside the finding) + alignments; and the 1-minute load average, since
the figure depends on what else runs. CPU-ms per frame (all threads' CPU time) is what one
otherwise idle core would spend, much less disturbed by a busy machine than the wall clock;
main-thread CPU-ms per frame is the part that cannot overlap with the writing threads, so on
two idle cores the wall time per frame is about the larger of it and half the total.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np


def make_video(path: Path, frames: int, width: int, height: int) -> Path:
    from skimage import data

    from phaze.io.video import write_test_video
    astronaut = data.astronaut()

    def frame(k: int) -> np.ndarray:
        angle = 15 * np.sin(k / 7)
        matrix = cv2.getRotationMatrix2D((223, 127), angle, 0.9)
        centre = np.array([width / 2 - 60 + 3 * k % 120, height / 2])
        matrix[:, 2] += centre - [223, 127]
        return cv2.warpAffine(astronaut, matrix, (width, height), borderValue=(90, 110, 90))

    return write_test_video(path, (frame(k) for k in range(frames)), fps=25)


def main() -> None:
    import torch
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--detector", default="hog")
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--refeed", type=int, default=5)
    parser.add_argument("--smooth", type=int, default=9, help="window frames; 0 = off")
    parser.add_argument("--no-track-identity", action="store_true")
    args = parser.parse_args()

    from phaze.extract.find import FaceFinder, FindConfig
    from phaze.extract.identity import FaceEmbedder
    from phaze.extract.pipeline import ExtractConfig, extract_faces
    from phaze.faces.smoothing.centred import SmoothConfig

    with tempfile.TemporaryDirectory() as folder:
        video = make_video(Path(folder) / "bench.mp4", args.frames, args.width, args.height)
        find = FindConfig(detector=args.detector, refeed=args.refeed)
        # Model loading is not part of the per-frame figure.
        finder, embedder = FaceFinder(find), FaceEmbedder()
        config = ExtractConfig(find=find, smooth=SmoothConfig(args.smooth),
                               track_identity=not args.no_track_identity)
        started, cpu_started = time.perf_counter(), time.process_time()
        thread_started = time.thread_time()
        report = extract_faces(video, Path(folder) / "faces", config, finder=finder,
                               embedder=embedder)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        main_thread = time.thread_time() - thread_started
    load = os.getloadavg()[0]
    print(f"detector={args.detector} refeed={args.refeed} smooth={args.smooth} "
          f"track_identity={config.track_identity} frames={report.frames_read} "
          f"faces={report.faces_found} tracks={report.tracks} face_pngs={config.write_faces} "
          f"{report.frames_read / elapsed:.1f} frames/s wall, "
          f"{report.frames_read / cpu:.1f} frames per CPU-second, "
          f"{1000 * cpu / report.frames_read:.1f} CPU-ms/frame "
          f"(main thread {1000 * main_thread / report.frames_read:.1f}) "
          f"({args.width}x{args.height}, load average {load:.1f}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
