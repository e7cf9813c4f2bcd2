"""Occlusion segmenter: train on some people's faces, measure IoU on other people's faces.

Held-out faces get held-out occluders: shapes never drawn in training (blob, stick) filled with
scikit-image photos never used in training (training fills occluders with other faces and
procedural textures only). Also reports IoU without occluders and, with --labelled, on the
committed labelled set (tests/masks/labelled_set, made by bench/make_mask_labelled_set.py).

Usage (docs/masks.md): python bench/mask_iou.py --train DIR [DIR…] --held-out DIR [DIR…]
       --model-dir MASKS [--steps N] [--skip-train] [--labelled tests/masks/labelled_set]
       [--threads N]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from phaze.io.images import read_image
from phaze.masks.dataset import MaskFace, load_mask_faces
from phaze.masks.evaluate import evaluate_held_out, iou
from phaze.masks.network import SegmenterConfig
from phaze.masks.predict import MaskPredictor
from phaze.masks.training import MaskTrainConfig, train_segmenter

HELD_OUT_PHOTOS = ("coffee", "chelsea", "rocket", "hubble_deep_field", "colorwheel",
                   "immunohistochemistry")


def held_out_textures() -> list[np.ndarray]:
    import skimage.data

    return [np.ascontiguousarray(getattr(skimage.data, name)()[..., :3])
            for name in HELD_OUT_PHOTOS]


def labelled_iou(predictor: MaskPredictor, folder: Path) -> tuple[float, int]:
    """Mean IoU over <folder>/*_image.png against <folder>/*_mask.png."""
    scores = []
    for image_path in sorted(folder.glob("*_image.png")):
        truth = read_image(image_path.with_name(image_path.name.replace("_image", "_mask")),
                           grayscale=True).astype(np.float32) / 255.0
        scores.append(iou(predictor.predict([read_image(image_path)])[0], truth))
    return float(np.mean(scores)), len(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", nargs="+", required=True)
    parser.add_argument("--held-out", nargs="+", required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--labelled", default=None)
    parser.add_argument("--seed", type=int, default=0, help="MaskTrainConfig.seed")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (1 gives the same figures on every machine load)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    network = SegmenterConfig()
    if not args.skip_train:
        faces = load_mask_faces(args.train, network.size_px)
        start = time.perf_counter()
        train_segmenter(faces, args.model_dir, network,
                        MaskTrainConfig(steps=args.steps, batch_size=args.batch_size,
                                        seed=args.seed))
        seconds = time.perf_counter() - start
        print(f"trained {args.steps} steps × {args.batch_size} on {len(faces)} faces in "
              f"{seconds:.0f} s ({args.steps * args.batch_size / seconds:.1f} faces/s)")
    predictor = MaskPredictor.load(args.model_dir)
    held: list[MaskFace] = load_mask_faces(args.held_out, network.size_px)
    report = evaluate_held_out(predictor, held, held_out_textures())
    print(f"held-out faces with held-out occluders: IoU {report.mean_iou:.3f} on "
          f"{report.faces} faces (occluders cover {report.mean_coverage:.0%} of the face)")
    clean = float(np.mean([iou(p, f.target) for p, f in
                           zip(predictor.predict([f.image for f in held]), held)]))
    print(f"held-out faces without occluders: IoU {clean:.3f}")
    if args.labelled:
        score, count = labelled_iou(predictor, Path(args.labelled))
        print(f"labelled set {args.labelled}: IoU {score:.3f} on {count} faces")


if __name__ == "__main__":
    main()
