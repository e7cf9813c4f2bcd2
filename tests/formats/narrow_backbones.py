"""Phaze backbones of the same narrow widths as the Keras ground truth in keras_backbones/backbones.

Each builds what Phaze's encoder of that family builds (the same timm classes and Phaze's Keras
layout fixes), only narrower or shallower, since timm's builders have no width option for most.
"""
from __future__ import annotations

from torch import nn


def vgg(name: str):
    from phaze.config.options import PhazeAOptions
    from phaze.model.encoders.vgg import build_vgg

    return build_vgg(name, PhazeAOptions(), 64, widths=(4, 8, 8, 16, 16))


def densenet():
    from phaze.model.encoders.backbones import KERAS_RESNET_DENSENET_EPS
    from phaze.model.encoders.timm_compat import import_timm
    from phaze.model.encoders.timm_features import TimmFeatures, set_batchnorm_eps

    import_timm()
    from timm.models.densenet import DenseNet

    net = DenseNet(block_config=(1, 1, 1, 1), num_classes=0, global_pool="")
    return TimmFeatures(set_batchnorm_eps(net, KERAS_RESNET_DENSENET_EPS))


def resnet_v1():
    from phaze.model.encoders.backbones import keras_resnet_v1_layout
    from phaze.model.encoders.timm_compat import import_timm
    from phaze.model.encoders.timm_features import TimmFeatures, add_conv_biases

    import_timm()
    from timm.models.resnet import Bottleneck, ResNet

    net = ResNet(Bottleneck, (1, 1, 1, 1), channels=(4, 8, 8, 16), num_classes=0,
                 global_pool="")
    add_conv_biases(net)
    return TimmFeatures(keras_resnet_v1_layout(net))


def efficientnet_v2():
    from phaze.model.encoders.timm_compat import import_timm
    from phaze.model.encoders.timm_features import TimmFeatures

    import_timm()
    from timm.models.efficientnet import _gen_efficientnetv2_base

    # what Phaze's efficientnet_v2_b0 builds (tf_efficientnetv2_b0), at width 0.25, depth 0.1
    return TimmFeatures(_gen_efficientnetv2_base(
        "tf_efficientnetv2_b0", channel_multiplier=0.25, depth_multiplier=0.1, bn_eps=1e-3,
        pad_type="same", num_classes=0, global_pool=""))


def clip():
    from phaze.model.encoders.clip import ClipVariant, VisualTransformer

    # width 128 (2 heads of 64, as faceswap: width / 64), 2 blocks, patch 16, embedding 32
    return VisualTransformer(ClipVariant(128, 2, 16, 32), 64)


def convnext():
    from phaze.model.encoders.timm_compat import import_timm
    from phaze.model.encoders.timm_features import (IMAGENET_MEAN, IMAGENET_STD,
                                                    FixedNormalise, TimmFeatures)

    import_timm()
    from timm.models.convnext import ConvNeXt

    net = ConvNeXt(depths=(1, 1, 1, 1), dims=(8, 16, 16, 32), num_classes=0, global_pool="")
    scaled = (tuple(255 * m for m in IMAGENET_MEAN), tuple(255 * s for s in IMAGENET_STD))
    return TimmFeatures(net, FixedNormalise(*scaled))     # as Phaze's convnext_* build it


def xception():
    """timm's legacy Xception with narrow widths (timm has no width option): every module
    replaced by a narrow one of the same class, then Phaze's Keras fixes."""
    from phaze.model.encoders.backbones import keras_xception_layout
    from phaze.model.encoders.timm_compat import import_timm
    from phaze.model.encoders.timm_features import TimmFeatures

    import_timm()
    from timm.models.xception import Block, SeparableConv2d, Xception

    w1, w2, w3, w4, w5, w6, w7, w8 = (4, 8, 8, 16, 16, 24, 24, 32)
    net = Xception(num_classes=0, global_pool="", device="meta")
    net.conv1, net.bn1 = nn.Conv2d(3, w1, 3, 2, 0, bias=False), nn.BatchNorm2d(w1)
    net.conv2, net.bn2 = nn.Conv2d(w1, w2, 3, bias=False), nn.BatchNorm2d(w2)
    net.block1 = Block(w2, w3, 2, 2, start_with_relu=False)
    net.block2, net.block3 = Block(w3, w4, 2, 2), Block(w4, w5, 2, 2)
    for index in range(4, 12):
        setattr(net, f"block{index}", Block(w5, w5, 3, 1))
    net.block12 = Block(w5, w6, 2, 2, grow_first=False)
    net.conv3, net.bn3 = SeparableConv2d(w6, w7, 3, 1, 1), nn.BatchNorm2d(w7)
    net.conv4, net.bn4 = SeparableConv2d(w7, w8, 3, 1, 1), nn.BatchNorm2d(w8)
    return TimmFeatures(keras_xception_layout(net))


