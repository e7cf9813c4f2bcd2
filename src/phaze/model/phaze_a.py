"""Phaze-A: the two-sided autoencoder assembled from named sub-models."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.layers.init import ConvInit
from phaze.model.decoder import Decoder
from phaze.model.design import Design, plan_design
from phaze.model.encoder import Encoder
from phaze.model.encoders.weights import load_backbone_weights
from phaze.model.fc import FullyConnected, GBlockFullyConnected
from phaze.model.gblock import GBlock
from phaze.sides import SIDES, target_side

__all__ = ["SIDES", "PhazeA", "build_model"]


class PhazeA(nn.Module):
    """Encoder → FC (+ shared FC) → [G-Block] → decoder, once per side.

    Sub-models are attributes named as in faceswap (`encoder`, `fc_a`, `decoder_both`, ...), so
    summary, freezing and weight loading address them by name.
    """

    def __init__(self, options: PhazeAOptions, design: Design | None = None) -> None:
        super().__init__()
        self.options = options
        self.design = design or plan_design(options)
        d, opts = self.design, options
        self.encoder = Encoder(d.encoder_spec, opts, d.input_size, d.feature_shape)
        fc_names = ("fc_a", "fc_b") if opts.split_fc else ("fc_both",)
        if opts.shared_fc == "full":
            fc_names += ("fc_shared",)
        for name in fc_names:
            self.add_module(name, FullyConnected(opts, d.encoder_out, d.fc, d.decoder))
        if opts.enable_gblock:
            self.fc_gblock = GBlockFullyConnected(opts, d.encoder_out, d.gblock_widths)
            init = ConvInit(conv_aware=opts.conv_aware_init)
            for name in ("g_block_a", "g_block_b") if opts.split_gblock else ("g_block_both",):
                self.add_module(name, GBlock(d.side_channels, d.gblock_widths[-1], init))
        for name in ("decoder_a", "decoder_b") if opts.split_decoders else ("decoder_both",):
            self.add_module(name, Decoder(opts, d.side_channels, d.fc_out_size, d.decoder))

    # --- routing -------------------------------------------------------------------------
    def route(self, side: str) -> dict[str, str | None]:
        """Names of the sub-models side `side` passes through."""
        opts = self.options
        own_fc = f"fc_{side}" if opts.split_fc else "fc_both"
        shared = {"none": None, "full": "fc_shared",
                  "half": "fc_a" if opts.split_fc else "fc_both"}[opts.shared_fc]
        gblock = None
        if opts.enable_gblock:
            gblock = f"g_block_{side}" if opts.split_gblock else "g_block_both"
        decoder = f"decoder_{side}" if opts.split_decoders else "decoder_both"
        return {"encoder": "encoder", "fc": own_fc, "shared_fc": shared,
                "fc_gblock": "fc_gblock" if gblock else None, "g_block": gblock,
                "decoder": decoder}

    def side_forward(self, x: torch.Tensor, side: str) -> list[torch.Tensor]:
        """x (N, 3, S, S) in [0,1] RGB through side `side`'s pathway → [face(, mask)]."""
        return self.pathway(self.encoder(x), side)

    def pathway(self, z: torch.Tensor, side: str) -> list[torch.Tensor]:
        """Encoder output → side `side`'s FC, G-Block and decoder."""
        if side not in SIDES:
            raise ValueError(f"side must be 'a' or 'b', got {side!r}")
        route = self.route(side)
        h = self.get_submodule(route["fc"])(z)
        if route["shared_fc"] is not None:
            h = torch.cat([h, self.get_submodule(route["shared_fc"])(z)], dim=1)
        if route["g_block"] is not None:
            h = self.get_submodule(route["g_block"])(h, self.fc_gblock(z))
        return self.get_submodule(route["decoder"])(h)

    def forward(self, face_a: torch.Tensor, face_b: torch.Tensor) -> list[torch.Tensor]:
        """Both sides: [face_a(, mask_a), face_b(, mask_b)] as faceswap orders them."""
        return self.side_forward(face_a, "a") + self.side_forward(face_b, "b")

    def swap(self, faces: torch.Tensor, direction: str = "a-to-b") -> list[torch.Tensor]:
        """Swap faces: A→B sends faces through B's pathway, B→A through A's."""
        return self.side_forward(faces, target_side(direction))

    # --- sub-models ----------------------------------------------------------------------
    def submodels(self) -> dict[str, nn.Module]:
        """Named sub-models in faceswap's order: encoder, FC models, G-Blocks, decoders."""
        order = ("encoder", "fc_a", "fc_both", "fc_shared", "fc_b", "fc_gblock", "g_block_a",
                 "g_block_b", "g_block_both", "decoder_a", "decoder_b", "decoder_both")
        return {name: getattr(self, name) for name in order if hasattr(self, name)}

    @property
    def input_size(self) -> int:
        return self.design.input_size

    @property
    def output_size(self) -> int:
        return self.options.output_size


def build_model(options: PhazeAOptions, device: torch.device | str | None = None,
                pretrained: bool = False, weights_path: str | Path | None = None) -> PhazeA:
    """Plan (validating every option) and build the model, on `device` if given ('meta' ok).

    `pretrained` (when creating a new model): load the backbone's local weights file if
    `enc_load_weights` is on (ignored for fs_original); see encoders/weights.py.
    """
    design = plan_design(options)
    if device is None:
        model = PhazeA(options, design)
    else:
        with torch.device(device):
            model = PhazeA(options, design)
    if pretrained and options.enc_load_weights and options.enc_architecture != "fs_original":
        load_backbone_weights(model, weights_path)
    return model
