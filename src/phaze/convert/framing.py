"""How a model frames its faces (centering, coverage, vertical offset), read in one place.

The real-face-set work stores the framing with the model; until a model folder carries it, a
model is taken to use the training defaults (face centering, 100 % coverage, no offset). When
`phaze.faces.Framing` and the model-level framing land, only `read_model_framing` changes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from phaze.errors import ModelDirError

CENTERINGS = ("legacy", "face", "head")
FRAMING_FILE = "framing.json"
MIN_INPUT_PX = 16


@dataclass(frozen=True)
class ModelFraming:
    centering: str = "face"
    coverage: float = 1.0
    vertical_offset: float = 0.0


def check_framing(framing: ModelFraming, where: str) -> ModelFraming:
    """Refuse a framing that convert cannot reproduce, naming the model folder."""
    if framing.centering not in CENTERINGS:
        raise ModelDirError(f"model '{where}' uses centering {framing.centering!r}, which "
                            "convert cannot serve: expected one of: " + ", ".join(CENTERINGS))
    if not 0.5 <= framing.coverage <= 1.0:
        raise ModelDirError(f"model '{where}' has coverage {framing.coverage!r}: expected "
                            "0.5 to 1.0")
    if not -0.5 <= framing.vertical_offset <= 0.5:
        raise ModelDirError(f"model '{where}' has vertical offset {framing.vertical_offset!r}: "
                            "expected -0.5 to 0.5")
    return framing


def read_model_framing(model_dir: str | Path) -> ModelFraming:
    """The model's saved framing, or the training defaults for a model saved without one."""
    path = Path(model_dir) / FRAMING_FILE
    if not path.is_file():
        return ModelFraming()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        framing = ModelFraming(str(raw.get("centering", "face")),
                               float(raw.get("coverage", 1.0)),
                               float(raw.get("vertical_offset", 0.0)))
    except (OSError, ValueError, TypeError, AttributeError) as error:
        raise ModelDirError(f"'{path}' is not a valid framing file: {error}") from None
    return check_framing(framing, str(model_dir))


def check_input_size(size_px: int, where: str) -> int:
    if size_px < MIN_INPUT_PX:
        raise ModelDirError(f"model '{where}' takes {size_px} px faces: convert needs at least "
                            f"{MIN_INPUT_PX} px")
    return size_px
