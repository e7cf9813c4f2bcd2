"""Settings that the command line can set: the flag, its help and how it parses live in the
setting's own dataclass field, so the CLI, `--help` and the library read one definition."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

_NO_VALUE = object()


def flag(default: Any = dataclasses.MISSING, *, help: str, name: str | None = None,
         store: Any = _NO_VALUE, parse: Callable[[str], Any] | None = None,
         default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field settable as `--<name>` (default: the field's name with dashes).

    `store`: the flag takes no value and sets this one (e.g. `--no-tensorboard` stores False).
    `parse`: turns the flag's text into the field's value (e.g. a loss list).
    """
    metadata = {"flag": name, "help": help, "parse": parse}
    if store is not _NO_VALUE:
        metadata["store"] = store
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata=metadata)
