"""Name → factory tables for detectors and aligners, so a new one is a single registration."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from phaze.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered implementation: how to build it and a line for `--help`."""

    name: str
    build: Callable[[], T]
    description: str = ""


class Registry(Generic[T]):
    """A small name → Entry table; `kind` names the option in error messages (e.g. 'detector')."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, build: Callable[[], T], description: str = "") -> Entry[T]:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} registered twice")
        entry = Entry(name, build, description)
        self._entries[name] = entry
        return entry

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def get(self, name: str) -> Entry[T]:
        if name not in self._entries:
            raise ConfigError(f"{self.kind} {name!r} is unknown: expected one of "
                              + ", ".join(self.names()))
        return self._entries[name]

    def create(self, name: str) -> T:
        return self.get(name).build()
