"""Turn raw values (TOML, `--set name=value`) into a validated PhazeAOptions."""
from __future__ import annotations

import difflib
from typing import Any, Iterable, Mapping

from phaze.config.options import OPTION_FIELDS, PhazeAOptions
from phaze.errors import ConfigError
from phaze.registry import Registry

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def unknown_option_error(name: str, known: Iterable[str] = OPTION_FIELDS) -> ConfigError:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else "; run `phaze options` for the list"
    return ConfigError(f"unknown option '{name}'{hint}")


def describe_allowed(meta: Mapping[str, Any]) -> str:
    kind = meta["kind"]
    if kind in (int, float):
        low, high = meta["range"]
        return f"{'an integer' if kind is int else 'a number'} from {low} to {high}"
    if kind is bool:
        return "true or false"
    if kind is tuple:
        return "a list of: " + ", ".join(meta["choices"])
    if meta["choices"] is None:
        return "an encoder name (see `phaze encoders`)"
    return "one of: " + ", ".join(meta["choices"])


def _bad(name: str, value: Any, meta: Mapping[str, Any]) -> ConfigError:
    return ConfigError(f"option '{name}' = {value!r} is invalid: expected {describe_allowed(meta)}")


def _coerce_number(name: str, value: Any, meta: Mapping[str, Any],
                   enforce_range: bool = True) -> int | float:
    kind = meta["kind"]
    if isinstance(value, bool):
        raise _bad(name, value, meta)
    try:
        number = float(value) if isinstance(value, str) else value
    except ValueError:
        raise _bad(name, value, meta) from None
    if not isinstance(number, (int, float)):
        raise _bad(name, value, meta)
    if kind is int:
        if float(number) != int(number):
            raise _bad(name, value, meta)
        number = int(number)
    else:
        number = float(number)
    low, high = meta["range"]
    if enforce_range and not low <= number <= high:
        raise _bad(name, value, meta)
    return number


def _coerce_bool(name: str, value: Any, meta: Mapping[str, Any]) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _bad(name, value, meta)


def _coerce_names(name: str, value: Any, meta: Mapping[str, Any]) -> tuple[str, ...]:
    # faceswap stores these as comma- or space-separated strings; duplicates are dropped.
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise _bad(name, value, meta)
    allowed = Registry.of(name, meta["choices"])
    for item in items:
        allowed.check(item, f"option '{name}' contains")
    return tuple(dict.fromkeys(items))


def coerce_option(name: str, value: Any, enforce_range: bool = True) -> Any:
    """Return `value` converted to option `name`'s type, or raise a ConfigError naming both.

    `enforce_range=False` accepts numbers outside the slider ranges, as faceswap's own option
    setter does (used when importing a faceswap model, whose values may lie outside them).
    """
    if name not in OPTION_FIELDS:
        raise unknown_option_error(name)
    meta = OPTION_FIELDS[name].metadata
    kind = meta["kind"]
    if kind in (int, float):
        return _coerce_number(name, value, meta, enforce_range)
    if kind is bool:
        return _coerce_bool(name, value, meta)
    if kind is tuple:
        return _coerce_names(name, value, meta)
    if not isinstance(value, str):
        raise _bad(name, value, meta)
    value = value.strip()
    if meta["choices"] is not None:
        Registry.of(name, meta["choices"]).check(value, f"option '{name}' =")
    return value


def options_from_mapping(values: Mapping[str, Any], base: PhazeAOptions | None = None,
                         enforce_range: bool = True) -> PhazeAOptions:
    """Apply `values` (already parsed TOML or --set pairs) on top of `base` (the defaults)."""
    changes = {name: coerce_option(name, value, enforce_range)
               for name, value in values.items()}
    return (base or PhazeAOptions()).replace(**changes)


def parse_set_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """`["a=1", "b=x"]` → `{"a": "1", "b": "x"}` with a clear error for a malformed pair."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--set expects name=value, got {pair!r}")
        parsed[name.strip()] = value.strip()
    return parsed
