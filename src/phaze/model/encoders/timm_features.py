"""timm networks as feature backbones, with the fixes that make them match Keras."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from phaze.model.encoders.timm_compat import import_timm

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class FixedNormalise(nn.Module):
    """(x − mean) / std with constants, not weights (ConvNeXt's built-in input normalisation).

    Plain floats rather than buffers: Keras counts no weights here, and parameter counters
    that add up every buffer then agree with it.
    """

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.mean, self.std = tuple(mean), tuple(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.as_tensor(self.mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        std = torch.as_tensor(self.std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        return (x - mean) / std

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class KerasEfficientNetInput(nn.Module):
    """EfficientNet-v1's own input layers in Keras: ÷255, then a Normalization layer.

    Its mean/variance/count are stored (7 non-trainable values): identity
    until ImageNet weights are loaded, then ImageNet statistics.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(3))
        self.register_buffer("variance", torch.ones(3))
        self.register_buffer("count", torch.zeros(()))

    def use_imagenet_statistics(self) -> None:
        with torch.no_grad():
            self.mean.copy_(torch.tensor(IMAGENET_MEAN))
            self.variance.copy_(torch.tensor(IMAGENET_STD) ** 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        std = self.variance.sqrt().clamp_min(1e-7).view(1, 3, 1, 1)
        return (x / 255.0 - self.mean.view(1, 3, 1, 1)) / std


class TimmFeatures(nn.Module):
    """A timm network without classifier or pooling: (N, 3, S, S) → (N, C, H, W) or (N, E).

    Weight files made for the bare timm model load into `net` (the loader adds the prefix).
    `optional_weight_keys` are tensors such files lack by design (biases added to match Keras).
    """

    def __init__(self, net: nn.Module, preprocess: nn.Module | None = None,
                 nhwc_output: bool = False) -> None:
        super().__init__()
        self.preprocess = preprocess if preprocess is not None else nn.Identity()
        self.net = net
        self.nhwc_output = nhwc_output
        self.optional_weight_keys: set[str] = set()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(self.preprocess(x))
        return y.permute(0, 3, 1, 2) if self.nhwc_output else y   # (N,H,W,C) → (N,C,H,W)

    def weights_loaded(self, loaded_keys: set[str]) -> None:
        """Called by the weights loader: fill in input statistics the file did not carry."""
        if (isinstance(self.preprocess, KerasEfficientNetInput)
                and "preprocess.mean" not in loaded_keys):
            self.preprocess.use_imagenet_statistics()


def create_timm(name: str, keep_pooling: bool = False, **kwargs) -> nn.Module:
    """A timm model without classifier (and without global pooling unless `keep_pooling`).

    Never downloads: weights come only from local files (phaze.model.encoders.weights).
    """
    timm = import_timm()
    if not keep_pooling:
        kwargs["global_pool"] = ""
    return timm.create_model(name, pretrained=False, num_classes=0, **kwargs)


def add_conv_biases(net: nn.Module, select: Callable[[str], bool] = lambda name: True
                    ) -> set[str]:
    """Give bias-free convolutions a zero bias (Keras' ResNets have them); returns their keys.

    Zero biases leave the function unchanged, so timm's pretrained files (which lack them)
    still load and behave as upstream.
    """
    added = set()
    for name, module in net.named_modules():
        if isinstance(module, nn.Conv2d) and module.bias is None and select(name):
            weight = module.weight
            module.bias = nn.Parameter(torch.zeros(weight.shape[0], device=weight.device,
                                                   dtype=weight.dtype))
            added.add(f"{name}.bias")
    return added


def drop_batchnorm_scale(net: nn.Module) -> None:
    """Turn every batch-norm γ into a fixed buffer, like Keras' `BatchNormalization(scale=False)`.

    The key stays `weight`, so pretrained γ values from timm files still load (as constants).
    """
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine:
            scale = module.weight.detach().clone()
            del module.weight
            module.register_buffer("weight", scale)


def set_batchnorm_eps(net: nn.Module, eps: float) -> nn.Module:
    """Give every batch norm Keras' epsilon, where a Keras application uses another than timm."""
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eps = eps
    return net
