"""Where one run's settings come from, in one rule: saved < `--config` TOML < command-line flags.

The flags are not listed here: every trainer setting the command line may change carries its
flag in its own dataclass field (`phaze.config.flags.flag`), and `trainer_flags()` reads them.
"""
from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phaze.config.options import PhazeAOptions
from phaze.config.parse import options_from_mapping, parse_set_pairs
from phaze.config.presets import options_from_design_flags, read_config_file
from phaze.errors import ConfigError
from phaze.faces.framing import Framing
from phaze.train.config import TrainerConfig, apply_changes, resolve_trainer_config, \
    trainer_from_toml


@dataclass(frozen=True)
class TrainerFlag:
    """One command-line flag and the trainer setting it changes."""

    path: tuple[str, ...]          # e.g. ("optimizer", "learning_rate")
    flag: str                      # e.g. "--learning-rate"
    help: str
    value_type: type | None        # None: the flag takes no value (see `store`)
    store: Any = None
    parse: Callable[[str], Any] | None = None

    @property
    def dest(self) -> str:
        return "trainer__" + "__".join(self.path)


def trainer_flags() -> list[TrainerFlag]:
    """Every trainer setting with a flag, nested configs included, in field order."""
    return list(_flags_of(TrainerConfig, ()))


def _flags_of(kind: type, prefix: tuple[str, ...]) -> Iterator[TrainerFlag]:
    hints = typing.get_type_hints(kind)
    for item in dataclasses.fields(kind):
        hint = hints[item.name]
        if dataclasses.is_dataclass(hint):
            yield from _flags_of(hint, (*prefix, item.name))
        elif "help" in item.metadata and "flag" in item.metadata:
            meta = item.metadata
            name = meta["flag"] or item.name.replace("_", "-")
            takes_value = "store" not in meta
            yield TrainerFlag((*prefix, item.name), "--" + name, meta["help"],
                              _value_type(hint) if takes_value else None,
                              meta.get("store"), meta["parse"])


def _value_type(hint: Any) -> type:
    # `int | None` → int: a flag given always carries a value
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    kind = args[0] if args else hint
    return kind if kind in (int, float, str) else str


@dataclass(frozen=True)
class RunRequest:
    """What one `phaze train` asks for, before any file is read."""

    model_dir: Path
    faces_a: Path | None = None
    faces_b: Path | None = None
    demo: bool = False
    preset: str | None = None
    config: Path | None = None
    sets: tuple[str, ...] = ()
    # flag path → value, only the flags given on the command line
    trainer_flags: Mapping[tuple[str, ...], Any] = field(default_factory=dict)
    framing: Mapping[str, Any] = field(default_factory=dict)   # only what was given
    load_weights: Path | None = None
    load_layers: tuple[str, ...] | None = None
    freeze_layers: tuple[str, ...] | bool = ()   # True: the options' freeze_layers
    nproc: int | None = None                     # run on N local processes
    command_line: tuple[str, ...] = ()           # how to start each of those processes


def requested_options(request: RunRequest) -> PhazeAOptions | None:
    """The network asked for; None means "whatever the model folder holds"."""
    from phaze.storage.checkpoint import is_model_dir, read_options
    from phaze.train.demo import DEMO_PRESET

    config = request.config
    if config and not read_config_file(config):
        # Only [trainer] tables: training settings, not a design; the model stays as it
        # would be without the file (the demo's, the folder's, or the preset's).
        config = None
    preset = request.preset
    if request.demo and not (preset or config):
        preset = DEMO_PRESET
    if is_model_dir(request.model_dir) and not (preset or config):
        # Resuming: --set changes only what it names (updatable options, or a clear error).
        overrides = parse_set_pairs(list(request.sets))
        return options_from_mapping(overrides, read_options(request.model_dir)) \
            if overrides else None
    return options_from_design_flags(preset, config, list(request.sets))


def requested_trainer(request: RunRequest) -> TrainerConfig:
    """Saved settings (or the defaults, or the demo's) < the TOML's [trainer] < the flags."""
    config_file = request.config or (request.preset if request.preset and
                                     str(request.preset).endswith(".toml") else None)
    toml_changes = trainer_from_toml(config_file) if config_file else {}
    flag_changes = _nested(request.trainer_flags)
    if request.demo:
        from phaze.train.demo import demo_trainer

        return apply_changes(apply_changes(demo_trainer(), toml_changes), flag_changes)
    return resolve_trainer_config(request.model_dir, None, toml_changes, flag_changes)


def _nested(flags: Mapping[tuple[str, ...], Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for path, value in flags.items():
        table = changes
        for key in path[:-1]:
            table = table.setdefault(key, {})
        table[path[-1]] = value
    return changes


def requested_framing(request: RunRequest) -> Framing | None:
    """The framing asked for, on top of the saved one (the trainer refuses a change on resume);
    None when nothing was asked."""
    from phaze.storage.framing_file import read_model_framing

    if not request.framing:
        return None
    return dataclasses.replace(read_model_framing(request.model_dir), **request.framing)


def face_sources(request: RunRequest):
    """The two face folders, or the demo's synthetic faces."""
    if request.demo:
        if request.faces_a or request.faces_b:
            raise ConfigError("--demo draws its own faces: leave out --faces-a/--faces-b")
        from phaze.train.demo import demo_sources

        return demo_sources()
    if not (request.faces_a and request.faces_b):
        raise ConfigError("--faces-a and --faces-b are both required (or try --demo)")
    return request.faces_a, request.faces_b
