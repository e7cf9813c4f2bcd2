"""Export one swap direction of a model as an ONNX graph, and check it against PyTorch."""
from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from phaze.errors import ConfigError
from phaze.export import DEFAULT_OPSET, EXPORTERS
from phaze.export.common import (DEFAULT_ATOL, ExportReport, eval_mode, import_checkers,
                                 import_module, quiet_torchscript_export)
from phaze.model.phaze_a import PhazeA
from phaze.sides import target_side

logger = logging.getLogger(__name__)

INPUT_NAME = "face"
OUTPUT_NAMES = ("swapped", "mask")
BATCH_AXIS = "batch"
# What each exporter supports in torch 2.13 (torchscript stops at 20; dynamo starts at 18 and
# otherwise falls back to 18 with a failed down-conversion).
OPSET_RANGES = {"torchscript": (13, 20), "dynamo": (18, 23)}
# Protobuf caps one file at 2 GiB; bigger graphs keep their weights in a side file.
EXTERNAL_DATA_BYTES = 1_800_000_000
# An even example batch: a batch of 1 could be specialised into the graph as a constant.
TRACE_BATCH = 2


class SwapGraph(nn.Module):
    """A single-input, single-direction view of a PhazeA model: face → swapped(, mask)."""

    def __init__(self, model: PhazeA, direction: str) -> None:
        super().__init__()
        self.model = model
        self.side = target_side(direction)

    def forward(self, face: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # (N, 3, S, S) [0, 1] RGB → (N, 3, R, R) face (, (N, 1, R, R) mask), both [0, 1]
        return self.model.side_forward(face, self.side).tensors()


def output_names(model: PhazeA) -> tuple[str, ...]:
    return OUTPUT_NAMES if model.options.learn_mask else OUTPUT_NAMES[:1]


def resolve_exporter(exporter: str) -> str:
    """'auto' → the torch.export-based exporter when onnxscript is installed, else TorchScript."""
    EXPORTERS.check(exporter)
    has_onnxscript = importlib.util.find_spec("onnxscript") is not None
    if exporter == "dynamo" and not has_onnxscript:
        raise ConfigError("exporter 'dynamo' needs the onnxscript package (pip install "
                          "onnxscript), or use --exporter torchscript")
    if exporter == "auto":
        return "dynamo" if has_onnxscript else "torchscript"
    return exporter


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
    with quiet_torchscript_export():
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
    onnx = import_module("onnx")
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
    import_module("onnx")  # both exporters need it; fail before the slow part
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    first = next(model.parameters())
    size = model.input_size
    example = torch.rand(TRACE_BATCH, 3, size, size, device=first.device, dtype=first.dtype)
    names = output_names(model)
    with eval_mode(graph):
        _run_exporter(graph, example, path, chosen, opset, names)
    logger.debug("exported %s (%s exporter, opset %d)", path, chosen, opset)
    return ExportReport(path, direction, chosen, opset, size, model.output_size, names)


# --- verification -----------------------------------------------------------------------------
def verify_onnx(path: str | Path, model: PhazeA, direction: str = "a-to-b",
                batch_sizes: Sequence[int] = (1, 3), atol: float = DEFAULT_ATOL) -> float:
    """Check the graph with onnx.checker, run it in ONNX Runtime at several batch sizes and
    return the largest absolute difference from PyTorch; above `atol` is an error."""
    onnx, onnxruntime = import_checkers()
    onnx.checker.check_model(str(path))  # the path form also handles external weight files
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    graph = SwapGraph(model, direction)
    size, worst = model.input_size, 0.0
    generator = torch.Generator().manual_seed(0)
    with eval_mode(graph), torch.inference_mode():
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


