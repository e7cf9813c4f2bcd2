"""Train the small segmenter the convert test uses (tests/masks/mask_model_astronaut).

Self-supervised, as `phaze mask train` does (landmark hull minus synthetic occluders), on three
head-centred faces of scikit-image's astronaut (the frame rotated by -8, 0 and 8 degrees): the
intended use, a segmenter trained on the person being swapped. 64 px, 0.12 M parameters (about
0.5 MB), 2000 steps of 16 faces, seed 0: about 90 CPU-seconds, too long for a test to train it
each run. Nothing of the objects the test pastes (the cat's head, the coffee cup) is seen.

Usage: python bench/make_test_mask_model.py [--out tests/masks/mask_model_astronaut]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "masks"))
from mask_helpers import astronaut_landmarks, write_astronaut_faces  # noqa: E402

from phaze.masks.dataset import load_mask_faces  # noqa: E402
from phaze.masks.network import SegmenterConfig  # noqa: E402
from phaze.masks.storage import OPTIONS_FILE, WEIGHTS_FILE  # noqa: E402
from phaze.masks.training import MaskTrainConfig, train_segmenter  # noqa: E402

NETWORK = SegmenterConfig(size_px=64, widths=(8, 16, 32, 64))
TRAINING = MaskTrainConfig(steps=2000, batch_size=16, seed=0, save_every=10 ** 6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="tests/masks/mask_model_astronaut")
    out = Path(parser.parse_args().out)
    torch.set_num_threads(1)  # the same weights on every machine load
    for name in (OPTIONS_FILE, WEIGHTS_FILE):  # train from scratch, not on top of the old one
        (out / name).unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as temp:
        write_astronaut_faces(Path(temp), astronaut_landmarks(), angles=(-8, 0, 8))
        faces = load_mask_faces([temp], NETWORK.size_px)
    train_segmenter(faces, out, NETWORK, TRAINING)
    print(f"mask model for the convert test written to {out}")


if __name__ == "__main__":
    main()
