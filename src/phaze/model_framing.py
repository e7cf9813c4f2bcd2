"""How a model frames its faces (centering, coverage, vertical offset), saved with the model.

Stored as `<model dir>/framing.json`: `{"centering": "face", "coverage": 1.0,
"vertical_offset": 0.0}` with coverage and offset as fractions (1.0 = 100 %; offset of the face
side). Training writes it when a model is created and refuses to resume with another centering
or coverage (the network learned that framing); swap, preview, convert and export read it with
`read_model_framing` so a model always sees faces framed as in training. A model folder saved
before framing existed reads as the training defaults.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from phaze.errors import ConfigError, ModelDirError

FRAMING_FILE = "framing.json"
CENTERINGS = ("face", "head", "legacy")
MIN_COVERAGE, MAX_COVERAGE = 0.625, 1.0  # PIPELINE.md §3: 62.5–100 %
MAX_VERTICAL_OFFSET = 0.25  # ±25 %


@dataclass(frozen=True)
class ModelFraming:
    """faceswap's training defaults: face centering, 100 % coverage, no vertical offset."""

    centering: str = "face"
    coverage: float = 1.0
    vertical_offset: float = 0.0

    def __post_init__(self) -> None:
        if self.centering not in CENTERINGS:
            raise ConfigError(f"centering {self.centering!r} is invalid: expected one of: "
                              + ", ".join(CENTERINGS))
        if not MIN_COVERAGE <= self.coverage <= MAX_COVERAGE:
            raise ConfigError(f"coverage {self.coverage * 100:g} % is invalid: expected "
                              f"{MIN_COVERAGE * 100:g} to {MAX_COVERAGE * 100:g} %")
        if abs(self.vertical_offset) > MAX_VERTICAL_OFFSET:
            raise ConfigError(f"vertical offset {self.vertical_offset * 100:g} % is invalid: "
                              f"expected -{MAX_VERTICAL_OFFSET * 100:g} to "
                              f"{MAX_VERTICAL_OFFSET * 100:g} %")


def read_model_framing(model_dir: str | Path) -> ModelFraming:
    """The framing saved in `model_dir`, or the defaults for a folder saved without one."""
    path = Path(model_dir) / FRAMING_FILE
    if not path.is_file():
        return ModelFraming()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return ModelFraming(str(raw["centering"]), float(raw["coverage"]),
                            float(raw.get("vertical_offset", 0.0)))
    except (OSError, ValueError, TypeError, KeyError, ConfigError) as error:
        raise ModelDirError(f"'{path}' is not a valid framing file: {error}") from None


def write_model_framing(model_dir: str | Path, framing: ModelFraming) -> None:
    """Save `framing` atomically (temp file in the same folder, then os.replace)."""
    path = Path(model_dir) / FRAMING_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(asdict(framing), indent=2), encoding="utf-8")
    os.replace(temp, path)


def framing_for_training(model_dir: str | Path, requested: ModelFraming | None,
                         resuming: bool) -> ModelFraming:
    """The framing a training run uses, saved for a new model; a resume must not change it.

    `requested` None means "whatever the model has" (defaults for a new model). On resume a
    different centering, coverage or vertical offset is refused: the network learned its framing.
    """
    if resuming:
        saved = read_model_framing(model_dir)
        if requested is not None and requested != saved:
            changed = [f"{name} {getattr(saved, name)!r} → {getattr(requested, name)!r}"
                       for name in ("centering", "coverage", "vertical_offset")
                       if getattr(saved, name) != getattr(requested, name)]
            raise ModelDirError(f"model '{model_dir}' was trained with another framing "
                                f"({', '.join(changed)}); resume without changing it or train "
                                "a new model.")
        return saved
    framing = requested or ModelFraming()
    write_model_framing(model_dir, framing)
    return framing
