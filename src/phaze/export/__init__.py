"""Writing a trained model for other runtimes: ONNX graphs and DeepFaceLive `.dfm` files.

The choices below live here, free of torch, so `phaze export --help` can list them cheaply.
"""
from phaze.registry import Registry

FORMATS = Registry.of("format", ("onnx", "dfm"))   # dfm: DeepFaceLive
EXPORTERS = Registry.of("exporter", ("auto", "dynamo", "torchscript"))
# Opset 18 is the oldest both torch exporters emit natively; ONNX Runtime >= 1.14 runs it.
DEFAULT_OPSET = 18
