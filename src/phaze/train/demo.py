"""The embedded default: train the `demo` preset on two synthetic people, no data needed.

Sized to show a face swap taking shape within about five minutes on a 2-core CPU.
"""
from __future__ import annotations

import logging
from pathlib import Path

from phaze.config.presets import resolve_options
from phaze.io.images import is_image_path
from phaze.data.synthetic import write_faceset
from phaze.train.config import TrainerConfig
from phaze.train.loop import ProgressCallback, TrainResult, train
from phaze.train.optim import OptimizerConfig

log = logging.getLogger(__name__)

DEMO_PRESET = "demo"
DEMO_FACES_FOLDER = "demo_faces"
DEMO_FACES_PER_SIDE = 256
DEMO_FACE_PX = 128
DEMO_SEED = 0


def demo_trainer(**changes) -> TrainerConfig:
    """Trainer settings of the demo; `changes` override any of them."""
    defaults = TrainerConfig(
        # ~600 iterations already show B's hair, eyes and moustache on A's faces; 800 took
        # 2.5-4 minutes on one core of a (busy) 2-core machine: 0.18-0.30 s per iteration.
        batch_size=8, iterations=800, save_interval=100, preview_interval=100,
        log_interval=10, seed=DEMO_SEED,
        # One thread: torch's threads wait for each other many times per step, so on a 2-core
        # machine where anything else runs, two threads were 10x slower than one. One thread
        # gives the same few minutes whether the machine is idle or busy.
        threads=1,
        # Augmenting 64 px faces costs ~1 ms each: a worker process would only compete with
        # torch for the cores.
        workers=0,
        # Far above faceswap's 5e-5: a small model on clean synthetic data tolerates it, and
        # the demo has minutes, not days.
        optimizer=OptimizerConfig(learning_rate=4e-4))
    return defaults.replace(**changes)


def demo_faces(model_dir: str | Path,
               count: int = DEMO_FACES_PER_SIDE) -> tuple[Path, Path]:
    """Folders of synthetic faces A and B inside `model_dir`, written unless already there."""
    root = Path(model_dir) / DEMO_FACES_FOLDER
    folders = (root / "a", root / "b")
    for identity, folder in zip(("a", "b"), folders):
        if _image_count(folder) >= count:
            log.info("demo: reusing the synthetic faces in %s", folder)
            continue
        log.info("demo: drawing %d synthetic faces of person %s into %s", count,
                 identity.upper(), folder)
        write_faceset(folder, identity, count, size_px=DEMO_FACE_PX, seed=DEMO_SEED)
    return folders


def _image_count(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.iterdir() if is_image_path(p))


def train_demo(model_dir: str | Path, trainer: TrainerConfig | None = None,
               on_progress: ProgressCallback | None = None) -> TrainResult:
    """Draw the demo faces (once) and train (or resume) the `demo` preset in `model_dir`."""
    faces_a, faces_b = demo_faces(model_dir)
    return train(faces_a, faces_b, model_dir, resolve_options(DEMO_PRESET),
                 trainer or demo_trainer(), on_progress=on_progress)
