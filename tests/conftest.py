"""Shared fixtures for training tests: synthetic face folders and a tiny, fast design."""
from __future__ import annotations

from pathlib import Path

import pytest

TRAIN_TINY = {
    # 32 px in, 64 px out; ~5 M parameters, a few hundredths of a second per step on a CPU.
    "output_size": 64, "enc_scaling": 3, "enc_load_weights": False,
    "enable_gblock": False, "split_fc": False, "split_decoders": True,
    "fs_original_depth": 3, "fs_original_min_filters": 16, "fs_original_max_filters": 256,
    "bottleneck_size": 128, "fc_min_filters": 128, "fc_max_filters": 128,
    "fc_upsampler": "upsample2d", "fc_upsample_filters": 128,
    "dec_max_filters": 256, "dec_min_filters": 16, "dec_res_blocks": 0,
    "dec_gaussian": False,
}


@pytest.fixture(scope="session", autouse=True)
def kernel_dir(tmp_path_factory: pytest.TempPathFactory):
    """Native kernels built by the tests (and the trainers they start) go to a temporary
    folder, not the user's cache."""
    import os

    from phaze.train.optim.native_kernel import KERNEL_DIR_ENV

    before = os.environ.get(KERNEL_DIR_ENV)
    os.environ[KERNEL_DIR_ENV] = str(tmp_path_factory.mktemp("kernels"))
    yield Path(os.environ[KERNEL_DIR_ENV])
    if before is None:
        del os.environ[KERNEL_DIR_ENV]
    else:
        os.environ[KERNEL_DIR_ENV] = before


@pytest.fixture(scope="session")
def synthetic_faces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Folders A and B of 16 synthetic 64 px faces each, with masks in masks/."""
    from phaze.data.synthetic import write_faceset

    root = tmp_path_factory.mktemp("faces")
    write_faceset(root / "a", "a", 16, size_px=64, seed=0)
    write_faceset(root / "b", "b", 16, size_px=64, seed=0)
    return root / "a", root / "b"


@pytest.fixture(scope="session")
def train_tiny() -> dict:
    """Option values (copy before changing: `dict(train_tiny, learn_mask=True)`)."""
    return dict(TRAIN_TINY)


@pytest.fixture(scope="session")
def split_tiny(train_tiny) -> dict:
    """The tiny design with one FC model per side (fc_a, fc_b): sub-models to load and freeze."""
    return dict(train_tiny, split_fc=True)


@pytest.fixture(scope="module")
def trained_split_model(tmp_path_factory, synthetic_faces, split_tiny, fast_trainer):
    """A split_tiny model folder trained two steps, so its weights differ from a fresh init."""
    from phaze.config.parse import options_from_mapping
    from phaze.train.loop import train

    model_dir = tmp_path_factory.mktemp("trained") / "model"
    train(*synthetic_faces, model_dir, options_from_mapping(split_tiny),
          fast_trainer(iterations=2))
    return model_dir


@pytest.fixture(scope="session")
def fast_trainer():
    """Factory of TrainerConfigs for tests: batch 4, one thread, no augmentation, lr 1e-3."""
    from phaze.data.settings import AugmentConfig
    from phaze.train.config import TrainerConfig
    from phaze.train.optim.config import OptimizerConfig

    def make(**changes) -> TrainerConfig:
        config = TrainerConfig(
            batch_size=4, iterations=4, save_interval=1000, preview_interval=1000,
            log_interval=2, preview_faces=4, workers=0, device="cpu", tensorboard=False,
            threads=1,  # several torch threads crawl on a busy 2-core machine (CI, xdist)
            # Pinned, not "auto": auto is bf16 on some CPUs and float32 on others, and a test's
            # numbers must not depend on the machine. Tests ask for bf16 explicitly.
            mixed_precision="off",
            augment=AugmentConfig(warp=False, color=False),
            optimizer=OptimizerConfig(learning_rate=1e-3))
        return config.replace(**changes)

    return make


@pytest.fixture(params=["off", "bf16"], ids=["float32", "bf16"])
def train_precision(request) -> str:
    """Both precisions the trainer runs on CPUs, on every machine (bf16 autocast works without
    native bf16, only slower), so CI on either kind of CPU tests both paths."""
    return request.param


@pytest.fixture(scope="session")
def make_train_step():
    """Factory of TrainSteps built as the trainer builds them, on a model seeded with 0:
    make(options, speed, optimizer=OptimizerConfig(), float64=False, precision="off"),
    NaN protection on, warm-up from the optimizer config."""
    import torch

    from phaze.model.phaze_a import build_model
    from phaze.train.losses import FaceLoss
    from phaze.train.loss_config import LossConfig
    from phaze.train.optim.clipping import GradientClipper
    from phaze.train.optim.config import OptimizerConfig
    from phaze.train.optim.factory import build_optimizer
    from phaze.train.optim.warmup import warmup_scheduler
    from phaze.train.precision import resolve_precision
    from phaze.train.step import StepParts, TrainStep

    def make(options, speed, optimizer: OptimizerConfig | None = None,
             float64: bool = False, precision: str = "off") -> TrainStep:
        torch.manual_seed(0)
        model = build_model(options, "cpu")
        if float64:
            model.double()
        config = optimizer or OptimizerConfig()
        built = build_optimizer(model, config)
        parts = StepParts(FaceLoss(LossConfig()), built,
                          warmup_scheduler(built, config.warmup_steps), GradientClipper(config),
                          torch.amp.GradScaler("cpu", enabled=False),
                          resolve_precision(precision, torch.device("cpu")), True, speed)
        return TrainStep(model, parts)

    return make


@pytest.fixture(scope="session")
def random_pair_batch():
    """Factory of both sides' batches of 2 for a TrainStep's model: random inputs and targets
    from `seed`, all-ones masks, in `dtype` (drawn in float32 first)."""
    import torch

    from phaze.data.loader import SideBatch
    from phaze.sides import SIDES

    def make(step, seed: int = 1, dtype: torch.dtype = torch.float32):
        generator = torch.Generator().manual_seed(seed)
        size_in, size_out = step.model.input_size, step.model.output_size
        return {side: SideBatch(
            torch.rand(2, 3, size_in, size_in, generator=generator).to(dtype),
            torch.rand(2, 3, size_out, size_out, generator=generator).to(dtype),
            torch.ones(2, 1, size_out, size_out, dtype=dtype)) for side in SIDES}

    return make


@pytest.fixture
def gradient_face_80():
    """An 80 px RGB image with no symmetry, so crops and resizes show."""
    import numpy as np

    rows, cols = np.mgrid[0:80, 0:80]
    return np.stack([cols * 3, rows * 3, (rows + 2 * cols) % 256], axis=-1).astype(np.uint8)


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models: thread start-up and spinning cost more than they save on a small CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
