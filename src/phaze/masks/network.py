"""The segmenter: a small U-Net that maps a face crop to the probability each pixel is visible face.

Read top to bottom: config, blocks, the model. ~1–3 M parameters at the defaults, so it trains
in minutes and predicts tens of faces per second on a laptop CPU.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from phaze.errors import ConfigError


@dataclass(frozen=True)
class SegmenterConfig:
    """The network's shape; saved beside its weights so a folder rebuilds its model."""

    size_px: int = 128                     # input and output side
    widths: tuple[int, ...] = (8, 24, 64, 128, 256)  # channels per level, finest first

    def __post_init__(self) -> None:
        levels = len(self.widths)  # the stem halves once more
        if not 2 <= levels <= 6 or any(w < 4 for w in self.widths):
            raise ConfigError(f"mask model widths {self.widths} are invalid: expected 3 to 7 "
                              "levels of at least 4 channels")
        if self.size_px < 32 or self.size_px % (2 ** levels):
            raise ConfigError(f"mask model size {self.size_px} px is invalid: expected >= 32 "
                              f"and a multiple of {2 ** levels}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["widths"] = list(self.widths)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmenterConfig:
        unknown = sorted(set(data) - {"size_px", "widths"})
        if unknown:
            raise ConfigError(f"mask model option {unknown[0]!r} is unknown: expected size_px, "
                              "widths")
        return cls(size_px=int(data["size_px"]), widths=tuple(int(w) for w in data["widths"]))


def _double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    # BatchNorm folds into the conv at inference; it keeps the short training stable.
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class Segmenter(nn.Module):
    """(N, 3, S, S) RGB in [0, 1] → (N, 1, S, S) logits of "visible face".

    A stride-2 stem puts the U-Net at half resolution and the logits are upsampled bilinearly at
    the end: a mask's edge is smooth, so this loses little and costs a quarter of the compute.
    """

    def __init__(self, config: SegmenterConfig) -> None:
        super().__init__()
        self.config = config
        widths = config.widths
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        self.down = nn.ModuleList(
            [_double_conv(widths[0], widths[0])]
            + [_double_conv(widths[i - 1], widths[i]) for i in range(1, len(widths))])
        self.up = nn.ModuleList(
            [_double_conv(widths[i + 1] + widths[i], widths[i])
             for i in reversed(range(len(widths) - 1))])
        self.head = nn.Conv2d(widths[0], 1, 1)
        mean = torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1)
        self.register_buffer("input_mean", mean, persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.stem((images - self.input_mean) * 2.0)  # (N, C0, S/2, S/2)
        skips = []
        for index, block in enumerate(self.down):
            x = block(x if index == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return F.interpolate(self.head(x), size=images.shape[-2:], mode="bilinear",
                             align_corners=False)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
