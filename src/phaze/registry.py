"""One name → thing table type for every lookup by name (losses, optimisers, writers, sides, …),
and the one message a wrong name gets."""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar

from phaze.errors import ConfigError

T = TypeVar("T")


def invalid_name_message(what: str, name: object, allowed: Iterable[str]) -> str:
    """"<what> 'x' is invalid: expected one of: a, b (did you mean 'b'?)" — every wrong name,
    wherever it is looked up, is reported in these words."""
    allowed = list(allowed)
    close = difflib.get_close_matches(str(name), allowed, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    return f"{what} {name!r} is invalid: expected one of: {', '.join(allowed)}{hint}"


class Registry(Mapping[str, T], Generic[T]):
    """Named entries of one kind (`what`, e.g. "loss function"), read-only once looked up.

    Lookups of unknown names raise ConfigError naming the bad value, the closest names and every
    allowed one, so each user of a registry reports mistakes the same way.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    @classmethod
    def of(cls, what: str, names: Iterable[str]) -> Registry[str]:
        """A registry of plain choices (each name maps to itself), e.g. the two sides."""
        registry: Registry[str] = cls(what)
        for name in names:
            registry.add(name, name)
        return registry

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

    def check(self, name: object, what: str | None = None,
              error: type[Exception] = ConfigError) -> str:
        """`name` if registered, else `error` (ConfigError) with suggestions; `what` overrides
        the registry's own label where the caller knows better (e.g. "trainer option 'x' =")."""
        if isinstance(name, str) and name in self._entries:
            return name
        raise error(self.unknown_message(name, what))

    def unknown_message(self, name: object, what: str | None = None) -> str:
        return invalid_name_message(what or self.what, name, self._entries)

    def get_entry(self, name: object, what: str | None = None) -> T:
        return self._entries[self.check(name, what)]

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)
