"""The mask model folder: mask_model.json (format version, network options) + weights.safetensors.

No pickle: the JSON rebuilds the network, safetensors holds its tensors. Both files are written
to temp names and renamed (weights first), so a folder is either the old model or the new one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from phaze.errors import ConfigError, ModelDirError
from phaze.io.atomic import atomic_write
from phaze.io.images import write_bytes_atomic
from phaze.masks.network import Segmenter, SegmenterConfig

FORMAT = "phaze-mask-model"
FORMAT_VERSION = 1
OPTIONS_FILE = "mask_model.json"
WEIGHTS_FILE = "weights.safetensors"


@dataclass(frozen=True)
class MaskModelInfo:
    network: SegmenterConfig
    trained_steps: int = 0
    trained_faces: int = 0


def is_mask_model(folder: Path) -> bool:
    return (Path(folder) / OPTIONS_FILE).is_file()


def save_mask_model(folder: Path, model: Segmenter, info: MaskModelInfo) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in
             model.state_dict().items()}
    atomic_write(folder / WEIGHTS_FILE, lambda temp: save_file(state, str(temp)))
    options: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION,
                               "network": info.network.to_dict(),
                               "trained_steps": info.trained_steps,
                               "trained_faces": info.trained_faces}
    write_bytes_atomic(folder / OPTIONS_FILE, (json.dumps(options, indent=2) + "\n").encode())


def read_mask_info(folder: Path) -> MaskModelInfo:
    """The folder's options, or one line saying why it is not a mask model this Phaze reads."""
    path = Path(folder) / OPTIONS_FILE
    if not path.is_file():
        raise ModelDirError(f"mask model folder '{folder}' has no {OPTIONS_FILE}: train one "
                            "with `phaze mask train --faces DIR --model-dir FOLDER`")
    try:
        options = json.loads(path.read_text(encoding="utf-8"))
        kind, version = options.get("format"), options.get("format_version")
    except (OSError, ValueError, AttributeError) as error:
        raise ModelDirError(f"mask model file '{path}' cannot be read: {error}") from None
    if kind != FORMAT:
        raise ModelDirError(f"'{path}' is not a Phaze mask model (format {kind!r}, expected "
                            f"{FORMAT!r})")
    if version != FORMAT_VERSION:
        raise ModelDirError(f"mask model '{folder}' has format version {version!r}; this Phaze "
                            f"reads version {FORMAT_VERSION}: retrain it with `phaze mask train`")
    try:
        network = SegmenterConfig.from_dict(options["network"])
    except (KeyError, TypeError, ValueError, ConfigError) as error:
        raise ModelDirError(f"mask model file '{path}' has invalid network options: "
                            f"{error}") from None
    return MaskModelInfo(network, int(options.get("trained_steps", 0)),
                         int(options.get("trained_faces", 0)))


def load_mask_model(folder: Path, device: torch.device | str = "cpu") -> tuple[Segmenter,
                                                                                MaskModelInfo]:
    info = read_mask_info(folder)
    model = Segmenter(info.network)
    weights = Path(folder) / WEIGHTS_FILE
    try:
        state = load_file(str(weights))
        model.load_state_dict(state)
    except (OSError, RuntimeError, ValueError) as error:
        raise ModelDirError(f"mask model weights '{weights}' cannot be loaded: "
                            f"{str(error).splitlines()[0]}") from None
    return model.to(device).eval(), info
