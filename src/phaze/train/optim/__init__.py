"""Optimisers, bfloat16 Adam moments, gradient clipping and learning-rate warm-up."""
from phaze.train.optim.clipping import CLIPPING_METHODS, CLIPPING_MODES, GradientClipper
from phaze.train.optim.config import OptimizerConfig
from phaze.train.optim.factory import (MOMENT_DTYPES, OPTIMIZER_NAMES, OPTIMIZERS,
                                       build_optimizer)
from phaze.train.optim.warmup import warmup_scheduler

__all__ = ["CLIPPING_METHODS", "CLIPPING_MODES", "GradientClipper", "MOMENT_DTYPES",
           "OPTIMIZER_NAMES", "OPTIMIZERS", "OptimizerConfig", "build_optimizer",
           "warmup_scheduler"]
