"""CLIP's visual transformer, built here so CLIP encoders need no extra library."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from phaze.config.options import PhazeAOptions


@dataclass(frozen=True)
class ClipVariant:
    """Width w, layers L, patch p, embedding E and default input size of one CLIP visual net."""

    width: int
    layers: int
    patch: int
    embed: int
    default_size: int = 224


CLIP_VARIANTS = {
    "clipv_vit-b-16": ClipVariant(768, 12, 16, 512),
    "clipv_vit-b-32": ClipVariant(768, 12, 32, 512),
    "clipv_vit-l-14": ClipVariant(1024, 24, 14, 768),
    "clipv_vit-l-14-336px": ClipVariant(1024, 24, 14, 768, default_size=336),
    # FaRL: the ViT-B/16 architecture with face-trained weights (16 / 64 pre-training epochs)
    "clipv_farl-b-16-16": ClipVariant(768, 12, 16, 512),
    "clipv_farl-b-16-64": ClipVariant(768, 12, 16, 512),
}


class QuickGELU(nn.Module):
    """CLIP's GELU approximation z·σ(1.702 z); pretrained weights were trained with it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    """Pre-norm transformer block: x + MHA(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=1e-5)
        self.attn = nn.MultiheadAttention(width, width // 64, batch_first=True)
        self.ln_2 = nn.LayerNorm(width, eps=1e-5)
        self.mlp = nn.Sequential()   # names match OpenAI's checkpoints: c_fc, gelu, c_proj
        self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
        self.mlp.add_module("gelu", QuickGELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (N, tokens, width)
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    """The stack of L blocks; a module of its own so state-dict keys match OpenAI CLIP."""

    def __init__(self, width: int, layers: int) -> None:
        super().__init__()
        self.resblocks = nn.Sequential(*(ResidualAttentionBlock(width) for _ in range(layers)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resblocks(x)


class VisualTransformer(nn.Module):
    """CLIP's `visual` model: (N, 3, S, S) in [0, 1] → projected class token (N, E).

    The positional embedding is sized for the actual input S, so pretrained weights made at
    another size leave it randomly initialised, as in faceswap (faceswap defect 16, docs/faceswap-differences.md).
    """

    def __init__(self, variant: ClipVariant, input_size: int) -> None:
        super().__init__()
        width, grid = variant.width, input_size // variant.patch
        scale = width ** -0.5
        self.conv1 = nn.Conv2d(3, width, variant.patch, stride=variant.patch, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width, eps=1e-5)
        self.transformer = Transformer(width, variant.layers)
        self.ln_post = nn.LayerNorm(width, eps=1e-5)
        self.proj = nn.Parameter(scale * torch.randn(width, variant.embed))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)                                    # (N, w, g, g)
        x = x.flatten(2).transpose(1, 2)                     # (N, g², w)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)   # (N, g²+1, w)
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x[:, 0]) @ self.proj             # (N, E)


def build_clip(name: str, opts: PhazeAOptions, input_size: int) -> VisualTransformer:
    """Builder for the registry: `name` is the `enc_architecture`, e.g. 'clipv_vit-b-16'."""
    return VisualTransformer(CLIP_VARIANTS[name], input_size)
