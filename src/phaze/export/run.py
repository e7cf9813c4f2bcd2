"""`phaze export`: load a model folder, write one swap direction as ONNX or DeepFaceLive `.dfm`,
record the model's framing in the file, and (by default) check it against PyTorch."""
from __future__ import annotations

from pathlib import Path

from phaze.storage.checkpoint import load_model_dir
from phaze.errors import ConfigError
from phaze.export import FORMATS
from phaze.export.common import (DEFAULT_ATOL, ExportReport, check_output_outside_model,
                                 import_checkers, stamp_framing)
from phaze.export.dfm import DFM_OPSET, DFM_OUTPUTS, export_dfm, verify_dfm
from phaze.export.onnx import DEFAULT_OPSET, check_opset, export_onnx, resolve_exporter, verify_onnx
from phaze.io.images import removed_on_failure
from phaze.model.phaze_a import PhazeA
from phaze.storage.framing_file import read_model_framing
from phaze.sides import target_side


def export_model_dir(model_dir: str | Path, output: str | Path, direction: str = "a-to-b",
                     file_format: str = "onnx", exporter: str = "auto",
                     opset: int = DEFAULT_OPSET, verify: bool = True) -> ExportReport:
    """Load a saved model on the CPU, export one direction and (by default) verify it."""
    FORMATS.check(file_format)
    target_side(direction)
    check_opset(opset, resolve_exporter(exporter))
    check_output_outside_model(model_dir, output)
    if verify:
        import_checkers()  # fail before the slow part, not after it
    model, _ = load_model_dir(model_dir, "cpu")
    with removed_on_failure(Path(output)):   # no half-written graph on a full disk
        if file_format == "dfm":
            report = ExportReport(export_dfm(model, output, direction), direction,
                                  "torchscript", DFM_OPSET, model.input_size, model.input_size,
                                  DFM_OUTPUTS)
        else:
            report = export_onnx(model, output, direction, exporter, opset)
        # Both files are ONNX: a runtime reads how to crop faces from the same metadata keys.
        stamp_framing(report.path, read_model_framing(model_dir))
    if verify:
        report.max_abs_diff = _verify(report, model, file_format)
    return report


def _verify(report: ExportReport, model: PhazeA, file_format: str) -> float:
    if file_format == "onnx":
        return verify_onnx(report.path, model, report.direction)
    worst = verify_dfm(report.path, model, report.direction)
    if worst > DEFAULT_ATOL:
        raise ConfigError(f"the exported graph '{report.path}' differs from PyTorch by "
                          f"{worst:.2e} (allowed {DEFAULT_ATOL:.0e})")
    return worst
