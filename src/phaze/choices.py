"""Option choices the command line shows in --help, kept free of torch/OpenCV imports.

The modules that act on them (phaze.io.devices, phaze.export) hold the same values; a test checks
they agree, so `phaze --help` can list them without importing either.
"""
from __future__ import annotations

DEVICES_DOC = "auto, cpu, cuda or cuda:<index>"
EXPORT_FORMATS = ("onnx", "dfm")
EXPORTERS = ("auto", "dynamo", "torchscript")
DEFAULT_OPSET = 18
