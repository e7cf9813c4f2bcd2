"""Convert with a trained segmenter on a real photo with real objects pasted on the face.

The astronaut photo (scikit-image) gets two hand-outlined objects from other photos (the cat's
head, the coffee cup; bench/make_mask_labelled_set.py) pasted over her cheek and mouth. A swap
that paints every masked pixel grey shows what each mask lets through. Reports, for the
`extended` landmark mask and for `occlusion`: the share of the objects' pixels left unchanged
and the share of the visible face (landmark hull minus the objects) that was swapped.

Usage: python bench/mask_convert_check.py --model-dir MASKS
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import skimage.data
import torch

sys.path.insert(0, str(Path(__file__).parent))
from make_mask_labelled_set import cutout  # noqa: E402

from phaze.faces.aligned import CoreGeometry  # noqa: E402
from phaze.convert.mask import MaskOptions  # noqa: E402
from phaze.convert.pipeline import ConvertOptions, FaceConverter, _Pending  # noqa: E402
from phaze.faces.framing import Framing  # noqa: E402
from phaze.io.images import write_image  # noqa: E402
from phaze.masks.predict import MaskPredictor  # noqa: E402

SWAP_PX = 128
OBJECTS = [("cat", (250, 150), 60, True), ("cup", (215, 170), 55, False)]  # frame px


def _landmarks(frame: np.ndarray) -> np.ndarray:
    with tempfile.TemporaryDirectory() as temp:
        (Path(temp) / "in").mkdir()
        write_image(Path(temp) / "in" / "frame.png", frame)
        subprocess.run([sys.executable, "-m", "phaze", "extract", "--input", f"{temp}/in",
                        "--output", f"{temp}/faces", "--alignments-only", "--no-progress"],
                       check=True, capture_output=True)
        data = json.loads((Path(temp) / "faces" / "alignments.json").read_text())
    return np.asarray(data["frames"]["frame.png"]["faces"][0]["landmarks_xy"], np.float64)


def _paste_objects(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out, occluder = frame.astype(np.float32), np.zeros(frame.shape[:2], np.float32)
    for name, (cx, cy), side, flip in OBJECTS:
        rgb, alpha = cutout(name)
        scale = side / max(rgb.shape[:2])
        size = (int(rgb.shape[1] * scale), int(rgb.shape[0] * scale))
        rgb, alpha = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), cv2.resize(alpha, size)
        if flip:
            rgb, alpha = rgb[:, ::-1], alpha[:, ::-1]
        top, left = cy - size[1] // 2, cx - size[0] // 2
        region = (slice(top, top + size[1]), slice(left, left + size[0]))
        out[region] = out[region] * (1 - alpha[..., None]) + rgb * alpha[..., None]
        occluder[region] = np.maximum(occluder[region], alpha)
    return np.clip(out, 0, 255).astype(np.uint8), occluder > 0.5


def _grey_swap(batch: torch.Tensor) -> list[torch.Tensor]:
    return [torch.full((batch.shape[0], 3, SWAP_PX, SWAP_PX), 0.5)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--out", default=None, help="write the three frames side by side")
    args = parser.parse_args()
    clean = np.ascontiguousarray(skimage.data.astronaut())
    landmarks = _landmarks(clean)
    frame, occluder = _paste_objects(clean)
    geometry = CoreGeometry()
    matrix = geometry.crop_matrix(landmarks, SWAP_PX, Framing("face", 87.5))
    hull = cv2.warpAffine(geometry.landmark_mask(landmarks, matrix, SWAP_PX, "extended"),
                          cv2.invertAffineTransform(matrix), frame.shape[1::-1]) > 0.5
    kernel = np.ones((7, 7), np.uint8)
    inside_object = cv2.erode((occluder & hull).astype(np.uint8), kernel) > 0
    visible = cv2.erode((hull & ~occluder).astype(np.uint8), kernel) > 0
    predictor = MaskPredictor.load(args.model_dir)
    results = [frame]
    for mask_type in ("extended", "occlusion"):
        options = ConvertOptions(mask_type=mask_type, colour="none", mask=MaskOptions())
        converter = FaceConverter(_grey_swap, SWAP_PX, SWAP_PX, Framing("face", 87.5), geometry,
                                  options, learns_mask=False, occlusion=predictor)
        item = _Pending("frame", frame.copy(), [landmarks])
        converter.convert_batch([item])
        changed = np.abs(item.frame.astype(int) - frame.astype(int)).max(-1) > 2
        print(f"{mask_type:9s}: object pixels unchanged {1 - changed[inside_object].mean():.1%}"
              f" of {inside_object.sum()}, visible face swapped {changed[visible].mean():.1%}"
              f" of {visible.sum()}")
        results.append(item.frame)
    if args.out:
        crop = (slice(40, 240), slice(130, 330))
        write_image(args.out, np.concatenate([r[crop] for r in results], 1))


if __name__ == "__main__":
    main()
