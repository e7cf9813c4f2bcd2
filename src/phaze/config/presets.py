"""Built-in presets (TOML files shipped in the package) and user preset files."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from phaze.config.options import OPTION_FIELDS, PhazeAOptions
from phaze.config.parse import options_from_mapping
from phaze.errors import ConfigError
from phaze.registry import Registry

PRESET_PACKAGE = "phaze.config.builtin_presets"


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    values: dict[str, Any]


def _description(text: str) -> str:
    """The first comment line of a preset file is its one-line description."""
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return ""


def _read_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{origin} is not valid TOML: {error}") from None
    # Sections such as [global] hold training settings, not network options.
    return {key: value for key, value in data.items() if not isinstance(value, dict)}


def list_presets() -> list[Preset]:
    folder = resources.files(PRESET_PACKAGE)
    presets = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            text = entry.read_text(encoding="utf-8")
            presets.append(Preset(entry.name[:-5], _description(text),
                                  _read_toml(text, f"preset {entry.name}")))
    return presets


def get_preset(name: str) -> Preset:
    presets: Registry[Preset] = Registry("preset")
    for preset in list_presets():
        presets.add(preset.name, preset)
    return presets.get_entry(name)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Option values of a TOML config / user preset file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist")
    return _read_toml(path.read_text(encoding="utf-8"), f"config file '{path}'")


def options_from_design_flags(preset: str | None, config: str | Path | None,
                              sets: list[str]) -> PhazeAOptions:
    """--preset / --config / --set as the command line gives them: a --preset that names a
    file is read as a config file."""
    from phaze.config.parse import parse_set_pairs

    if preset and (preset.endswith(".toml") or Path(preset).is_file()):
        if config:
            raise ConfigError("give a preset file either with --preset or with --config, "
                              "not both")
        preset, config = None, preset
    return resolve_options(preset, config, parse_set_pairs(sets))


def resolve_options(preset: str | None = None, config: str | Path | None = None,
                    overrides: dict[str, Any] | None = None) -> PhazeAOptions:
    """Defaults ← preset ← config file ← `--set` overrides, validated option by option."""
    options = PhazeAOptions()
    if preset:
        options = options_from_mapping(get_preset(preset).values, options)
    if config:
        options = options_from_mapping(read_config_file(config), options)
    if overrides:
        options = options_from_mapping(overrides, options)
    return options


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def options_to_toml(options: PhazeAOptions, description: str = "") -> str:
    """A preset file for `options`, grouped as faceswap groups them; loads back identically."""
    lines = [f"# {description or 'Phaze-A options saved by phaze'}"]
    group = None
    for name, value in options.to_dict().items():
        field_group = OPTION_FIELDS[name].metadata["group"]
        if field_group != group:
            lines += ["", f"# --- {field_group} ---"]
            group = field_group
        lines.append(f"{name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def save_preset(options: PhazeAOptions, path: str | Path, description: str = "") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(options_to_toml(options, description), encoding="utf-8")
    return path
