"""How a model frames its faces (centering, coverage, vertical offset); saved with the model."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from phaze.errors import ConfigError
from phaze.faces.constants import CENTERINGS

COVERAGE_RANGE = (62.5, 100.0)        # percent
VERTICAL_OFFSET_RANGE = (-25.0, 25.0)  # percent of the unit face


@dataclass(frozen=True)
class Framing:
    """Centering legacy|face|head, coverage 62.5–100 %, vertical offset −25..25 %."""

    centering: str = "face"
    coverage: float = 100.0
    vertical_offset: float = 0.0

    def __post_init__(self) -> None:
        CENTERINGS.check(self.centering, "framing option 'centering' =")
        _check_range("coverage", self.coverage, COVERAGE_RANGE)
        _check_range("vertical_offset", self.vertical_offset, VERTICAL_OFFSET_RANGE)

    @property
    def coverage_ratio(self) -> float:
        """Coverage as a fraction (1.0 = 100 %)."""
        return self.coverage / 100.0

    @property
    def vertical_ratio(self) -> float:
        """Vertical offset as a fraction of the unit face."""
        return self.vertical_offset / 100.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of the three options."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Framing:
        """Framing from a dict such as `to_dict` wrote; unknown keys are a ConfigError."""
        if not isinstance(data, dict):
            raise ConfigError(f"framing is {type(data).__name__}: expected a table/dict")
        unknown = sorted(set(data) - {"centering", "coverage", "vertical_offset"})
        if unknown:
            raise ConfigError(f"framing option {unknown[0]!r} is unknown: expected centering, "
                              "coverage, vertical_offset")
        return cls(**data)


def _check_range(name: str, value: float, allowed: tuple[float, float]) -> None:
    low, high = allowed
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(f"framing option {name!r} = {value!r} is invalid: expected a number "
                          f"from {low:g} to {high:g}")
