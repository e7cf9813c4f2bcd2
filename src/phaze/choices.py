"""Option choices the command line shows in --help, kept free of torch/OpenCV imports.

The modules that act on them (phaze.swap, phaze.export) hold the same values; a test checks
they agree, so `phaze --help` can list them without importing either.
"""
from __future__ import annotations

SWAP_DIRECTIONS = {"a-to-b": "b", "b-to-a": "a"}
DEVICES_DOC = "auto, cpu, cuda or cuda:<index>"
EXPORT_FORMATS = ("onnx",)
EXPORTERS = ("auto", "dynamo", "torchscript")
DEFAULT_OPSET = 18
