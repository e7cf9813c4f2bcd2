"""Build the small labelled set of real occlusions (tests/masks/labelled_set).

The face is scikit-image's astronaut photo (a real face, freely licensed with scikit-image); the
occluders are real objects cut out of other scikit-image photos by hand-placed polygons and
circles (the cat's head, the coffee cup, the rocket, a coin) — kinds never used in training,
which fills occluders with other faces and procedural textures. Each object is pasted at a few
hand-chosen places, some flipped or scaled. Truth = the face's extended landmark mask (landmarks
found by `phaze extract`) minus the pasted object.

With --own-faces DIR it writes, instead of the set, training faces of the same person, as a
user's own face set has them: the photo rotated by -8, -4, 4 and 8 degrees (never the labelled
frame itself), extracted by `phaze extract`, each face copied 18 times so that she weighs about
as much in training as one of the clips' people. No object is on them.

Usage: python bench/make_mask_labelled_set.py [--out tests/masks/labelled_set]
       python bench/make_mask_labelled_set.py --own-faces DIR
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from phaze.data.sources.scan import frame_record
from phaze.data.sources.scan import scan_folder
from phaze.faces.masks import extended_mask
from phaze.io.images import write_image
from phaze.masks.dataset import MASK_FRAMING

SIZE_PX = 128
OWN_ANGLES, OWN_COPIES = (-8, -4, 4, 8), 18
# (photo, polygon or circle in the photo's px): cut-outs drawn by hand on the photos.
CUTOUTS = {
    "cat": ("chelsea", [(140, 40), (200, 20), (260, 40), (310, 30), (330, 110), (320, 200),
                        (260, 260), (180, 260), (130, 200), (120, 110)]),
    "cup": ("coffee", [(180, 60), (420, 60), (440, 140), (520, 170), (520, 260), (420, 280),
                       (380, 330), (220, 330), (170, 200)]),
    "rocket": ("rocket", [(310, 60), (340, 60), (350, 330), (370, 400), (280, 400),
                          (300, 330)]),
    "coin": ("coins", ((97, 53), 34)),   # (centre, radius)
}
# (cut-out, centre in the face crop as a fraction, scale of the crop side, flip)
PLACEMENTS = [("cat", (0.25, 0.7), 0.45, False), ("cat", (0.8, 0.35), 0.4, True),
              ("cup", (0.5, 0.85), 0.5, False), ("cup", (0.2, 0.45), 0.4, True),
              ("rocket", (0.65, 0.6), 0.6, False), ("rocket", (0.35, 0.5), 0.5, True),
              ("coin", (0.35, 0.4), 0.25, False), ("coin", (0.65, 0.7), 0.3, False),
              ("coin", (0.5, 0.25), 0.3, False), ("cat", (0.5, 0.95), 0.5, False),
              ("cup", (0.85, 0.8), 0.45, False), ("rocket", (0.5, 0.4), 0.45, False)]


def _photo(name: str) -> np.ndarray:
    image = getattr(skimage.data, name)()
    return np.repeat(image[..., None], 3, 2) if image.ndim == 2 else image[..., :3]


def cutout(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(RGB crop, alpha crop) of one hand-outlined object, cut to its bounding box."""
    photo_name, shape = CUTOUTS[name]
    photo = _photo(photo_name)
    alpha = np.zeros(photo.shape[:2], np.float32)
    if isinstance(shape, tuple):
        (cx, cy), radius = shape
        cv2.circle(alpha, (cx, cy), radius, 1.0, -1, cv2.LINE_AA)
    else:
        cv2.fillPoly(alpha, [np.array(shape, np.int32)], 1.0, cv2.LINE_AA)
    ys, xs = np.nonzero(alpha)
    box = slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)
    return photo[box], alpha[box]


def _face() -> tuple[np.ndarray, np.ndarray]:
    with tempfile.TemporaryDirectory() as temp:
        frames, faces = Path(temp, "in"), Path(temp, "faces")
        frames.mkdir()
        write_image(frames / "astronaut.png", skimage.data.astronaut())
        subprocess.run([sys.executable, "-m", "phaze", "extract", "--input", str(frames),
                        "--output", str(faces), "--size", "256", "--no-progress"], check=True)
        record = scan_folder(faces, "labelled", report=False).records[0]
        framed = frame_record(record, MASK_FRAMING, SIZE_PX)
    return framed.image, extended_mask(framed.landmarks, SIZE_PX)


def write_own_faces(folder: Path) -> None:
    """The astronaut's faces for training: rotated frames, extracted, repeated."""
    photo = skimage.data.astronaut()
    with tempfile.TemporaryDirectory() as temp:
        frames, faces = Path(temp, "in"), Path(temp, "faces")
        frames.mkdir()
        for angle in OWN_ANGLES:
            matrix = cv2.getRotationMatrix2D((220.0, 130.0), angle, 1.0)
            write_image(frames / f"astronaut_r{angle:+d}.png",
                        cv2.warpAffine(photo, matrix, photo.shape[1::-1],
                                       borderMode=cv2.BORDER_REFLECT))
        subprocess.run([sys.executable, "-m", "phaze", "extract", "--input", str(frames),
                        "--output", str(faces), "--size", "256", "--no-progress"], check=True)
        folder.mkdir(parents=True, exist_ok=True)
        for face in sorted(faces.glob("*.png")):
            for copy in range(OWN_COPIES):
                stem = face.stem.removesuffix("_0")
                shutil.copyfile(face, folder / f"{stem}_c{copy:02d}_0.png")
    print(f"{len(OWN_ANGLES)} × {OWN_COPIES} training faces written to {folder}")


def paste(image: np.ndarray, truth: np.ndarray, name: str, where: tuple[float, float],
          scale: float, flip: bool) -> tuple[np.ndarray, np.ndarray]:
    rgb, alpha = cutout(name)
    side = SIZE_PX * scale / max(rgb.shape[:2])
    size = (max(1, int(rgb.shape[1] * side)), max(1, int(rgb.shape[0] * side)))
    rgb, alpha = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), cv2.resize(alpha, size)
    if flip:
        rgb, alpha = rgb[:, ::-1], alpha[:, ::-1]
    layer = np.zeros((SIZE_PX, SIZE_PX), np.float32)
    colour = np.zeros((SIZE_PX, SIZE_PX, 3), np.float32)
    left = int(where[0] * SIZE_PX - size[0] / 2)
    top = int(where[1] * SIZE_PX - size[1] / 2)
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + size[0], SIZE_PX), min(top + size[1], SIZE_PX)
    layer[y0:y1, x0:x1] = alpha[y0 - top:y1 - top, x0 - left:x1 - left]
    colour[y0:y1, x0:x1] = rgb[y0 - top:y1 - top, x0 - left:x1 - left]
    out = image * (1 - layer[..., None]) + colour * layer[..., None]
    return np.clip(out, 0, 255).astype(np.uint8), truth * (layer < 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="tests/masks/labelled_set")
    parser.add_argument("--own-faces", default=None,
                        help="write the astronaut's training faces into this folder instead")
    args = parser.parse_args()
    if args.own_faces:
        write_own_faces(Path(args.own_faces))
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    face, hull = _face()
    for index, (name, where, scale, flip) in enumerate(PLACEMENTS):
        image, truth = paste(face.astype(np.float32), hull, name, where, scale, flip)
        write_image(out / f"{index:02d}_{name}_image.png", image)
        write_image(out / f"{index:02d}_{name}_mask.png", (truth > 0.5).astype(np.uint8) * 255)
    print(f"{len(PLACEMENTS)} labelled faces written to {out}")


if __name__ == "__main__":
    main()
