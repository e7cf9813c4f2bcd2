"""The two face sides and the two swap directions, defined once for model, data and swap."""
from __future__ import annotations

from phaze.errors import ConfigError

SIDES = ("a", "b")
# A→B shows side A's faces as B: they go through B's FC / G-Block / decoder.
DIRECTIONS = {"a-to-b": "b", "b-to-a": "a"}


def check_side(side: str) -> str:
    """`side` itself when it is 'a' or 'b', else a ConfigError naming it."""
    if side not in SIDES:
        raise ConfigError(f"side {side!r} is invalid: expected one of: " + ", ".join(SIDES))
    return side


def target_side(direction: str) -> str:
    """The side whose pathway a swap in `direction` uses."""
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction {direction!r} is invalid: expected one of: "
                          + ", ".join(DIRECTIONS))
    return DIRECTIONS[direction]


def source_side(direction: str) -> str:
    """The side whose faces a swap in `direction` takes as input."""
    return "a" if target_side(direction) == "b" else "b"
