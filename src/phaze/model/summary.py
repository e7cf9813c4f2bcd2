"""A design's summary without data: shapes, parameter counts and routes (built on `meta`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.model.phaze_a import SIDES, PhazeA, build_model

Shape = tuple[int, ...]


@dataclass
class SubmodelSummary:
    trainable: int
    non_trainable: int
    output_shape: Shape | list[Shape]


@dataclass
class ModelSummary:
    input_shape: Shape
    outputs: list[Shape]
    submodels: dict[str, SubmodelSummary]
    routes: dict[str, str]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def total_trainable(self) -> int:
        return sum(s.trainable for s in self.submodels.values())

    @property
    def total_non_trainable(self) -> int:
        return sum(s.non_trainable for s in self.submodels.values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: exactly the keys the CLI documents (shapes as (H, W, C) lists)."""
        return {
            "input_shape": list(self.input_shape),
            "outputs": [list(s) for s in self.outputs],
            "submodels": {name: {"trainable": s.trainable, "non_trainable": s.non_trainable,
                                 "output_shape": _jsonable_shape(s.output_shape)}
                          for name, s in self.submodels.items()},
            "total_trainable": self.total_trainable,
            "total_non_trainable": self.total_non_trainable,
            "routes": self.routes,
        }


def _jsonable_shape(shape: Shape | list[Shape]) -> list:
    return [list(s) for s in shape] if isinstance(shape, list) else list(shape)


def hwc(shape: torch.Size) -> Shape:
    """(N, C, H, W) → (H, W, C); (N, E) → (E,)."""
    dims = tuple(shape[1:])
    return dims[1:] + dims[:1] if len(dims) == 3 else dims


def _shapes(output: Any) -> Shape | list[Shape]:
    if isinstance(output, (list, tuple)):
        return [hwc(t.shape) for t in output if t is not None]   # a SideOutput without mask
    return hwc(output.shape)


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """(trainable, non-trainable): frozen parameters and running statistics are non-trainable.

    BatchNorm's `num_batches_tracked` counter is not a weight and is left out, so the totals
    match faceswap's (Keras) counts.
    """
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
    buffers = sum(b.numel() for name, b in module.named_buffers()
                  if not name.endswith("num_batches_tracked"))
    return trainable, frozen + buffers


def _record_output_shapes(model: PhazeA) -> dict[str, Shape | list[Shape]]:
    """Output shapes per sub-model. The encoder's is planned (Design.encoder_out), so only the
    sides' pathways run: a backbone's meta forward would be most of a summary's time."""
    encoded = torch.empty(1, *model.design.encoder_out, device="meta")
    shapes: dict[str, Shape | list[Shape]] = {"encoder": _shapes(encoded)}
    hooks = []
    for name, module in model.submodels().items():
        def hook(_module, _inputs, output, name=name):
            shapes.setdefault(name, _shapes(output))   # first call (side A) wins
        hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        outputs = [t for side in SIDES for t in model.pathway(encoded, side).tensors()]
    for handle in hooks:
        handle.remove()
    shapes["__outputs__"] = [hwc(t.shape) for t in outputs]
    return shapes


def describe_route(model: PhazeA, side: str) -> str:
    route = model.route(side)
    fc = route["fc"] if route["shared_fc"] is None else f"[{route['fc']} + {route['shared_fc']}]"
    steps = ["encoder", fc]
    if route["g_block"]:
        steps.append(f"{route['g_block']} (style: fc_gblock)")
    steps.append(route["decoder"])
    return " → ".join(steps)


def summarize(model: PhazeA) -> ModelSummary:
    """Summary of a built model (on `meta` or a real device; shapes are probed on `meta`)."""
    probe = model if _on_meta(model) else build_model(model.options, "meta")
    shapes = _record_output_shapes(probe)
    submodels = {name: SubmodelSummary(*count_parameters(module), shapes[name])
                 for name, module in model.submodels().items()}
    design = model.design
    details = {"encoder": design.encoder_spec.name, "fc_dense_widths": list(design.fc.dense_widths),
               "decoder_filters": list(design.decoder.filters),
               "upscales_in_fc": design.decoder.fc_stages}
    return ModelSummary((model.input_size, model.input_size, 3), shapes["__outputs__"],
                        submodels, {s.upper(): describe_route(model, s) for s in ("a", "b")},
                        details)


def summarize_options(options: PhazeAOptions) -> ModelSummary:
    return summarize(build_model(options, "meta"))


def _on_meta(model: nn.Module) -> bool:
    return next(model.parameters()).is_meta


def format_summary(summary: ModelSummary, title: str = "Phaze-A design") -> str:
    """A readable table for the terminal."""
    def shape_text(shape: Shape | list[Shape]) -> str:
        return ", ".join(map(str, shape)) if isinstance(shape, list) else str(shape)

    lines = [title, f"input: {summary.input_shape} per side (face_in_a, face_in_b)", "",
             f"{'sub-model':<14}{'output shape':<28}{'trainable':>14}{'non-trainable':>16}"]
    for name, sub in summary.submodels.items():
        lines.append(f"{name:<14}{shape_text(sub.output_shape):<28}"
                     f"{sub.trainable:>14,}{sub.non_trainable:>16,}")
    lines += [f"{'total':<42}{summary.total_trainable:>14,}{summary.total_non_trainable:>16,}",
              "", "outputs: " + ", ".join(map(str, summary.outputs)), "routes:"]
    lines += [f"  {side}: {route}" for side, route in summary.routes.items()]
    details = summary.details
    lines += ["", f"encoder: {details['encoder']}",
              f"FC dense widths: {details['fc_dense_widths'] or 'none (direct reshape)'}",
              f"decoder filter list: {details['decoder_filters']}"
              + _fc_upscales_note(details)]
    return "\n".join(lines)


def _fc_upscales_note(details: dict) -> str:
    in_fc, total = details["upscales_in_fc"], len(details["decoder_filters"])
    if not in_fc:
        return ""
    if in_fc == total:
        return (f" (all {total} in the FC models; the decoders keep only their output "
                "convolutions)")
    return f" (first {in_fc} in the FC models)"
