"""MobileNet v1/v2/v3 from timm, with the `mobilenet_*` options applied (faceswap defect 12, docs/faceswap-differences.md)."""
from __future__ import annotations

import importlib
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.errors import ConfigError
from phaze.model.encoders.timm_compat import INSTALL_HINT, import_timm
from phaze.model.encoders.timm_features import TimmFeatures

_TF_BATCHNORM_EPS = 1e-3   # Keras' BatchNormalization epsilon, used by timm's tf_* ports


def _generator(module: str, name: str) -> Callable[..., nn.Module]:
    """timm's width-aware model generator; timm's named entry points fix the width at 1.0."""
    import_timm()
    function = getattr(importlib.import_module(f"timm.models.{module}"), name, None)
    if function is None:
        raise ConfigError(f"the installed timm has no timm.models.{module}.{name}, which the "
                          f"MobileNet encoders need: {INSTALL_HINT}")
    return function


def build_mobilenet_v1(opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    """Keras MobileNet: `mobilenet_width` is alpha, `mobilenet_depth` the depthwise multiplier.

    `mobilenet_dropout` only reaches a classifier head, which Phaze-A never builds (faceswap defect 13, docs/faceswap-differences.md).
    """
    make = _generator("efficientnet", "_gen_mobilenet_v1")
    # Keras' epsilon and TF "same" padding (the stride-2 stem pads only after, as in Keras)
    net = make("mobilenetv1_100", opts.mobilenet_width, num_classes=0, global_pool="",
               bn_eps=_TF_BATCHNORM_EPS, pad_type="same")
    # v1 has only depthwise-separable blocks (conv_dw → bn1 → conv_pw → bn2)
    for block in net.blocks.modules():
        if hasattr(block, "conv_dw") and hasattr(block, "conv_pw"):
            if opts.mobilenet_depth != 1:
                _widen_depthwise(block, opts.mobilenet_depth)
            if block.conv_dw.stride == (2, 2):
                block.conv_dw = BottomRightPadConv2d.replacing(block.conv_dw)
    return TimmFeatures(net)


class BottomRightPadConv2d(nn.Conv2d):
    """Keras MobileNet's stride-2 depthwise conv: pad one row/column after, then 'valid'.

    Odd sizes then round down (7 → 3), where symmetric or TF "same" padding gives 4.
    """

    @classmethod
    def replacing(cls, conv: nn.Conv2d) -> "BottomRightPadConv2d":
        new = cls(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                  groups=conv.groups, bias=conv.bias is not None)
        new.weight, new.bias = conv.weight, conv.bias
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (0, 1, 0, 1)))


def _widen_depthwise(block: nn.Module, multiplier: int) -> None:
    """Give a depthwise-separable block `multiplier` depthwise outputs per input channel."""
    from timm.layers import BatchNormAct2d

    conv, norm = block.conv_dw, block.bn1
    channels = conv.in_channels * multiplier
    block.conv_dw = nn.Conv2d(conv.in_channels, channels, conv.kernel_size, stride=conv.stride,
                              padding=conv.padding, groups=conv.in_channels, bias=False)
    widened = BatchNormAct2d(channels, eps=norm.eps, momentum=norm.momentum)
    widened.act, widened.drop = norm.act, norm.drop      # keep ReLU6
    block.bn1 = widened
    pointwise = block.conv_pw
    block.conv_pw = nn.Conv2d(channels, pointwise.out_channels, 1, bias=False)


def build_mobilenet_v2(opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    """Keras MobileNetV2 with `mobilenet_width` as alpha (the 1280-channel last conv included)."""
    make = _generator("efficientnet", "_gen_mobilenet_v2")
    # Keras' epsilon and TF "same" padding: its stride-2 convolutions pad only after
    return TimmFeatures(make("mobilenetv2_100", opts.mobilenet_width, num_classes=0,
                             global_pool="", bn_eps=_TF_BATCHNORM_EPS, pad_type="same"))


def build_mobilenet_v3(size_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    """Keras MobileNetV3-Large/Small without its top: width and minimalistic applied (a fix).

    timm keeps the 1280/1024-channel head convolution that Keras only builds with the
    classifier; it is removed so the output is Keras' last feature map (960/576 channels).
    """
    make = _generator("mobilenetv3", "_gen_mobilenet_v3")
    minimal = "_minimal" if opts.mobilenet_minimalistic else ""
    net = make(f"tf_mobilenetv3_{size_name}{minimal}_100", opts.mobilenet_width, num_classes=0,
               global_pool="", bn_eps=_TF_BATCHNORM_EPS, pad_type="same")
    for head_part in ("conv_head", "norm_head", "act2"):
        if hasattr(net, head_part):
            setattr(net, head_part, nn.Identity())
    return TimmFeatures(net)
