"""Landmark jitter and lag of `phaze extract` on real clips: plain fit vs re-feed vs smoothing.

Usage: PYTHONPATH=src python bench/landmark_jitter.py [CLIP ...] [--frames 120]
(default: every clip in ../shared/realvideo). Jitter, per frame: mean distance of the 68 points
from the average of the previous and next frame, over the inter-ocular distance (median and p90,
%, over the longest face track). Lag: frames the smoothed track trails the unsmoothed one on
the fastest 30 frames (0 = none; the filter is centred, so it should be 0).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

CLIPS = Path(__file__).resolve().parents[1] / ".." / "shared" / "realvideo"
VARIANTS = {"plain": (1, 0), "refeed5": (5, 0), "refeed9": (9, 0), "refeed5+smooth7": (5, 7),
            "refeed9+smooth7": (9, 7), "refeed5+smooth9": (5, 9)}


def longest_track(alignments_path: Path) -> np.ndarray:
    from phaze.formats.alignments_json import read_alignments
    tracks: dict[int, list[np.ndarray]] = {}
    for faces in read_alignments(alignments_path).frames.values():
        for face in faces:
            tracks.setdefault(face.track_id, []).append(face.landmarks)
    return np.stack(max(tracks.values(), key=len))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args()

    from phaze.extract.find import FaceFinder, FindConfig
    from phaze.extract.identity import FaceEmbedder
    from phaze.extract.pipeline import ExtractConfig, extract_faces
    from phaze.faces.smoothing.centred import SmoothConfig, lag_frames, landmark_jitter
    from phaze.io.video import open_frames, write_test_video

    finder, embedder = FaceFinder(FindConfig()), FaceEmbedder()
    for clip in args.clips or sorted(CLIPS.glob("*.mp4")):
        with tempfile.TemporaryDirectory() as folder:
            # The first N frames, re-encoded near-lossless, so every variant sees the same input.
            _, frames = open_frames(clip)
            short = write_test_video(Path(folder) / "clip.mp4",
                                     [f.image for _, f in zip(range(args.frames), frames)])
            tracks = {}
            for name, (refeed, window) in VARIANTS.items():
                config = ExtractConfig(find=FindConfig(refeed=refeed), write_faces=False,
                                       smooth=SmoothConfig(window))
                report = extract_faces(short, Path(folder) / name, config, finder, embedder)
                tracks[name] = longest_track(report.alignments_path)
        cells = []
        for name, points in tracks.items():
            jitter = 100 * landmark_jitter(points)
            cells.append(f"{name} {np.median(jitter):.2f}/{np.percentile(jitter, 90):.2f}")
        lag = lag_frames(tracks["refeed5"], tracks["refeed5+smooth9"])
        print(f"{clip.name}: track {len(tracks['plain'])} frames; jitter median/p90 % IOD: "
              + ", ".join(cells) + f"; lag of smooth9 (default) on the fastest turn: {lag} frames")


if __name__ == "__main__":
    main()
