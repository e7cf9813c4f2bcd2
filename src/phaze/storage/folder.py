"""Every path of a model folder, in one place: no other module spells a file name of it.

Layout (unchanged since the first release, so old folders load):
    phaze.json              marker + the options that shape the network
    framing.json            centering, coverage, vertical offset (absent: the defaults)
    checkpoint/             latest save: weights.safetensors, optimizer.safetensors, state.json
    checkpoint.bak/         the save before it (used if `checkpoint/` is missing or damaged)
    checkpoint.tmp/         a save being written (renamed into place when complete)
    snapshots/<iteration>/  periodic copies of `checkpoint/`
    preview.png, previews/  the latest preview grid and every one before it
    logs/                   TensorBoard events
    .phaze-train.lock       held by the one trainer working on the folder
    ui_run.json, ui_run.lock, ui_train.log   a run started from the web page
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from phaze.config.options import OPTION_FIELDS, PhazeAOptions
from phaze.config.parse import options_from_mapping
from phaze.errors import ConfigError, DataError, ModelDirError
from phaze.faces.framing import Framing
from phaze.io.atomic import atomic_write

FORMAT = "phaze-model"
FORMAT_VERSION = 1
FRAMING_FIELDS = ("centering", "coverage", "vertical_offset")


@dataclass(frozen=True, init=False)
class ModelFolder:
    """A model folder's paths and its small files (options, framing, previews)."""

    path: Path

    OPTIONS = "phaze.json"
    FRAMING = "framing.json"
    LATEST, BACKUP, TEMP = "checkpoint", "checkpoint.bak", "checkpoint.tmp"
    WEIGHTS, OPTIMIZER, STATE = "weights.safetensors", "optimizer.safetensors", "state.json"
    SNAPSHOTS = "snapshots"
    PREVIEW, PREVIEWS = "preview.png", "previews"
    LOGS = "logs"
    TRAIN_LOCK = ".phaze-train.lock"
    UI_RUN, UI_RUN_LOCK, UI_LOG = "ui_run.json", "ui_run.lock", "ui_train.log"

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    # --- paths ------------------------------------------------------------------------------
    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def options_file(self) -> Path:
        return self.path / self.OPTIONS

    @property
    def framing_file(self) -> Path:
        return self.path / self.FRAMING

    @property
    def latest(self) -> Path:
        return self.path / self.LATEST

    @property
    def backup(self) -> Path:
        return self.path / self.BACKUP

    @property
    def temp(self) -> Path:
        return self.path / self.TEMP

    def saves(self) -> tuple[Path, Path]:
        """Where a checkpoint is looked for, newest first."""
        return self.latest, self.backup

    def snapshot_dir(self, iteration: int) -> Path:
        return self.path / self.SNAPSHOTS / f"{iteration:08d}"

    @property
    def preview(self) -> Path:
        return self.path / self.PREVIEW

    @property
    def previews(self) -> Path:
        return self.path / self.PREVIEWS

    @property
    def logs(self) -> Path:
        return self.path / self.LOGS

    @classmethod
    def own_names(cls) -> frozenset[str]:
        """Top-level names the model needs; anything else in the folder is the user's."""
        return frozenset((cls.OPTIONS, cls.FRAMING, cls.LATEST, cls.BACKUP, cls.TEMP,
                          cls.SNAPSHOTS))

    # --- state of the folder ------------------------------------------------------------------
    def is_model(self) -> bool:
        return self.options_file.is_file()

    def has_checkpoint(self) -> bool:
        """True when the folder holds a checkpoint (latest or backup); reads nothing."""
        return any((save / self.STATE).is_file() for save in self.saves())

    # --- options (phaze.json) -----------------------------------------------------------------
    def write_options(self, options: PhazeAOptions) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        payload = {"format": FORMAT, "version": FORMAT_VERSION, "options": options.to_dict()}
        atomic_write(self.options_file, json.dumps(payload, indent=2))

    def read_options(self) -> PhazeAOptions:
        """The saved options, or a ModelDirError saying why this is not a model folder."""
        marker = self.options_file
        if not marker.is_file():
            raise ModelDirError(f"'{self.path}' is not a Phaze model folder (no "
                                f"{self.OPTIONS})")
        try:
            payload = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ModelDirError(f"'{marker}' is damaged: {error}") from None
        if payload.get("format") != FORMAT:
            raise ModelDirError(f"'{self.path}' is not a Phaze model folder ({self.OPTIONS} "
                                f"format {payload.get('format')!r})")
        saved = {k: v for k, v in payload.get("options", {}).items() if k in OPTION_FIELDS}
        # Ranges were checked when the folder was made; an imported faceswap model may hold
        # values outside Phaze's slider ranges, which faceswap itself accepts.
        return options_from_mapping(saved, enforce_range=False)

    # --- framing (framing.json) ---------------------------------------------------------------
    def has_framing(self) -> bool:
        return self.framing_file.is_file()

    def read_framing(self) -> Framing:
        """The saved framing, or the defaults for a folder saved before framing existed."""
        path = self.framing_file
        if not path.is_file():
            return Framing()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return Framing.from_dict({name: raw[name] for name in FRAMING_FIELDS if name in raw})
        except (OSError, ValueError, TypeError, ConfigError) as error:
            raise ModelDirError(f"'{path}' is not a valid framing file: {error}") from None

    def write_framing(self, framing: Framing, **extra) -> None:
        """Save `framing` plus JSON-ready `extra` keys (e.g. where an import came from)."""
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write(self.framing_file, json.dumps({**framing.to_dict(), **extra}, indent=2))

    # --- previews -----------------------------------------------------------------------------
    def write_preview(self, iteration: int, png: bytes) -> Path:
        """Save as previews/preview_<iteration>.png and as preview.png (the latest); a viewer
        never sees a half-written file. Returns the numbered one."""
        self.previews.mkdir(parents=True, exist_ok=True)
        path = atomic_write(self.previews / f"preview_{iteration:08d}.png", png, DataError)
        atomic_write(self.preview, png, DataError)
        return path
