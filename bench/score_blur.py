"""How the score reads swaps that are only blurs of the target: a sharp swap against blurred.

    python bench/score_blur.py

Source A: the astronaut photo's face and its mirror; target B: two lfw_subset faces; three other
lfw_subset people as distractors (all from scikit-image, nothing downloaded). The "swaps" are
B's own faces blurred by a Gaussian of σ px (at 160 px), so a perfect identity with less and
less detail. Prints, per σ, the two-way share, retrieval top-1, margin, target distance,
sharpness and the verdict.
"""
from __future__ import annotations

import cv2
import numpy as np
import skimage.data

from phaze.score.recognizer import FaceRecognizer
from phaze.score.run import score_direction

SIZE_PX = 160
SIGMAS_PX = (0, 1, 2, 3, 4, 6)


def lfw_faces(indices: list[int]) -> np.ndarray:
    grey = (skimage.data.lfw_subset()[indices] * 255).astype(np.uint8)
    return np.stack([cv2.resize(np.stack([g] * 3, -1), (SIZE_PX, SIZE_PX),
                                interpolation=cv2.INTER_CUBIC) for g in grey])


def main() -> None:
    face = cv2.resize(skimage.data.astronaut()[46:196, 145:295], (SIZE_PX, SIZE_PX),
                      interpolation=cv2.INTER_CUBIC)
    sources, targets = np.stack([face, face[:, ::-1]]), lfw_faces([0, 10])
    distractors = [lfw_faces([index]) for index in (1, 2, 3)]
    recognizer = FaceRecognizer()
    print("| blur σ px | two-way share | retrieval top-1 | margin | target distance | "
          "sharpness | verdict |\n|---|---|---|---|---|---|---|")
    for sigma in SIGMAS_PX:
        swaps = targets if sigma == 0 else np.stack(
            [cv2.GaussianBlur(f, (0, 0), sigma) for f in targets])
        s = score_direction(sources, targets, swaps, recognizer, distractors)
        print(f"| {sigma} | {s.identity_share} | {s.retrieval_top1} | {s.retrieval_margin:.3f} | "
              f"{s.target_distance:.3f} | {s.sharpness_ratio:.3f} | {s.verdict} |")


if __name__ == "__main__":
    main()
