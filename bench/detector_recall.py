"""Recall of the detectors (dlib HOG vs CenterFace) on real clips and scikit-image photos.

Usage: PYTHONPATH=src python bench/detector_recall.py [--step 5] [--threshold 0.5]
- Real clips (../shared/realvideo, one person each): frames with a face found, every STEP-th
  frame, without rotation retries (each detector on its own), and extra (false) faces.
- The astronaut rotated in 15 degree steps (no retries): found, and found with all 68 landmarks
  within 5 % of the inter-ocular distance of the upright fit mapped through the rotation.
- The astronaut shrunk (small faces): the smallest scale still found.
- lfw_subset: 100 faces (25 px, upscaled 4x, padded) and 100 non-faces.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

CLIPS = Path(__file__).resolve().parents[1] / ".." / "shared" / "realvideo"


def landmark_error(found: np.ndarray, truth: np.ndarray) -> float:
    iod = np.linalg.norm(truth[36:42].mean(0) - truth[42:48].mean(0))
    return float(np.linalg.norm(found - truth, axis=1).mean() / iod)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--step", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="CenterFace score threshold (0..1); HOG keeps its 0.2")
    args = parser.parse_args()
    from skimage import data

    from phaze.extract.find import FaceFinder, FindConfig, map_points, rotation_matrix
    from phaze.io.video import open_frames

    finders = {"hog": FaceFinder(FindConfig(rotations=(), refeed=1)),
               "centerface": FaceFinder(FindConfig(detector="centerface", rotations=(),
                                                   refeed=1, threshold=args.threshold))}
    for clip in sorted(CLIPS.glob("*.mp4")):
        _, frames = open_frames(clip, args.step)
        counts, extra, total = dict.fromkeys(finders, 0), dict.fromkeys(finders, 0), 0
        for frame in frames:
            total += 1
            for name, finder in finders.items():
                faces = len(finder.find(frame.image))
                counts[name] += faces > 0
                extra[name] += max(faces - 1, 0)   # one person per clip: the rest are false
        print(f"{clip.name}: " + ", ".join(f"{n} {counts[n]}/{total} (extra faces {extra[n]})"
                                           for n in finders))

    astronaut = data.astronaut()
    truth = finders["hog"].find(astronaut)[0].landmarks
    found = {name: [] for name in finders}
    for degrees in range(0, 360, 15):
        matrix, size = rotation_matrix(astronaut.shape, degrees)
        image = cv2.warpAffine(astronaut, matrix, size)
        expected = map_points(matrix, truth)
        for name, finder in finders.items():
            errors = [landmark_error(face.landmarks, expected) for face in finder.find(image)]
            found[name].append((degrees, bool(errors), bool(errors) and min(errors) < 0.05))
    for name, rows in found.items():
        print(f"astronaut rotated 0..345 by 15 ({len(rows)}), {name}: found "
              f"{sum(r[1] for r in rows)}, landmarks within 5 % {sum(r[2] for r in rows)}; "
              f"missed at {[r[0] for r in rows if not r[2]]}")

    for name, finder in finders.items():
        smallest = None
        for scale in (1.0, 0.7, 0.5, 0.35, 0.25, 0.18, 0.13, 0.1):
            small = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            canvas = np.full((512, 512, 3), 120, np.uint8)
            canvas[:small.shape[0], :small.shape[1]] = small
            if finder.with_config(FindConfig(**{**finder.config.__dict__, "upsample": 0})
                                  ).find(canvas):
                smallest = scale
        print(f"astronaut shrunk on a 512 px frame, no upsampling, {name}: smallest scale "
              f"found {smallest} (face ~{int(88 * smallest)} px)")

    images = data.lfw_subset()
    for name, finder in finders.items():
        plain = finder.with_config(FindConfig(**{**finder.config.__dict__, "upsample": 0}))
        hits = []
        for image in images:
            grey = cv2.resize((image * 255).astype(np.uint8), None, fx=4, fy=4,
                              interpolation=cv2.INTER_CUBIC)
            grey = cv2.copyMakeBorder(grey, 30, 30, 30, 30, cv2.BORDER_REPLICATE)
            hits.append(bool(plain.find(np.repeat(grey[..., None], 3, axis=2))))
        print(f"lfw_subset, {name}: faces found {sum(hits[:100])}/100, non-faces taken for "
              f"faces {sum(hits[100:])}/100")


if __name__ == "__main__":
    main()
