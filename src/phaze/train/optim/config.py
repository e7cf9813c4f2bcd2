"""The optimiser options (`[trainer.optimizer]`), checked when they are made."""
from __future__ import annotations

import math
from dataclasses import dataclass

from phaze.errors import ConfigError
from phaze.config.flags import flag
from phaze.train.optim.checks import check_beta, check_integer, check_number

LEARNING_RATE_RANGE = (1e-6, 1e-1)
# How Adam's two moments are stored between steps; bfloat16 halves their memory (bf16_adam.py);
# auto: bfloat16 where its one-pass kernel runs (factory.moments_in_bfloat16).
MOMENT_DTYPES = ("auto", "float32", "bfloat16")
BFLOAT16_MOMENT_OPTIMIZERS = ("adam", "adamw")
EPSILON_EXPONENT_RANGE = (-20, 0)


@dataclass(frozen=True)
class OptimizerConfig:
    """Optimiser, clipping and warm-up options, with faceswap's defaults.

    Weight decay follows torch's meaning per optimiser: L2 added to the gradient for `adam`,
    decoupled (p ← p − lr·wd·p) for `adamw`, `adabelief` and `lion`. Either way it applies only to
    tensors of rank ≥ 2 (weights, not biases or norm scales). `beta_2` is shared by every
    optimiser; Lion's paper prefers 0.99 to the default 0.999, with which Lion converges slowly.
    """

    name: str = flag("adam", name="optimizer", help="adam (default), adamw, adabelief, lion or sgd")
    learning_rate: float = flag(5e-5, help="default 5e-5")
    epsilon_exponent: int = -7
    beta_1: float = 0.9
    beta_2: float = 0.999
    amsgrad: bool = False
    weight_decay: float = 0.0
    clipping: str = flag("none", help="none (default), autoclip, global_norm, norm or value")
    clipping_value: float = 1.0
    autoclip_history: int = 10000
    warmup_steps: int = flag(0, name="warmup", help="learning-rate warm-up steps (default 0)")
    fused: bool | None = None  # adam/adamw kernels: None = fused where torch has them
    moments: str = flag("auto", help="how adam/adamw store their two moments: auto (default: "
                        "bfloat16 on the CPU where its kernel builds, else float32), float32 "
                        "or bfloat16 (half the memory, stochastic rounding)")

    def __post_init__(self) -> None:
        # The registries hold torch code; imported here so the settings themselves stay light.
        from phaze.train.optim.clipping import CLIPPING_METHODS
        from phaze.train.optim.factory import OPTIMIZERS

        OPTIMIZERS.check(self.name)
        CLIPPING_METHODS.check(self.clipping)
        check_number("learning_rate", self.learning_rate, *LEARNING_RATE_RANGE)
        check_integer("epsilon_exponent", self.epsilon_exponent, *EPSILON_EXPONENT_RANGE)
        check_beta("beta_1", self.beta_1)
        check_beta("beta_2", self.beta_2)
        check_number("weight_decay", self.weight_decay, 0.0, 1.0)
        check_integer("autoclip_history", self.autoclip_history, 1, 10**8)
        check_integer("warmup_steps", self.warmup_steps, 0, 10**9)
        self._check_clipping_value()
        if self.amsgrad and self.name == "lion":
            raise ConfigError("optimizer option 'amsgrad' is True but 'lion' has no second "
                              "moment; allowed with: adam, adamw, adabelief")
        self._check_moments()

    @property
    def epsilon(self) -> float:
        """The numerical-stability term, 10 ** `epsilon_exponent`."""
        return 10.0 ** self.epsilon_exponent

    @property
    def betas(self) -> tuple[float, float]:
        return (self.beta_1, self.beta_2)

    def _check_moments(self) -> None:
        if self.moments not in MOMENT_DTYPES:
            raise ConfigError(f"optimizer option 'moments' is {self.moments!r}; allowed: "
                              + ", ".join(MOMENT_DTYPES))
        if self.moments == "bfloat16" and self.name not in BFLOAT16_MOMENT_OPTIMIZERS:
            raise ConfigError(f"optimizer option 'moments' is 'bfloat16' but {self.name!r} has "
                              "no bfloat16-moment version; allowed with: "
                              + ", ".join(BFLOAT16_MOMENT_OPTIMIZERS))

    def _check_clipping_value(self) -> None:
        # autoclip reads the value as a percentile / 10, so it cannot exceed 10 (= 100th).
        high = 10.0 if self.clipping == "autoclip" else math.inf
        check_number("clipping_value", self.clipping_value, 0.0, high)
        if self.clipping_value == 0.0:
            raise ConfigError("optimizer option 'clipping_value' is 0; allowed: a value > 0")
