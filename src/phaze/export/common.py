"""What every export shares: the report, eval mode, quiet tracing, optional packages, framing
metadata, and the rule that an export never overwrites the model folder's own files."""
from __future__ import annotations

import contextlib
import importlib
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from phaze.errors import ConfigError
from phaze.faces.framing import Framing

# A quarter of one uint8 step of the [0, 1] outputs.
DEFAULT_ATOL = 1e-3
FRAMING_KEY_PREFIX = "phaze."


@dataclass
class ExportReport:
    """What was written and how: the graph file, its exporter and opset, the checked error."""

    path: Path
    direction: str
    exporter: str
    opset: int
    input_size: int
    output_size: int
    output_names: tuple[str, ...]
    max_abs_diff: float | None = None


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode (no noise, no dropout) for the export, then the caller's mode back."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


@contextlib.contextmanager
def quiet_torchscript_export() -> Iterator[None]:
    """Hide warnings that are expected here and would only alarm a user.

    The TorchScript exporter announces its deprecation, and the tracer flags the Python ints
    of the "same"-padding arithmetic. Those depend only on the fixed image size, never on the
    (dynamic) batch size, so freezing them into the graph is correct.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message=re.escape("You are using the legacy TorchScript"))
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message=re.escape("The feature will be removed"))
        yield



def stamp_framing(path: Path, framing: Framing) -> None:
    """Record how the model frames faces (centering, coverage %, vertical offset %) in the ONNX
    file's metadata (`phaze.centering`, ...), so a runtime can crop its faces as training did."""
    onnx = import_module("onnx")
    model = onnx.load(str(path), load_external_data=False)  # external weights stay untouched
    for name, value in framing.to_dict().items():
        entry = model.metadata_props.add()
        entry.key, entry.value = FRAMING_KEY_PREFIX + name, str(value)
    onnx.save(model, str(path))


def import_module(name: str, why: str = "exporting to ONNX"):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ConfigError(f"{why} needs the {name} package (pip install "
                          "'phaze[export]')") from None


def import_checkers():
    why = "verifying an export (skip with --no-verify)"
    return import_module("onnx", why), import_module("onnxruntime", why)


# --- a model folder ---------------------------------------------------------------------------
def check_output_outside_model(model_dir: str | Path, output: str | Path) -> None:
    """ConfigError when `output` would overwrite a file the model folder itself needs (its
    options, framing, checkpoints, snapshots); other files in the folder are the user's."""
    from phaze.storage.folder import ModelFolder

    folder, target = Path(model_dir).resolve(), Path(output).resolve()
    if not target.is_relative_to(folder):
        return
    first = target.relative_to(folder).parts[0]
    if first in ModelFolder.own_names():
        raise ConfigError(f"output '{output}' would overwrite the model's own '{first}' in "
                          f"'{model_dir}': choose another file name")
