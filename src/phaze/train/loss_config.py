"""Which losses train the model and with what weights: settings, free of torch so the command
line reads them cheaply (the loss functions themselves are in phaze.train.losses)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from phaze.config.flags import flag
from phaze.errors import ConfigError
from phaze.registry import Registry

MASK_LOSS_FUNCTIONS = Registry.of("mask_loss_function", ("mse", "mae"))


def _loss_functions():
    from phaze.train.losses import LOSS_FUNCTIONS   # torch, needed once a setting is made

    return LOSS_FUNCTIONS


@dataclass(frozen=True)
class LossSpec:
    """One image loss and its weight in the total (0 switches it off)."""

    name: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        _loss_functions().check(self.name)
        weight = self.weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                or not math.isfinite(weight) or weight < 0:
            raise ConfigError(f"loss weight of {self.name!r} is {weight!r}; allowed: a finite "
                              "number >= 0")
        object.__setattr__(self, "weight", float(weight))


@dataclass(frozen=True)
class LossConfig:
    """Which image losses train the model, how the face mask weights them, and the mask loss."""

    functions: tuple[LossSpec, ...] = flag(
        default_factory=lambda: (LossSpec("ssim", 1.0), LossSpec("mse", 1.0)), name="losses",
        parse=lambda text: parse_loss_list(text),
        help="weighted loss list, e.g. ssim:1,mse:1 (the default)")
    penalized_mask_loss: bool = flag(
        True, name="no-penalized-mask-loss", store=False,
        help="compute the loss over the whole face, not only inside the mask")
    mask_loss_function: str = "mse"
    learn_mask: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "functions", tuple(self.functions))
        _check_functions(self.functions)
        MASK_LOSS_FUNCTIONS.check(self.mask_loss_function)


def _check_functions(functions: tuple[LossSpec, ...]) -> None:
    """Reject lists that are empty, repeat a name or leave nothing to optimise."""
    if not all(isinstance(spec, LossSpec) for spec in functions):
        raise ConfigError(f"loss functions must be LossSpec entries, got {functions!r}")
    names = [spec.name for spec in functions]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"loss functions list {', '.join(repeated)} more than once; "
                          "give each function once with its total weight")
    if not any(spec.weight > 0 for spec in functions):
        raise ConfigError(f"loss functions {names} have no positive weight; at least one "
                          f"of {', '.join(_loss_functions())} needs a weight > 0")


def parse_loss_list(text: str) -> tuple[LossSpec, ...]:
    """Parse the CLI form `"ssim:1,mse:1,ms_ssim:0.5"`; a name without `:weight` weighs 1."""
    entries = [entry.strip() for entry in text.split(",")]
    if not text.strip() or not all(entries):
        raise ConfigError(f"loss list {text!r} is malformed; expected comma-separated "
                          "name[:weight] entries such as 'ssim:1,mse:1'")
    specs = tuple(_parse_loss_entry(entry) for entry in entries)
    _check_functions(specs)
    return specs


def _parse_loss_entry(entry: str) -> LossSpec:
    """One `name[:weight]` entry of a loss list."""
    name, separator, weight_text = (part.strip() for part in entry.partition(":"))
    if not separator:
        return LossSpec(name)
    try:
        weight = float(weight_text)
    except ValueError:
        raise ConfigError(f"loss weight {weight_text!r} of {name!r} is not a number; "
                          "expected name:weight such as 'ssim:1'") from None
    return LossSpec(name, weight)
