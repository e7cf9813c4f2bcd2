"""The ImageNet/CLIP backbones faceswap offers and `timm:<model>`, registered by name."""
from __future__ import annotations

from functools import lru_cache, partial
from typing import Callable

import torch.nn.functional as F
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.model.encoders.clip import CLIP_VARIANTS, build_clip
from phaze.model.encoders.mobilenet import (build_mobilenet_v1, build_mobilenet_v2,
                                            build_mobilenet_v3)
from phaze.model.encoders.nasnet import build_nasnet_mobile, keras_nasnet_layout
from phaze.model.encoders.registry import EncoderRegistry, EncoderSpec
from phaze.model.encoders.timm_any import TIMM_PREFIX, resolve_timm_encoder
from phaze.model.encoders.timm_features import (IMAGENET_MEAN, IMAGENET_STD, FixedNormalise,
                                                KerasEfficientNetInput, TimmFeatures,
                                                add_conv_biases, create_timm,
                                                drop_batchnorm_scale, set_batchnorm_eps)
from phaze.model.encoders.vgg import build_vgg


# --- builders: (options, input size) → backbone, one per family ----------------------------
def _plain(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    return TimmFeatures(create_timm(timm_name))


def _densenet(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    # Keras' DenseNets use batch-norm epsilon 1.001e-5 (timm: 1e-5)
    return TimmFeatures(set_batchnorm_eps(create_timm(timm_name), KERAS_RESNET_DENSENET_EPS))


KERAS_RESNET_DENSENET_EPS = 1.001e-5   # also Keras' ResNets


def _nasnet_large(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    return TimmFeatures(keras_nasnet_layout(create_timm(timm_name)))


def _xception(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    return TimmFeatures(keras_xception_layout(create_timm(timm_name)))


def keras_xception_layout(net: nn.Module) -> nn.Module:
    """Keras' Xception: TF "same" 3×3 stride-2 max-pools (timm pads one pixel on every side,
    which shifts the windows) and batch-norm epsilon 1e-3 (timm: 1e-5)."""
    from timm.layers.pool2d_same import MaxPool2dSame

    for block in net.modules():
        rep = getattr(block, "rep", None)
        if isinstance(rep, nn.Sequential):
            for index, module in enumerate(rep):
                if isinstance(module, nn.MaxPool2d):
                    rep[index] = MaxPool2dSame(module.kernel_size, module.stride)
    return set_batchnorm_eps(net, 1e-3)


def _convnext(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    # Keras ConvNeXt takes 0–255 and normalises inside; its final LayerNorm is
    # timm's head norm, which timm applies in forward() even without a classifier.
    scaled = (tuple(255 * m for m in IMAGENET_MEAN), tuple(255 * s for s in IMAGENET_STD))
    return TimmFeatures(create_timm(timm_name), FixedNormalise(*scaled))


def _efficientnet(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    return TimmFeatures(create_timm(timm_name), KerasEfficientNetInput())


def _no_bn_scale(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    # Keras' Inception nets use batch norm without γ (Appendix A): γ becomes a constant
    net = create_timm(timm_name)
    drop_batchnorm_scale(net)
    return TimmFeatures(net)


def _inception_v3(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    backbone = _no_bn_scale(timm_name, opts, input_size)
    keras_inception_v3_layout(backbone.net)
    return backbone


def keras_inception_v3_layout(net: nn.Module) -> nn.Module:
    """Keras' 3×3 "same" average pools leave the padding out of the mean; timm's count it.

    The pooled branch's 1×1 convolution gets its input rescaled by 9 / (cells inside the
    image), which turns timm's average into Keras' exactly.
    """
    for block in net.modules():
        if type(block).__name__ in ("InceptionA", "InceptionC", "InceptionE"):
            block.branch_pool.__class__ = _padding_free_pool_class(type(block.branch_pool))
    return net


@lru_cache(maxsize=None)
def _padding_free_pool_class(base: type) -> type:
    def forward(self, x):
        # x: timm's 3×3 stride-1 average with zero padding counted, (N, C, H, W)
        inside = F.avg_pool2d(x.new_ones((1, 1) + tuple(x.shape[2:])), 3, 1, 1)  # cells / 9
        return base.forward(self, x / inside)

    return type(f"KerasAveragePooled{base.__name__}", (base,), {"forward": forward})


def _keras_resnet(biased: Callable[[str], bool], timm_name: str, opts: PhazeAOptions,
                  input_size: int) -> TimmFeatures:
    # Keras' ResNets give convolutions biases that timm's lack (Appendix A)
    backbone = TimmFeatures(create_timm(timm_name))
    added = add_conv_biases(backbone.net, biased)
    backbone.optional_weight_keys = {f"net.{key}" for key in added}
    return backbone


def _keras_resnet_v1(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    backbone = _keras_resnet(lambda conv_name: True, timm_name, opts, input_size)
    keras_resnet_v1_layout(backbone.net)
    return backbone


def keras_resnet_v1_layout(net: nn.Module) -> nn.Module:
    """Keras' ResNet v1: a strided block strides its first 1×1 convolution (timm: the 3×3),
    and batch norms use epsilon 1.001e-5 (timm: 1e-5)."""
    for block in net.modules():
        if hasattr(block, "conv1") and hasattr(block, "conv3") and block.conv2.stride != (1, 1):
            block.conv1.stride, block.conv2.stride = block.conv2.stride, (1, 1)
    return set_batchnorm_eps(net, KERAS_RESNET_DENSENET_EPS)


def is_keras_v2_biased(conv_name: str) -> bool:
    # ResNet-v2: only the stem conv, each block's last 1×1 conv and the shortcut conv
    return conv_name.endswith(("stem.conv", ".conv3", "downsample.conv"))


_resnet_v1 = _keras_resnet_v1   # v1: every convolution has a bias
def _keras_resnet_v2(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    backbone = _keras_resnet(is_keras_v2_biased, timm_name, opts, input_size)
    keras_resnet_v2_layout(backbone.net)
    return backbone


def keras_resnet_v2_layout(net: nn.Module) -> nn.Module:
    """Keras' ResNetV2: each stage but the last strides its *last* block (shortcut: every
    second pixel of the block's input), where timm strides the first block of the next stage;
    the stem max-pool pads with zeros (on values not yet activated); epsilon 1.001e-5."""
    net.stem.pool = nn.Sequential(nn.ZeroPad2d(1), nn.MaxPool2d(3, 2))
    stages = list(net.stages)
    for index, stage in enumerate(stages):
        first, last = stage.blocks[0], stage.blocks[-1]
        if index > 0:
            first.conv2.stride = (1, 1)
            first.downsample.conv.stride = (1, 1)
        if index < len(stages) - 1:
            last.conv2.stride = (2, 2)
            last.__class__ = _subsampling_preact_class(type(last))
    return set_batchnorm_eps(net, KERAS_RESNET_DENSENET_EPS)


@lru_cache(maxsize=None)
def _subsampling_preact_class(base: type) -> type:
    """timm's PreActBottleneck with Keras' strided-block shortcut: the input, subsampled."""

    def forward(self, x):
        x_preact = self.norm1(x)
        shortcut = x[:, :, ::2, ::2] if self.downsample is None else self.downsample(x_preact)
        x = self.conv1(x_preact)
        x = self.conv2(self.norm2(x))
        x = self.conv3(self.norm3(x))
        return self.drop_path(x) + shortcut

    return type(f"KerasStrided{base.__name__}", (base,), {"forward": forward})


_resnet_v2 = _keras_resnet_v2


# --- the backbone table (docs/backbones.md) -------------------------------------------------------------
def _spec(name: str, build, default_size: int, input_range: str, weights_hint: str,
          min_size: int = 32, colour_order: str = "rgb", **extra) -> EncoderSpec:
    return EncoderSpec(name=name, build=build, default_size=default_size, min_size=min_size,
                       input_range=input_range, colour_order=colour_order,
                       has_pretrained=True, weights_hint=weights_hint, **extra)


def _timm_row(name: str, timm_name: str, family, default_size: int, input_range: str,
              min_size: int = 32, **extra) -> EncoderSpec:
    return _spec(name, partial(family, timm_name), default_size, input_range,
                 f"timm '{timm_name}' weights", min_size=min_size,
                 description=f"timm {timm_name}", **extra)


_EFFICIENTNET_SIZES = (224, 240, 260, 300, 380, 456, 528, 600)
_EFFICIENTNET_V2 = (("b0", 224), ("b1", 240), ("b2", 260), ("b3", 300), ("s", 384), ("m", 480),
                    ("l", 480))
_CONVNEXT = (("tiny", "tiny"), ("small", "small"), ("base", "base"), ("large", "large"),
             ("extra_large", "xlarge"))


def _cnn_specs() -> list[EncoderSpec]:
    specs = [_timm_row(f"convnext_{name}", f"convnext_{timm}", _convnext, 224, "byte")
             for name, timm in _CONVNEXT]
    specs += [_timm_row(f"densenet{depth}", f"densenet{depth}", _densenet, 224, "unit")
              for depth in (121, 169, 201)]
    specs += [_timm_row(f"efficientnet_b{i}", f"tf_efficientnet_b{i}", _efficientnet, size,
                        "byte") for i, size in enumerate(_EFFICIENTNET_SIZES)]
    specs += [_timm_row(f"efficientnet_v2_{v}", f"tf_efficientnetv2_{v}", _plain, size,
                        "signed") for v, size in _EFFICIENTNET_V2]
    specs += [_timm_row("inception_resnet_v2", "inception_resnet_v2", _no_bn_scale, 299,
                        "signed", min_size=75),
              _timm_row("inception_v3", "inception_v3", _inception_v3, 299, "signed",
                        min_size=75),
              _timm_row("xception", "legacy_xception", _xception, 299, "signed", min_size=71),
              _timm_row("nasnet_large", "nasnetalarge", _nasnet_large, 331, "signed",
                        weights_force_default_size=True)]
    specs += [_timm_row(f"resnet{depth}", f"resnet{depth}", _resnet_v1, 224, "signed")
              for depth in (50, 101, 152)]
    specs += [_timm_row(f"resnet{depth}_v2", f"resnetv2_{depth}", _resnet_v2, 224, "signed")
              for depth in (50, 101, 152)]
    return specs


def _other_specs() -> list[EncoderSpec]:
    mobilenet_hint = "timm '{}' weights (width 1.0 only)"
    specs = [
        _spec("mobilenet", build_mobilenet_v1, 224, "signed",
              mobilenet_hint.format("mobilenetv1_100"), description="timm mobilenetv1_100"),
        _spec("mobilenet_v2", build_mobilenet_v2, 224, "signed",
              mobilenet_hint.format("mobilenetv2_100"), description="timm mobilenetv2_100"),
        _spec("mobilenet_v3_large", partial(build_mobilenet_v3, "large"), 224, "signed",
              mobilenet_hint.format("tf_mobilenetv3_large_100"),
              description="timm tf_mobilenetv3_large_100 without its head conv"),
        _spec("mobilenet_v3_small", partial(build_mobilenet_v3, "small"), 224, "signed",
              mobilenet_hint.format("tf_mobilenetv3_small_100"),
              description="timm tf_mobilenetv3_small_100 without its head conv"),
        _spec("nasnet_mobile", build_nasnet_mobile, 224, "signed",
              "a converted NASNet-A Mobile state dict (keys cell_0 … cell_15)",
              weights_force_default_size=True, description="NASNet-A Mobile from timm's cells"),
    ]
    specs += [_spec(name, partial(build_vgg, name), 224, "byte",
                    f"torchvision '{name}' weights (the 'features.' part)", colour_order="bgr",
                    description=f"{name} convolutional part") for name in ("vgg16", "vgg19")]
    specs += [_spec(name, partial(build_clip, name), variant.default_size, "unit",
                    "an OpenAI CLIP / FaRL state dict ('visual.' keys)",
                    description="CLIP visual transformer")
              for name, variant in CLIP_VARIANTS.items()]
    return specs


def register_backbones(registry: EncoderRegistry) -> None:
    """Add the 46 ImageNet/CLIP backbones (every encoder but fs_original) and the `timm:` prefix."""
    for spec in _cnn_specs() + _other_specs():
        registry.add(spec.name, spec)
    registry.add_resolver(TIMM_PREFIX, resolve_timm_encoder)
