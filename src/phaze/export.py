"""Export one swap direction of a model as an ONNX graph, and check it against PyTorch."""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from phaze.checkpoint import load_model_dir
from phaze.errors import ConfigError
from phaze.io.images import removed_on_failure
from phaze.faces.framing import Framing
from phaze.model.phaze_a import PhazeA
from phaze.model_framing import read_model_framing
from phaze.sides import target_side

logger = logging.getLogger(__name__)

FORMATS = ("onnx", "dfm")   # dfm: DeepFaceLive, see formats/dfm.py
EXPORTERS = ("auto", "dynamo", "torchscript")
INPUT_NAME = "face"
OUTPUT_NAMES = ("swapped", "mask")
BATCH_AXIS = "batch"
# Opset 18 is the oldest both torch exporters emit natively; ONNX Runtime >= 1.14 runs it.
DEFAULT_OPSET = 18
# What each exporter supports in torch 2.13 (torchscript stops at 20; dynamo starts at 18 and
# otherwise falls back to 18 with a failed down-conversion).
OPSET_RANGES = {"torchscript": (13, 20), "dynamo": (18, 23)}
# Protobuf caps one file at 2 GiB; bigger graphs keep their weights in a side file.
EXTERNAL_DATA_BYTES = 1_800_000_000
# A quarter of one uint8 step of the [0, 1] outputs.
DEFAULT_ATOL = 1e-3
# An even example batch: a batch of 1 could be specialised into the graph as a constant.
TRACE_BATCH = 2


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


