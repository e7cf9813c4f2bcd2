"""The trainer's typed settings: everything about *how* to train, nothing about the network.

Network options (PhazeAOptions) are fixed when a model is created; these may change on every
run. They are saved in each checkpoint (TrainingState.trainer) so a resume can reuse them.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from phaze.data.settings import AugmentConfig
from phaze.data.settings import MaskWeighting
from phaze.errors import ConfigError
from phaze.config.flags import flag
from phaze.registry import Registry
from phaze.train.loss_config import LossConfig, LossSpec, parse_loss_list
from phaze.train.optim.config import OptimizerConfig

logger = logging.getLogger(__name__)

PRECISION_MODES = ("auto", "off", "bf16", "fp16")
DEVICE_NAMES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class SpeedConfig:
    """How the step runs, not what it computes. None = the device's measured default."""

    channels_last: bool | None = None  # NHWC activations and conv weights
    compile: bool | None = None        # torch.compile the model's forward (slow first steps)
    per_side_backward: bool | None = None  # backward after each side: half the activations
    cudnn_benchmark: bool | None = None    # let cuDNN time its algorithms (CUDA only)
    # Update each weight as soon as its gradient is complete, with one backward for both
    # sides: no gradient outlives its own update (train/in_backward.py). Default: on for a
    # bf16 CPU where it lowers the estimated peak (train/speed.resolve_model_speed).
    optimizer_in_backward: bool | None = None
    # Keep only each block's input for backward and run the block again there: less memory
    # for activations, about one more forward of compute (`use_activation_checkpointing`).
    activation_checkpointing: bool | None = None
    # Convolutions with a 4×4 output or smaller as one matmul over image columns
    # (`use_small_convs_as_matmul`): oneDNN's weight gradient is slow there. Default: on a CPU.
    small_convs_as_matmul: bool | None = None


@dataclass(frozen=True)
class NanProtection:
    """Skip steps whose loss is not finite; stop after `max_consecutive` of them in a row.

    Checking costs one tiny host sync per step; with `enabled=False` there is none, and the
    only guard left is that non-finite weights are never saved.
    """

    enabled: bool = True
    max_consecutive: int = 10


PARALLEL_MODES = ("ddp", "fsdp")


