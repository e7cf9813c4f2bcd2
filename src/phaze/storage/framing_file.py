"""How a model frames its faces, saved with the model as `<model dir>/framing.json`.

`{"centering": "face", "coverage": 100.0, "vertical_offset": 0.0}` (percent, as faceswap's state
file). Training writes it when a model is created and refuses to resume with another framing
(the network learned it); swap, preview, convert, import and export read it with
`read_model_framing`, so a model always sees faces framed as in training. A model folder saved
before framing existed reads as the training defaults.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from phaze.errors import ConfigError, ModelDirError
from phaze.faces.framing import Framing

FRAMING_FILE = "framing.json"
FRAMING_FIELDS = ("centering", "coverage", "vertical_offset")


def read_model_framing(model_dir: str | Path) -> Framing:
    """The framing saved in `model_dir`, or the defaults for a folder saved without one."""
    path = Path(model_dir) / FRAMING_FILE
    if not path.is_file():
        return Framing()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Framing.from_dict({name: raw[name] for name in FRAMING_FIELDS if name in raw})
    except (OSError, ValueError, TypeError, ConfigError) as error:
        raise ModelDirError(f"'{path}' is not a valid framing file: {error}") from None


def write_model_framing(model_dir: str | Path, framing: Framing, **extra) -> None:
    """Save `framing` (plus JSON-ready `extra` keys) atomically: temp file, then os.replace."""
    path = Path(model_dir) / FRAMING_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps({**framing.to_dict(), **extra}, indent=2), encoding="utf-8")
    os.replace(temp, path)


def framing_for_training(model_dir: str | Path, requested: Framing | None,
                         resuming: bool) -> Framing:
    """The framing a training run uses, saved for a new model; a resume must not change it.

    `requested` None means "whatever the model has" (defaults for a new model).
    """
    framing = check_training_framing(model_dir, requested, resuming)
    if not resuming:
        write_model_framing(model_dir, framing)
    return framing


def check_training_framing(model_dir: str | Path, requested: Framing | None,
                           resuming: bool) -> Framing:
    """`framing_for_training` without writing anything (so bad data leaves no model folder)."""
    if resuming:
        saved = read_model_framing(model_dir)
        if requested is not None and requested != saved:
            changed = [f"{name} {getattr(saved, name)!r} → {getattr(requested, name)!r}"
                       for name in FRAMING_FIELDS
                       if getattr(saved, name) != getattr(requested, name)]
            raise ModelDirError(f"model '{model_dir}' was trained with another framing "
                                f"({', '.join(changed)}); resume without changing it or train "
                                "a new model.")
        return saved
    return requested or Framing()
