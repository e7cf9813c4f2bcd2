"""DeepFaceLive `.dfm` export: an ONNX graph with DeepFaceLive's input/output contract.

DeepFaceLive feeds `in_face:0`, float32 NHWC (1, H, W, 3), BGR in 0..1, H and W static (it
reads them from the graph), and reads three outputs by position: the destination face's mask,
the swapped ("celeb") face and the swapped face's mask, all NHWC 0..1.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from phaze.export.common import eval_mode, import_checkers, import_module, quiet_torchscript_export
from phaze.io.images import removed_on_failure
from phaze.model.phaze_a import PhazeA
from phaze.sides import target_side

DFM_INPUT = "in_face:0"
DFM_OUTPUTS = ("out_face_mask:0", "out_celeb_face:0", "out_celeb_face_mask:0")
DFM_OPSET = 17


class DFMGraph(nn.Module):
    """in_face (1, S, S, 3) BGR → (dst mask, swapped face BGR, swapped mask), NHWC, S × S.

    The destination mask is the input face's mask through its own side; the swapped face and
    mask go through the other side. A model without `learn_mask` has no masks, so both masks
    are all ones (the whole aligned square). Outputs are resized to the input size when the
    model's output size differs, because DeepFaceLive pastes them back at the input's size.
    """

    def __init__(self, model: PhazeA, direction: str) -> None:
        super().__init__()
        self.model = model
        self.side = target_side(direction)
        self.own_side = "a" if self.side == "b" else "b"

    def _fit(self, x: torch.Tensor, size: int) -> torch.Tensor:
        if x.shape[-1] == size:
            return x
        return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)

    def forward(self, in_face: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        size = in_face.shape[1]
        rgb = in_face.permute(0, 3, 1, 2).flip(1)        # NHWC BGR → NCHW RGB, Phaze's input
        swapped = self.model.side_forward(rgb, self.side)
        face = self._fit(swapped[0], size)
        if self.model.options.learn_mask:
            celeb_mask = self._fit(swapped[1], size)
            dst_mask = self._fit(self.model.side_forward(rgb, self.own_side)[1], size)
        else:
            celeb_mask = dst_mask = torch.ones_like(face[:, :1])
        nhwc = lambda x: x.permute(0, 2, 3, 1)           # noqa: E731
        return nhwc(dst_mask), nhwc(face.flip(1)), nhwc(celeb_mask)


def export_dfm(model: PhazeA, output: str | Path, direction: str = "a-to-b",
               opset: int = DFM_OPSET) -> Path:
    """Write `model`'s `direction` swap as a DeepFaceLive `.dfm` (ONNX) file."""
    import_module("onnx")
    graph = DFMGraph(model, direction)
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    size = model.input_size
    example = torch.rand(1, size, size, 3)
    with eval_mode(graph), quiet_torchscript_export(), removed_on_failure(temp):
        # Static shapes throughout: DeepFaceLive reads the face size from the input's shape.
        torch.onnx.export(graph, (example,), str(temp), dynamo=False, input_names=[DFM_INPUT],
                          output_names=list(DFM_OUTPUTS), opset_version=opset,
                          do_constant_folding=True)
        _declare_static_outputs(temp, size)
        temp.replace(path)
    return path


def _declare_static_outputs(path: Path, size: int) -> None:
    """Write the true static (1, S, S, C) output shapes (TorchScript leaves some unknown)."""
    onnx = import_module("onnx")
    graph = onnx.load(str(path))
    for value, channels in zip(graph.graph.output, (1, 3, 1)):
        dims = value.type.tensor_type.shape.dim
        while len(dims) < 4:
            dims.add()
        for dim, extent in zip(dims, (1, size, size, channels)):
            dim.Clear()
            dim.dim_value = extent
    onnx.save(graph, str(path))


def verify_dfm(path: str | Path, model: PhazeA, direction: str = "a-to-b") -> float:
    """Largest |ONNX Runtime − PyTorch| over the three outputs for a random BGR face."""
    onnx, onnxruntime = import_checkers()
    onnx.checker.check_model(str(path))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    graph = DFMGraph(model, direction)
    size = model.input_size
    face = torch.rand(1, size, size, 3, generator=torch.Generator().manual_seed(0))
    with eval_mode(graph), torch.inference_mode():
        expected = graph(face)
    got = session.run(None, {DFM_INPUT: face.numpy()})
    return max((ours - torch.from_numpy(theirs)).abs().max().item()
               for ours, theirs in zip(expected, got, strict=True))
