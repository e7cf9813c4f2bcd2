"""The two face sides and the two swap directions, defined once for model, data and swap."""
from __future__ import annotations

from phaze.registry import Registry

SIDES = ("a", "b")
# A→B shows side A's faces as B: they go through B's FC / G-Block / decoder.
DIRECTIONS: Registry[str] = Registry("direction")
DIRECTIONS.add("a-to-b", "b")
DIRECTIONS.add("b-to-a", "a")


def target_side(direction: str) -> str:
    """The side whose pathway a swap in `direction` uses."""
    return DIRECTIONS.get_entry(direction)


def source_side(direction: str) -> str:
    """The side whose faces a swap in `direction` takes as input."""
    return "a" if target_side(direction) == "b" else "b"