@dataclass(frozen=True)
class TrainerConfig:
    """How to train. `iterations=None` trains until Ctrl-C (or `on_progress` returns False)."""

    batch_size: int = flag(16, help="faces per side per step (1-256, default 16)")
    iterations: int | None = flag(None, help="steps to train in this run (default: until "
                                  "Ctrl-C)")   # steps in this run, not a total
    save_interval: int = flag(250, help="save every N iterations (default 250)")
    preview_interval: int = flag(250, help="write a preview every N iterations (default 250)")
    snapshot_interval: int = flag(25000, help="copy the checkpoint every N iterations "
                                  "(default 25000, 0 = off)")
    log_interval: int = 10                 # how often losses are read back from the device
    preview_faces: int = 8                 # per side
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    losses: LossConfig = field(default_factory=LossConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    masks: MaskWeighting = field(default_factory=MaskWeighting)  # face mask, eye/mouth weights
    mixed_precision: str = flag("auto", help="auto (default: bf16 where the device has it), off, "
                                             "bf16 or fp16")
    nan_protection: NanProtection = field(default_factory=NanProtection)
    workers: int = flag(2, help="data-loading processes (default 2)")
    threads: int | None = flag(None, help="CPU threads for torch (default: torch's choice)")
    seed: int = flag(0, help="random seed (default 0)")
    device: str = flag("auto", help="auto (default), cpu, cuda or cuda:N")
    tensorboard: bool = flag(True, name="no-tensorboard", store=False,
                             help="do not write TensorBoard logs")
    tensorboard_score: bool = True         # swap-quality score of the previews in TensorBoard
    speed: SpeedConfig = field(default_factory=SpeedConfig)  # None = per-device default
    parallel: str = flag("ddp", help="with several processes: ddp (default: a full copy of the "
                         "model in each) or fsdp (weights, gradients and optimiser state "
                         "sharded over them)")

    def __post_init__(self) -> None:
        _check_range("batch_size", self.batch_size, 1, 256)
        if self.iterations is not None:
            _check_range("iterations", self.iterations, 1, None)
        for name in ("save_interval", "preview_interval", "log_interval", "preview_faces"):
            _check_range(name, getattr(self, name), 1, None)
        _check_range("snapshot_interval", self.snapshot_interval, 0, None)
        _check_range("workers", self.workers, 0, 64)
        _check_range("nan_protection.max_consecutive", self.nan_protection.max_consecutive,
                     1, None)
        if self.threads is not None:
            _check_range("threads", self.threads, 1, 1024)
        _check_choice("mixed_precision", self.mixed_precision, PRECISION_MODES)
        _check_choice("parallel", self.parallel, PARALLEL_MODES)
        if self.parallel == "fsdp" and self.optimizer.moments == "bfloat16":
            # Its update reads each moment's bits as int32, which sharded tensors do not offer.
            raise ConfigError("trainer option 'parallel' = 'fsdp' does not work with optimizer "
                              "moments 'bfloat16' (untested on sharded weights); allowed with "
                              "bfloat16 moments: ddp")
        if self.device.split(":")[0] not in DEVICE_NAMES:
            raise ConfigError(f"trainer option 'device' = {self.device!r} is invalid: expected "
                              "one of: auto, cpu, cuda, cuda:N")

    def replace(self, **changes: Any) -> "TrainerConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (nested configs become dicts, tuples lists)."""
        return _jsonable(dataclasses.asdict(self))


def _check_range(name: str, value: Any, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
            high is not None and value > high):
        upper = f"to {high}" if high is not None else "or more"
        raise ConfigError(f"trainer option '{name}' = {value!r} is invalid: expected an "
                          f"integer from {low} {upper}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    Registry.of(name, choices).check(value, f"trainer option '{name}' =")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


_NESTED = {"optimizer": OptimizerConfig, "augment": AugmentConfig, "masks": MaskWeighting,
           "nan_protection": NanProtection, "speed": SpeedConfig}


# --- reading a saved config back --------------------------------------------------------------
def trainer_from_dict(values: Mapping[str, Any]) -> TrainerConfig:
    """Rebuild a saved TrainerConfig; keys this version does not know are dropped with a note.

    A checkpoint written by another version may lack or add settings, so unknown keys are
    ignored rather than fatal: a resume must not fail over a trainer setting.
    """
    kwargs = _known_fields(TrainerConfig, values)
    for name, kind in _NESTED.items():
        if isinstance(kwargs.get(name), Mapping):
            kwargs[name] = kind(**_known_fields(kind, kwargs[name]))
    if isinstance(kwargs.get("losses"), Mapping):
        kwargs["losses"] = _losses_from_dict(kwargs["losses"])
    return TrainerConfig(**kwargs)


def _losses_from_dict(values: Mapping[str, Any]) -> LossConfig:
    kwargs = _known_fields(LossConfig, values)
    if "functions" in kwargs:
        kwargs["functions"] = tuple(LossSpec(**_known_fields(LossSpec, spec))
                                    for spec in kwargs["functions"])
    return LossConfig(**kwargs)


def _known_fields(kind: type, values: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - names)
    if unknown:
        logger.info("ignoring saved trainer settings this version does not know: %s",
                 ", ".join(unknown))
    kwargs = {key: value for key, value in values.items() if key in names}
    # JSON turns tuples into lists; frozen configs expect tuples.
    return {key: tuple(value) if isinstance(value, list) else value
            for key, value in kwargs.items()}


def saved_trainer_config(model_dir: str | Path) -> TrainerConfig | None:
    """The trainer settings of a model's newest checkpoint, or None when it has none.

    Reads only the small state file, not the weights.
    """
    from phaze.storage.folder import ModelFolder   # numpy; settings stay light

    for save in ModelFolder(model_dir).saves():
        path = save / ModelFolder.STATE
        try:
            saved = json.loads(path.read_text(encoding="utf-8")).get("trainer")
        except (OSError, ValueError):
            continue
        if saved:
            try:
                return trainer_from_dict(saved)
            except (ConfigError, TypeError, ValueError) as error:
                logger.warning("ignoring the saved trainer settings in %s: %s", path, error)
                return None
    return None


# --- one tree from every source ---------------------------------------------------------------


def trainer_from_toml(path: str | Path) -> dict[str, Any]:
    """The `[trainer]` table of a TOML file as changes to apply, checked strictly.

    Unlike a saved config (read leniently), these are user input: an unknown key is a
    ConfigError naming it, the closest known key and the section. `[trainer.optimizer]` etc.
    hold the nested settings; `losses = "ssim:1,mse:1"` takes the CLI's loss-list form.
    """
    import tomllib

    path = Path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("trainer", {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"config file '{path}' cannot be read: {error}") from None
    return _strict_changes(TrainerConfig, table, f"[trainer] of '{path}'")


def _strict_changes(kind: type, table: Mapping[str, Any], where: str) -> dict[str, Any]:
    import difflib

    names = [f.name for f in dataclasses.fields(kind)]
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"{where}: unknown setting '{key}'{hint}; allowed: "
                              f"{', '.join(names)}")
        changes[key] = value
    if kind is TrainerConfig:
        for name, nested in _NESTED.items():
            if isinstance(changes.get(name), Mapping):
                changes[name] = _strict_changes(nested, changes[name], f"{where}.{name}")
        if isinstance(changes.get("losses"), str):
            changes["losses"] = {"functions": parse_loss_list(changes["losses"])}
    return changes


def apply_changes(base: TrainerConfig, changes: Mapping[str, Any]) -> TrainerConfig:
    """`base` with `changes`; a nested table changes only the settings it names."""
    merged: dict[str, Any] = {}
    for key, value in changes.items():
        current = getattr(base, key)
        if isinstance(value, Mapping) and dataclasses.is_dataclass(current):
            value = dataclasses.replace(current, **{
                k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
        merged[key] = value
    try:
        return base.replace(**merged)
    except TypeError as error:
        raise ConfigError(f"trainer settings {dict(changes)} are invalid: {error}") from None


def resolve_trainer_config(model_dir: str | Path, explicit: TrainerConfig | None = None,
                           toml_changes: Mapping[str, Any] | None = None,
                           changes: Mapping[str, Any] | None = None) -> TrainerConfig:
    """The one rule for every entry point: defaults < saved (resume) < TOML < command line.

    `explicit` (a whole TrainerConfig from Python) replaces defaults and saved settings. A run's
    length is never inherited: a resumed run without `iterations` trains until stopped.
    """
    if explicit is not None:
        base = explicit
    else:
        saved = saved_trainer_config(model_dir)
        base = saved.replace(iterations=None) if saved else TrainerConfig()
    return apply_changes(apply_changes(base, toml_changes or {}), changes or {})
