"""The ImageNet/CLIP backbones of spec §8.1 and `timm:<model>`, registered by name."""
from __future__ import annotations

from functools import partial
from typing import Callable

from phaze.config.options import PhazeAOptions
from phaze.model.encoders.clip import CLIP_VARIANTS, build_clip
from phaze.model.encoders.mobilenet import (build_mobilenet_v1, build_mobilenet_v2,
                                            build_mobilenet_v3)
from phaze.model.encoders.nasnet import build_nasnet_mobile
from phaze.model.encoders.registry import EncoderRegistry, EncoderSpec
from phaze.model.encoders.timm_any import TIMM_PREFIX, resolve_timm_encoder
from phaze.model.encoders.timm_features import (IMAGENET_MEAN, IMAGENET_STD, FixedNormalise,
                                                KerasEfficientNetInput, TimmFeatures,
                                                add_conv_biases, create_timm,
                                                drop_batchnorm_scale)
from phaze.model.encoders.vgg import build_vgg


# --- builders: (options, input size) → backbone, one per family ----------------------------
def _plain(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    return TimmFeatures(create_timm(timm_name))


def _convnext(timm_name: str, opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    # Keras ConvNeXt takes 0–255 and normalises inside (§8.1 note 1); its final LayerNorm is
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


def _keras_resnet(biased: Callable[[str], bool], timm_name: str, opts: PhazeAOptions,
                  input_size: int) -> TimmFeatures:
    # Keras' ResNets give convolutions biases that timm's lack (Appendix A)
    backbone = TimmFeatures(create_timm(timm_name))
    added = add_conv_biases(backbone.net, biased)
    backbone.optional_weight_keys = {f"net.{key}" for key in added}
    return backbone


def _is_keras_v2_biased(conv_name: str) -> bool:
    # ResNet-v2: only the stem conv, each block's last 1×1 conv and the shortcut conv
    return conv_name.endswith(("stem.conv", ".conv3", "downsample.conv"))


_resnet_v1 = partial(_keras_resnet, lambda conv_name: True)   # v1: every convolution
_resnet_v2 = partial(_keras_resnet, _is_keras_v2_biased)


# --- the table of spec §8.1 -------------------------------------------------------------
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
    specs += [_timm_row(f"densenet{depth}", f"densenet{depth}", _plain, 224, "unit")
              for depth in (121, 169, 201)]
    specs += [_timm_row(f"efficientnet_b{i}", f"tf_efficientnet_b{i}", _efficientnet, size,
                        "byte") for i, size in enumerate(_EFFICIENTNET_SIZES)]
    specs += [_timm_row(f"efficientnet_v2_{v}", f"tf_efficientnetv2_{v}", _plain, size,
                        "signed") for v, size in _EFFICIENTNET_V2]
    specs += [_timm_row("inception_resnet_v2", "inception_resnet_v2", _no_bn_scale, 299,
                        "signed", min_size=75),
              _timm_row("inception_v3", "inception_v3", _no_bn_scale, 299, "signed",
                        min_size=75),
              _timm_row("xception", "legacy_xception", _plain, 299, "signed", min_size=71),
              _timm_row("nasnet_large", "nasnetalarge", _plain, 331, "signed",
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
                    description="CLIP visual transformer (§8.2)")
              for name, variant in CLIP_VARIANTS.items()]
    return specs


def register_backbones(registry: EncoderRegistry) -> None:
    """Add the 46 backbones of spec §8.1 (all but fs_original) and the `timm:` prefix."""
    for spec in _cnn_specs() + _other_specs():
        registry.register(spec)
    registry.add_resolver(TIMM_PREFIX, resolve_timm_encoder)
