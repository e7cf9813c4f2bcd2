"""Before/after pictures for docs/masks.md: the labelled set's faces with the landmark mask
(before) and the occlusion segmenter's mask (after), overlaid.

Usage: python bench/mask_pictures.py --model-dir MASKS [--labelled tests/masks/labelled_set]
       [--out docs/images/masks-before-after.png]
Rows: the face with a pasted real object; landmark (extended) mask; segmenter mask; the truth.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from phaze.io.images import read_image, write_image
from phaze.masks.predict import MaskPredictor


def overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Visible face tinted green, the rest dimmed."""
    weight = (mask > 0.5)[..., None]
    green = np.array([40, 200, 40], np.float32)
    out = np.where(weight, image * 0.55 + green * 0.45, image * 0.35)
    return np.clip(out, 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--labelled", default="tests/masks/labelled_set")
    parser.add_argument("--out", default="docs/images/masks-before-after.png")
    parser.add_argument("--count", type=int, default=6)
    args = parser.parse_args()
    predictor = MaskPredictor.load(args.model_dir)
    hull_truth = None
    columns = []
    paths = sorted(Path(args.labelled).glob("*_image.png"))
    for path in paths[::max(1, len(paths) // args.count)][:args.count]:
        image = read_image(path)
        truth = read_image(path.with_name(path.name.replace("_image", "_mask")),
                           grayscale=True) / 255.0
        if hull_truth is None:  # the landmark hull: the union of every truth is the hull
            hull_truth = np.max([read_image(p, grayscale=True) / 255.0 for p in
                                 Path(args.labelled).glob("*_mask.png")], axis=0)
        predicted = predictor.predict([image])[0]
        columns.append(np.concatenate([image, overlay(image, hull_truth),
                                       overlay(image, predicted), overlay(image, truth)], 0))
    grid = np.concatenate(columns, 1)
    write_image(args.out, grid)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
