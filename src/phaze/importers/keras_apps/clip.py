"""faceswap's Keras CLIP visual transformer → Phaze's VisualTransformer (model/encoders/clip.py).

faceswap builds CLIP from its own layers, named after OpenAI's state-dict keys:
`<model>{sep}conv1`, `class_embedding`, `positional_embedding`, `ln_pre`,
`transformer{sep}resblocks{sep}<n>{sep}{ln_1, attn, ln_2, mlp{sep}c_fc, mlp{sep}c_proj}`,
`ln_post`, `proj`, where sep is '.', '/' or '_' (Keras on torch refuses '.' in names). Blocks
are matched by the rank of n, since faceswap numbers them with a per-process counter.

Keras MultiHeadAttention keeps q/k/v kernels as (width, heads, head_dim) and the output
kernel as (heads, head_dim, width); PyTorch's nn.MultiheadAttention wants one (3·width, width)
in-projection (rows q, k, v; row = head·head_dim + d) and a (width, width) out-projection.
"""
from __future__ import annotations

import re

import numpy as np
from torch import nn

from phaze.importers.faceswap_keras import KerasLayer
from phaze.importers.keras_apps.common import BackboneMapping, conv_kernel, dense_kernel

_SEP = r"[./_]"
_TOP = re.compile(rf"(?:^|{_SEP})(conv1|class_embedding|positional_embedding|ln_pre|ln_post|proj)$")
_BLOCK = re.compile(rf"resblocks{_SEP}(\d+){_SEP}(ln_1|ln_2|attn|mlp{_SEP}c_fc|mlp{_SEP}c_proj)$")


class ClipRule:
    """Per-layer rule; block numbers are ranked over the whole layer list first."""

    def __init__(self, layers: list[KerasLayer]) -> None:
        numbers = {int(m[1]) for layer in layers if (m := _BLOCK.search(layer.name))}
        self.block_rank = {number: rank for rank, number in enumerate(sorted(numbers))}

    def __call__(self, mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
        match = _BLOCK.search(layer.name)
        if match is not None:
            index = self.block_rank[int(match[1])]
            part = re.sub(rf"^mlp{_SEP}", "mlp.", match[2])
            return self._block(mapping, layer, f"transformer.resblocks.{index}.{part}")
        match = _TOP.search(layer.name)
        if match is None:
            return False
        part = match[1]
        if part == "conv1" and layer.class_name == "Conv2D":
            mapping.put(layer, "conv1.weight", conv_kernel(layer.weights[0]))
        elif part in ("ln_pre", "ln_post") and layer.class_name == "LayerNormalization":
            self._layer_norm(mapping, layer, part)
        elif part in ("class_embedding", "positional_embedding", "proj") and layer.weights:
            mapping.put(layer, part, layer.weights[0])   # same layout in both
        else:
            return False
        return True

    def _block(self, mapping: BackboneMapping, layer: KerasLayer, module: str) -> bool:
        if layer.class_name == "LayerNormalization":
            self._layer_norm(mapping, layer, module)
        elif layer.class_name == "Dense":
            mapping.dense(layer, module)
        elif layer.class_name == "MultiHeadAttention":
            self._attention(mapping, layer, module)
        else:
            return False
        return True

    @staticmethod
    def _layer_norm(mapping: BackboneMapping, layer: KerasLayer, module: str) -> None:
        gamma, beta = layer.weights
        mapping.put(layer, f"{module}.weight", gamma)
        mapping.put(layer, f"{module}.bias", beta)

    @staticmethod
    def _attention(mapping: BackboneMapping, layer: KerasLayer, module: str) -> None:
        if len(layer.weights) != 8:
            raise mapping.fail(layer, "Phaze expects q, k, v and output kernels with biases")
        q, qb, k, kb, v, vb, out, out_b = layer.weights
        width = q.shape[0]
        in_proj = np.concatenate([dense_kernel(w.reshape(width, -1)) for w in (q, k, v)])
        mapping.put(layer, f"{module}.in_proj_weight", in_proj)
        mapping.put(layer, f"{module}.in_proj_bias",
                    np.concatenate([b.reshape(-1) for b in (qb, kb, vb)]))
        mapping.put(layer, f"{module}.out_proj.weight", dense_kernel(out.reshape(-1, width)))
        mapping.put(layer, f"{module}.out_proj.bias", out_b)

