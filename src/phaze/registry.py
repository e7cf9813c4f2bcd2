"""One name → thing table type, so a new loss, optimiser or clipping method is one decorated function."""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from phaze.errors import ConfigError

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Named entries of one kind (`what`, e.g. "loss function"), read-only once looked up.

    Lookups of unknown names raise ConfigError naming the bad value, the closest names and every
    allowed one, so each user of a registry reports mistakes the same way.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of `add`: `@LOSSES.register("mae")`."""
        def decorate(entry: T) -> T:
            return self.add(name, entry)
        return decorate

    def check(self, name: object) -> str:
        """`name` if registered, else a ConfigError with suggestions."""
        if isinstance(name, str) and name in self._entries:
            return name
        raise ConfigError(self.unknown_message(name))

    def unknown_message(self, name: object) -> str:
        close = difflib.get_close_matches(str(name), list(self._entries), n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        return f"{self.what} {name!r} is unknown{hint}; allowed: {', '.join(self._entries)}"

    def get_entry(self, name: object) -> T:
        return self._entries[self.check(name)]

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)
