"""Linear learning-rate warm-up, saved with the training state."""
from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from phaze.train.optim.checks import check_integer


class _LinearWarmup:
    """LR factor rising linearly from 0 to 1 over `steps` scheduler steps, then 1.

    A class rather than a lambda so LambdaLR's state_dict can save it.
    """

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def __call__(self, step: int) -> float:
        return 1.0 if self.steps == 0 else min(1.0, step / self.steps)


def warmup_scheduler(optimizer: Optimizer, warmup_steps: int) -> LambdaLR:
    """Linear warm-up: lr is 0 at step 0, reaches the configured lr after `warmup_steps`
    `scheduler.step()` calls and stays there; 0 steps means a constant lr."""
    check_integer("warmup_steps", warmup_steps, 0, 10**9)
    return LambdaLR(optimizer, _LinearWarmup(warmup_steps))
