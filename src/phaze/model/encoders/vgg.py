"""VGG-16/19's convolutional part (Keras `include_top=False`), small enough to build here."""
from __future__ import annotations

from torch import nn

from phaze.config.options import PhazeAOptions

# Convolutions per block; each block ends with a 2×2 max-pool, like Keras' blockN_pool.
VGG_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
VGG_WIDTHS = (64, 128, 256, 512, 512)


def build_vgg(name: str, opts: PhazeAOptions, input_size: int,
              widths: tuple[int, ...] = VGG_WIDTHS) -> nn.Sequential:
    """(N, 3, S, S) in [0, 255] BGR → (N, 512, S/32, S/32).

    A flat Sequential laid out like torchvision's `vgg16().features`, so its weight files load
    once their 'features.' prefix is dropped. `widths` (channels per block) is for small
    test builds; the encoders always use VGG_WIDTHS.
    """
    layers: list[nn.Module] = []
    in_ch = 3
    for convs, width in zip(VGG_BLOCKS[name], widths):
        for _ in range(convs):
            layers += [nn.Conv2d(in_ch, width, 3, padding=1), nn.ReLU(inplace=True)]
            in_ch = width
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers)