class SwapGraph(nn.Module):
    """A single-input, single-direction view of a PhazeA model: face → swapped(, mask)."""

    def __init__(self, model: PhazeA, direction: str) -> None:
        super().__init__()
        self.model = model
        self.side = target_side(direction)

    def forward(self, face: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # (N, 3, S, S) [0, 1] RGB → (N, 3, R, R) face (, (N, 1, R, R) mask), both [0, 1]
        return tuple(self.model.side_forward(face, self.side))


def output_names(model: PhazeA) -> tuple[str, ...]:
    return OUTPUT_NAMES if model.options.learn_mask else OUTPUT_NAMES[:1]


def resolve_exporter(exporter: str) -> str:
    """'auto' → the torch.export-based exporter when onnxscript is installed, else TorchScript."""
    if exporter not in EXPORTERS:
        raise ConfigError(f"exporter {exporter!r} is invalid: expected one of: "
                          + ", ".join(EXPORTERS))
    has_onnxscript = importlib.util.find_spec("onnxscript") is not None
    if exporter == "dynamo" and not has_onnxscript:
        raise ConfigError("exporter 'dynamo' needs the onnxscript package (pip install "
                          "onnxscript), or use --exporter torchscript")
    if exporter == "auto":
        return "dynamo" if has_onnxscript else "torchscript"
    return exporter


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode (no noise, no dropout) for the export, then the caller's mode back."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


@contextlib.contextmanager
def _quiet_torchscript_export() -> Iterator[None]:
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


def check_opset(opset: int, exporter: str) -> int:
    low, high = OPSET_RANGES[exporter]
    if isinstance(opset, bool) or not isinstance(opset, int) or not low <= opset <= high:
        raise ConfigError(f"opset {opset!r} is invalid for the {exporter} exporter: expected "
                          f"an integer from {low} to {high}")
    return opset


def _weight_bytes(model: nn.Module) -> int:
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def _run_exporter(graph: SwapGraph, example: torch.Tensor, path: Path, exporter: str,
                  opset: int, names: tuple[str, ...]) -> None:
    if exporter == "dynamo":
        batch = torch.export.Dim(BATCH_AXIS, min=1)
        torch.onnx.export(graph, (example,), str(path), dynamo=True, verbose=False,
                          input_names=[INPUT_NAME], output_names=list(names),
                          dynamic_shapes=({0: batch},), opset_version=opset,
                          external_data=_weight_bytes(graph) > EXTERNAL_DATA_BYTES)
        return
    # The TorchScript exporter switches to an external weights file by itself above 2 GiB.
    with _quiet_torchscript_export():
        torch.onnx.export(graph, (example,), str(path), dynamo=False,
                          input_names=[INPUT_NAME], output_names=list(names),
                          dynamic_axes={n: {0: BATCH_AXIS} for n in (INPUT_NAME, *names)},
                          opset_version=opset, do_constant_folding=True)
    _declare_output_shapes(path, graph.model.output_size)


def _declare_output_shapes(path: Path, output_size: int) -> None:
    """Write the true (batch, C, R, R) output shapes into a TorchScript-exported graph.

    Its shape inference mislabels the outputs' height as the batch axis and the width as an
    unknown, which would mislead runtimes that trust declared shapes (e.g. TensorRT).
    """
    onnx = _import_module("onnx")
    model = onnx.load(str(path), load_external_data=False)  # external weights stay untouched
    channels = {"swapped": 3, "mask": 1}
    for value in model.graph.output:
        dims = value.type.tensor_type.shape.dim
        for dim, size in zip(dims[1:], (channels[value.name], output_size, output_size)):
            dim.Clear()
            dim.dim_value = size
    onnx.save(model, str(path))


def export_onnx(model: PhazeA, output: str | Path, direction: str = "a-to-b",
                exporter: str = "auto", opset: int = DEFAULT_OPSET) -> ExportReport:
    """Write the `direction` inference graph of `model` to `output`.

    The graph computes in the model's dtype (float32 for models from `load_model_dir`).
    """
    graph = SwapGraph(model, direction)
    chosen = resolve_exporter(exporter)
    check_opset(opset, chosen)
    _import_module("onnx")  # both exporters need it; fail before the slow part
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    first = next(model.parameters())
    size = model.input_size
    example = torch.rand(TRACE_BATCH, 3, size, size, device=first.device, dtype=first.dtype)
    names = output_names(model)
    with _eval_mode(graph):
        _run_exporter(graph, example, path, chosen, opset, names)
    logger.debug("exported %s (%s exporter, opset %d)", path, chosen, opset)
    return ExportReport(path, direction, chosen, opset, size, model.output_size, names)


FRAMING_KEY_PREFIX = "phaze."


def stamp_framing(path: Path, framing: Framing) -> None:
    """Record how the model frames faces (centering, coverage %, vertical offset %) in the ONNX
    file's metadata (`phaze.centering`, ...), so a runtime can crop its faces as training did."""
    onnx = _import_module("onnx")
    model = onnx.load(str(path), load_external_data=False)  # external weights stay untouched
    for name, value in framing.to_dict().items():
        entry = model.metadata_props.add()
        entry.key, entry.value = FRAMING_KEY_PREFIX + name, str(value)
    onnx.save(model, str(path))


# --- verification -----------------------------------------------------------------------------
def _import_module(name: str, why: str = "exporting to ONNX"):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ConfigError(f"{why} needs the {name} package (pip install "
                          "'phaze[export]')") from None


def _import_checkers():
    why = "verifying an export (skip with --no-verify)"
    return _import_module("onnx", why), _import_module("onnxruntime", why)


def verify_onnx(path: str | Path, model: PhazeA, direction: str = "a-to-b",
                batch_sizes: Sequence[int] = (1, 3), atol: float = DEFAULT_ATOL) -> float:
    """Check the graph with onnx.checker, run it in ONNX Runtime at several batch sizes and
    return the largest absolute difference from PyTorch; above `atol` is an error."""
    onnx, onnxruntime = _import_checkers()
    onnx.checker.check_model(str(path))  # the path form also handles external weight files
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    graph = SwapGraph(model, direction)
    size, worst = model.input_size, 0.0
    generator = torch.Generator().manual_seed(0)
    with _eval_mode(graph), torch.inference_mode():
        for batch in batch_sizes:
            faces = torch.rand(batch, 3, size, size, generator=generator)
            expected = graph(faces.to(next(model.parameters()).device))
            got = session.run(None, {INPUT_NAME: faces.numpy()})
            for ours, theirs in zip(expected, got, strict=True):
                diff = (ours.float().cpu() - torch.from_numpy(theirs)).abs().max().item()
                worst = max(worst, diff)
    if worst > atol:
        raise ConfigError(f"the exported graph '{path}' differs from PyTorch by {worst:.2e} "
                          f"(allowed {atol:.0e}); try the other --exporter")
    return worst


# --- a model folder ---------------------------------------------------------------------------
def check_output_outside_model(model_dir: str | Path, output: str | Path) -> None:
    """ConfigError when `output` would overwrite a file the model folder itself needs (its
    options, framing, checkpoints, snapshots); other files in the folder are the user's."""
    from phaze.checkpoint import BACKUP, LATEST, MARKER, TEMP
    from phaze.model_framing import FRAMING_FILE

    folder, target = Path(model_dir).resolve(), Path(output).resolve()
    if not target.is_relative_to(folder):
        return
    first = target.relative_to(folder).parts[0]
    if first in (MARKER, FRAMING_FILE, LATEST, BACKUP, TEMP, "snapshots"):
        raise ConfigError(f"output '{output}' would overwrite the model's own '{first}' in "
                          f"'{model_dir}': choose another file name")


def export_model_dir(model_dir: str | Path, output: str | Path, direction: str = "a-to-b",
                     file_format: str = "onnx", exporter: str = "auto",
                     opset: int = DEFAULT_OPSET, verify: bool = True) -> ExportReport:
    """Load a saved model on the CPU, export one direction and (by default) verify it."""
    if file_format not in FORMATS:
        raise ConfigError(f"format {file_format!r} is invalid: expected one of: "
                          + ", ".join(FORMATS))
    target_side(direction)
    check_opset(opset, resolve_exporter(exporter))
    check_output_outside_model(model_dir, output)
    if verify:
        _import_checkers()  # fail before the slow part, not after it
    model, _ = load_model_dir(model_dir, "cpu")
    if file_format == "dfm":
        return _export_dfm(model, output, direction, verify)
    with removed_on_failure(Path(output)):   # no half-written graph on a full disk
        report = export_onnx(model, output, direction, exporter, opset)
        stamp_framing(report.path, read_model_framing(model_dir))
    if verify:
        report.max_abs_diff = verify_onnx(report.path, model, direction)
    return report


def _export_dfm(model: PhazeA, output: str | Path, direction: str,
                verify: bool) -> ExportReport:
    from phaze.formats.dfm import DFM_OPSET, DFM_OUTPUTS, export_dfm, verify_dfm

    path = export_dfm(model, output, direction)
    report = ExportReport(path, direction, "torchscript", DFM_OPSET, model.input_size,
                          model.input_size, DFM_OUTPUTS)
    if verify:
        report.max_abs_diff = verify_dfm(path, model, direction)
        if report.max_abs_diff > DEFAULT_ATOL:
            raise ConfigError(f"the exported graph '{path}' differs from PyTorch by "
                              f"{report.max_abs_diff:.2e} (allowed {DEFAULT_ATOL:.0e})")
    return report