def resnet_v2():
    from phaze.model.encoders.backbones import is_keras_v2_biased, keras_resnet_v2_layout
    from phaze.model.encoders.timm_compat import import_timm
    from phaze.model.encoders.timm_features import TimmFeatures, add_conv_biases

    import_timm()
    from timm.layers import BatchNormAct2d, create_conv2d
    from timm.models.resnetv2 import ResNetV2

    net = ResNetV2((2, 2, 2, 2), channels=(32, 32, 64, 64), num_classes=0, global_pool="",
                   conv_layer=create_conv2d, norm_layer=BatchNormAct2d)   # as resnetv2_50
    add_conv_biases(net, is_keras_v2_biased)
    return TimmFeatures(keras_resnet_v2_layout(net))


def narrow_convs(net: nn.Module, divisor: int) -> nn.Module:
    """Every conv (and its norm) of a timm net built on the meta device, `divisor` × narrower."""
    for name, module in list(net.named_modules()):
        if isinstance(module, nn.Conv2d):
            narrow = nn.Conv2d(3 if module.in_channels == 3 else module.in_channels // divisor,
                               module.out_channels // divisor, module.kernel_size,
                               module.stride, module.padding, bias=module.bias is not None)
            net.set_submodule(name, narrow)
        elif isinstance(module, nn.BatchNorm2d):   # timm's BatchNormAct2d keeps its activation
            narrow = type(module)(module.num_features // divisor, eps=module.eps)
            for part in ("act", "drop"):
                if hasattr(module, part):
                    setattr(narrow, part, getattr(module, part))
            net.set_submodule(name, narrow)
    return net


def inception_v3():
    from phaze.model.encoders.backbones import keras_inception_v3_layout
    from phaze.model.encoders.timm_compat import import_timm
    from phaze.model.encoders.timm_features import TimmFeatures, drop_batchnorm_scale

    import_timm()
    from timm.models.inception_v3 import InceptionV3

    net = narrow_convs(InceptionV3(num_classes=0, global_pool="", device="meta"), 16)
    drop_batchnorm_scale(net)
    return TimmFeatures(keras_inception_v3_layout(net))


def inception_resnet_v2():
    from phaze.model.encoders.timm_compat import import_timm
    from phaze.model.encoders.timm_features import TimmFeatures, drop_batchnorm_scale

    import_timm()
    from timm.models.inception_resnet_v2 import InceptionResnetV2

    net = narrow_convs(InceptionResnetV2(num_classes=0, global_pool="", device="meta"), 16)
    drop_batchnorm_scale(net)      # as Phaze's inception_resnet_v2 (Keras: scale=False)
    return TimmFeatures(net)


def nasnet_large():
    from phaze.model.encoders.nasnet import keras_nasnet_layout
    from phaze.model.encoders.timm_compat import import_timm
    from phaze.model.encoders.timm_features import TimmFeatures

    import_timm()
    from timm.models.nasnet import NASNetALarge

    # what Phaze's nasnet_large builds (timm nasnetalarge), 1/21 as wide
    net = NASNetALarge(num_classes=0, global_pool="", stem_size=16, num_features=192)
    return TimmFeatures(keras_nasnet_layout(net))


def mobilenet_v3(size: str, width: float, minimalistic: bool = False):
    from phaze.config.options import PhazeAOptions
    from phaze.model.encoders.mobilenet import build_mobilenet_v3

    # what an imported faceswap MobileNetV3 builds: Keras' own input rescale kept
    opts = PhazeAOptions(enc_architecture=f"mobilenet_v3_{size}", mobilenet_width=width,
                         mobilenet_minimalistic=minimalistic, mobilenet_v3_double_rescale=True)
    return build_mobilenet_v3(size, opts, 48)


def byte(x):
    return x * 255.0


def signed(x):
    return x * 2.0 - 1.0


# case → (Phaze encoder name, the same-sized Phaze backbone, faceswap's input scaling)
BACKBONES = {
    "vgg16_small": ("vgg16", lambda: vgg("vgg16"), byte),
    "vgg19_small": ("vgg19", lambda: vgg("vgg19"), byte),
    "densenet_small": ("densenet121", densenet, lambda x: x),
    "resnet_v1_small": ("resnet50", resnet_v1, signed),
    "resnet_v2_small": ("resnet50_v2", resnet_v2, signed),
    "efficientnet_v2_small": ("efficientnet_v2_b0", efficientnet_v2, signed),
    "clip_small": ("clipv_vit-b-16", clip, lambda x: x),
    "convnext_small_width": ("convnext_tiny", convnext, byte),
    "xception_small": ("xception", xception, signed),
    "inception_v3_small": ("inception_v3", inception_v3, signed),
    "inception_resnet_v2_small": ("inception_resnet_v2", inception_resnet_v2, signed),
    "nasnet_large_small": ("nasnet_large", nasnet_large, signed),
    "mobilenet_v3_large_a015": ("mobilenet_v3_large", lambda: mobilenet_v3("large", 0.15),
                                signed),
    "mobilenet_v3_small_minimal_a025": ("mobilenet_v3_small",
                                        lambda: mobilenet_v3("small", 0.25, True), signed),
}
