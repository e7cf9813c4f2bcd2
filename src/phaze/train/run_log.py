"""Feedback while training: the terminal progress bar and TensorBoard scalars and images."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm


@dataclass
class Progress:
    """What the loop reports at every log interval (also passed to `on_progress`)."""

    iteration: int
    losses: dict[str, float]           # "a", "b" totals and "a_ssim", "b_mse", ... parts
    egs_per_sec: float                 # examples per second, both sides: batch × 2 / step time
    learning_rate: float
    skipped_steps: int = 0             # non-finite steps since the last report


class ProgressBar:
    """tqdm bar: iteration, per-side loss, EGs/sec and (with a fixed length) the ETA."""

    def __init__(self, start: int, iterations: int | None, enabled: bool = True) -> None:
        total = start + iterations if iterations is not None else None
        self._bar = tqdm(total=total, initial=start, unit="it", dynamic_ncols=True,
                         desc="training", smoothing=0.1, disable=not enabled)

    def step(self) -> None:
        self._bar.update(1)

    def report(self, progress: Progress) -> None:
        losses = progress.losses
        self._bar.set_postfix_str(
            f"loss A {losses.get('a', float('nan')):.4f} B {losses.get('b', float('nan')):.4f}"
            f" | {progress.egs_per_sec:.1f} EGs/s", refresh=False)

    def close(self) -> None:
        self._bar.close()


class TensorBoardLog:
    """Scalars and preview images in `model_dir/logs`, one run continuing the previous ones."""

    def __init__(self, log_dir: Path, start_iteration: int) -> None:
        from torch.utils.tensorboard import SummaryWriter  # slow import; only when enabled

        # purge_step hides events a crashed run logged after the checkpoint we resume from.
        self._writer = SummaryWriter(str(log_dir), purge_step=start_iteration or None)

    def report(self, progress: Progress) -> None:
        step = progress.iteration
        for name, value in progress.losses.items():
            side, _, part = name.partition("_")
            self._writer.add_scalar(f"loss_{side}/{part or 'total'}", value, step)
        self._writer.add_scalar("speed/egs_per_sec", progress.egs_per_sec, step)
        self._writer.add_scalar("optimizer/learning_rate", progress.learning_rate, step)
        if progress.skipped_steps:
            self._writer.add_scalar("nan/skipped_steps", progress.skipped_steps, step)

    def scalars(self, iteration: int, values: dict[str, float]) -> None:
        for tag, value in values.items():
            self._writer.add_scalar(tag, value, iteration)

    def image(self, iteration: int, image: np.ndarray) -> None:
        self._writer.add_image("preview", image, iteration, dataformats="HWC")

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
