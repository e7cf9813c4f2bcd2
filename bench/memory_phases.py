"""Resident memory at each phase of the real training step: where the peak RSS comes from.

Builds a preset as the trainer does (`throughput.build_train_step`), then runs steps and
records the RSS and the peak RSS since the previous mark after: the build, each side's forward
and loss, each backward, the optimiser step. One process per run; Linux only (VmHWM).

    .venv/bin/python bench/memory_phases.py --preset original --batch-size 16 --steps 3
    .venv/bin/python bench/memory_phases.py --optimizer-in-backward on

This is a script, never a test.
"""
from __future__ import annotations

import argparse
import contextlib
import warnings
from collections.abc import Iterator

import torch

from face_batch import face_batch  # bench/: this script's own folder is on sys.path
from phaze.config.presets import resolve_options
from phaze.train.config import TrainerConfig
from phaze.train.optim.config import MOMENT_DTYPES, OptimizerConfig
from phaze.train.step import TrainStep
from throughput import (add_speed_arguments, build_train_step, current_rss_bytes,
                        peak_rss_bytes, reset_peak_rss, speed_from_args)


class Marks:
    """(label, RSS, peak RSS since the previous mark), in bytes."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, int]] = []

    def __call__(self, label: str) -> None:
        self.rows.append((label, current_rss_bytes(), peak_rss_bytes()))
        reset_peak_rss()


@contextlib.contextmanager
def marking(step: TrainStep, marks: Marks) -> Iterator[None]:
    """Mark after each forward+loss, each backward and each optimiser step of `step`."""
    losses, backward = step._losses, torch.Tensor.backward
    optimizer = step.parts.optimizer
    optimizer_step = optimizer.step

    def marked_losses(batches):
        result = losses(batches)
        marks(f"forward + loss {'+'.join(batches)}")
        return result

    def marked_backward(tensor, *args, **kwargs):
        backward(tensor, *args, **kwargs)
        marks("backward")

    def marked_step(*args, **kwargs):
        result = optimizer_step(*args, **kwargs)
        if not step.parts.speed.optimizer_in_backward:   # inside backward: once per tensor
            marks("optimizer step")
        return result

    step._losses, torch.Tensor.backward, optimizer.step = (marked_losses, marked_backward,
                                                           marked_step)
    try:
        yield
    finally:
        step._losses, torch.Tensor.backward, optimizer.step = losses, backward, optimizer_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="original")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--precision", default="off", choices=("auto", "off", "bf16", "fp16"))
    parser.add_argument("--moments", choices=MOMENT_DTYPES, default="auto")
    add_speed_arguments(parser)
    args = parser.parse_args()

    # The marks wrap optimizer.step, which LambdaLR notices and warns about.
    warnings.filterwarnings("ignore", message=r".*optimizer\.step\(\)` has been overridden")
    marks = Marks()
    marks("python + torch imported")
    device = torch.device("cpu")
    config = TrainerConfig(batch_size=args.batch_size, mixed_precision=args.precision,
                           device="cpu", speed=speed_from_args(args),
                           optimizer=OptimizerConfig(moments=args.moments))
    torch.manual_seed(0)
    step = build_train_step(resolve_options(args.preset), device, config)
    marks("model and optimiser built")
    batch = face_batch(args.batch_size, step.model.input_size, step.model.output_size,
                       device, 0)
    with marking(step, marks):
        for index in range(args.steps):
            marks(f"step {index + 1} starts")
            step(batch)
    print(f"{args.preset}, batch {args.batch_size}, {step.parts.precision.label}, "
          f"{args.moments} moments, {step.parts.speed}")
    print(f"{'phase':<28}{'RSS GiB':>9}{'peak since previous':>21}")
    for label, rss, peak in marks.rows:
        print(f"{label:<28}{rss / 2**30:>9.3f}{peak / 2**30:>21.3f}")
    print(f"peak RSS of the whole run: {max(peak for _, _, peak in marks.rows) / 2**30:.3f} GiB")


if __name__ == "__main__":
    main()
