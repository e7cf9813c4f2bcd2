"""Import a faceswap Phaze-A model folder as a new Phaze model folder (all or nothing)."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from phaze.storage.checkpoint import TrainingState, save_checkpoint, write_marker
from phaze.errors import ConfigError, ModelDirError
from phaze.importers.faceswap_keras import read_faceswap_model
from phaze.faces.framing import Framing
from phaze.importers.faceswap_weights import map_weights
from phaze.storage.framing_file import write_model_framing

@dataclass(frozen=True)
class ImportReport:
    model_dir: Path
    tensors: int
    parameters: int
    centering: str
    coverage: float


def import_faceswap(source: str | Path, model_dir: str | Path) -> ImportReport:
    """Read `source` (faceswap model folder), build the same design, write `model_dir`.

    Every weight is mapped and checked before anything is written; the folder is assembled
    under a temporary name beside `model_dir` and renamed into place, so a failed import
    leaves nothing behind. Centering and coverage go in the model's framing record
    (`phaze.storage.framing_file`), which swap, convert and training read.
    """
    from phaze.model.phaze_a import build_model

    model_dir = Path(model_dir)
    if model_dir.exists() and (not model_dir.is_dir() or any(model_dir.iterdir())):
        raise ModelDirError(f"'{model_dir}' already exists and is not empty: choose a new "
                            "--model-dir")
    faceswap = read_faceswap_model(source)
    try:   # faceswap and Phaze both keep coverage in percent
        framing = Framing(faceswap.centering, faceswap.coverage)
    except ConfigError as error:
        raise ModelDirError(f"'{source}': its state file's framing is unusable: "
                            f"{error}") from None
    model = build_model(faceswap.options)
    weights = map_weights(model, faceswap.layers)
    model.load_state_dict(weights)
    temp = model_dir.with_name(model_dir.name + ".importing")
    shutil.rmtree(temp, ignore_errors=True)
    try:
        write_marker(temp, faceswap.options)
        write_model_framing(temp, framing,
                            imported_from={"tool": "faceswap",
                                           "path": str(Path(source).resolve())})
        save_checkpoint(temp, dict(model.state_dict()), TrainingState())
        if model_dir.exists():
            model_dir.rmdir()
        os.replace(temp, model_dir)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    parameters = sum(p.numel() for p in model.parameters())
    return ImportReport(model_dir, len(weights), parameters, faceswap.centering,
                        faceswap.coverage)
