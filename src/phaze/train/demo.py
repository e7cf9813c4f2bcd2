"""The embedded default: train the `demo` preset on two synthetic people, no data needed.

Sized to show a face swap taking shape within minutes on a 2-core CPU: 3-4 with bf16
(AVX512-BF16), about 10 in float32 (AVX2).
"""
from __future__ import annotations

import logging

from phaze.data.sources import SourceScan, synthetic_source
from phaze.data.synthetic import render_faces
from phaze.train.config import TrainerConfig
from phaze.train.optim.config import OptimizerConfig

log = logging.getLogger(__name__)

DEMO_PRESET = "demo"
DEMO_FACES_PER_SIDE = 256
DEMO_FACE_PX = 128
DEMO_SEED = 0


def demo_trainer(**changes) -> TrainerConfig:
    """Trainer settings of the demo; `changes` override any of them."""
    defaults = TrainerConfig(
        # ~600 iterations already show B's hair, eyes and moustache on A's faces. 800 took
        # 2.5-4 minutes (0.18-0.30 s per iteration) on one core of a busy AVX512-BF16 machine,
        # and 611 s (0.70 s per step) in float32 on an idle AVX2 one.
        batch_size=8, iterations=800, save_interval=100, preview_interval=100,
        log_interval=10, seed=DEMO_SEED,
        # One thread: torch's threads wait for each other many times per step, so on a 2-core
        # machine where anything else runs, two threads were 10x slower than one. One thread
        # gives the same time whether the machine is idle or busy.
        threads=1,
        # Augmenting 64 px faces costs ~1 ms each: a worker process would only compete with
        # torch for the cores.
        workers=0,
        # Far above faceswap's 5e-5: a small model on clean synthetic data tolerates it, and
        # the demo has minutes, not days.
        optimizer=OptimizerConfig(learning_rate=4e-4))
    return defaults.replace(**changes)


def demo_sources(count: int = DEMO_FACES_PER_SIDE) -> tuple[SourceScan, SourceScan]:
    """The two synthetic people's faces and masks, in memory: nothing is written."""
    log.info("demo: drawing %d synthetic faces of each of two people", count)
    sources = []
    for identity in ("a", "b"):
        faces, masks = render_faces(identity, count, DEMO_FACE_PX, DEMO_SEED)
        sources.append(synthetic_source(faces, identity, masks))
    return sources[0], sources[1]
