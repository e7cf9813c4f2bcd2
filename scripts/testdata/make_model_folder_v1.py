"""Write tests/storage/model_folder_v1: a tiny model folder saved by the storage code of before
issue 22 (main at e8f0e43), kept as test data so later layouts must still load and resume it.

Run from the repository root: `python scripts/testdata/make_model_folder_v1.py [target]`.
Re-running it with newer code writes the newer layout: the committed folder is the proof.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import torch

from phaze.config.options import PhazeAOptions
from phaze.data.augment import AugmentConfig
from phaze.data.synthetic import write_faceset
from phaze.faces.framing import Framing
from phaze.train.config import TrainerConfig
from phaze.train.loop import train
from phaze.train.optim import OptimizerConfig

# The tests' TRAIN_TINY design, narrowed below the options' slider ranges (read back without
# range checks, as imported faceswap models are) so three copies of weights and optimiser state
# stay small: about 21 k parameters.
OPTIONS = dict(
    output_size=64, enc_scaling=3, enc_load_weights=False, enable_gblock=False, split_fc=False,
    split_decoders=True, fs_original_depth=3, fs_original_min_filters=8,
    fs_original_max_filters=8, bottleneck_size=8, fc_min_filters=8, fc_max_filters=8,
    fc_upsampler="upsample2d", fc_upsample_filters=8, dec_max_filters=8, dec_min_filters=8,
    dec_res_blocks=0, dec_gaussian=False)
# Warm-up and autoclip give the scheduler and the clipper state that a resume must restore.
TRAINER = TrainerConfig(
    batch_size=2, iterations=4, save_interval=2, preview_interval=4, snapshot_interval=4,
    log_interval=1, preview_faces=1, workers=0, device="cpu", tensorboard=False, threads=1,
    mixed_precision="off", augment=AugmentConfig(warp=False, color=False),
    optimizer=OptimizerConfig(learning_rate=1e-3, clipping="autoclip", warmup_steps=10))
FRAMING = Framing(centering="face", coverage=87.5, vertical_offset=0.0)


def main(target: Path) -> None:
    torch.manual_seed(0)
    shutil.rmtree(target, ignore_errors=True)
    with tempfile.TemporaryDirectory() as faces:
        for side in ("a", "b"):
            write_faceset(Path(faces) / side, side, 4, size_px=64, seed=0)
        result = train(Path(faces) / "a", Path(faces) / "b", target,
                       PhazeAOptions(**OPTIONS), TRAINER, framing=FRAMING)
    print(f"{target}: iteration {result.iteration}, {result.stopped}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/storage/model_folder_v1"))
