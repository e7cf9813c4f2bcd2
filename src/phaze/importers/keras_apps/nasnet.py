"""Keras NASNetLarge (and NASNetMobile's layout) → timm's NASNet cells (Phaze's nasnet_*).

Keras suffixes every layer of a cell with its block id: `stem_1`, `stem_2` (timm cell_stem_0/1),
`reduce_<n>` (timm reduction_cell_0/1 in order) and numbers for the normal cells, which skip
the reductions' numbers (timm cell_<rank>). Inside a cell: `adjust_conv_1/2` + `adjust_bn`
(factorised reduction of the previous input: timm path_1/path_2.conv + final_path_bn) or
`adjust_conv_projection` + `adjust_bn` (timm conv_prev_1x1), `normal_conv_1`/`reduction_conv_1`
+ `_bn_1` (timm conv_1x1), and `separable_conv_<k>[_bn]_<cell kind>_<branch>` (timm
comb_iter_<i>_<side>.separable_<k> / bn_sep_<k>).
"""
from __future__ import annotations

import re

from torch import nn

from phaze.importers.faceswap_keras import KerasLayer
from phaze.importers.keras_apps.common import (BackboneMapping, conv_kernel, conv_or_norm,
                                             depthwise_kernel)

_BRANCHES = {
    "normal": {"left1": "comb_iter_0_left", "right1": "comb_iter_0_right",
               "left2": "comb_iter_1_left", "right2": "comb_iter_1_right",
               "left5": "comb_iter_4_left"},
    "reduction": {"left1": "comb_iter_0_left", "right1": "comb_iter_0_right",
                  "right2": "comb_iter_1_right", "right3": "comb_iter_2_right",
                  "left4": "comb_iter_4_left"},
}
_SEPARABLE = re.compile(r"separable_conv_(\d)(_bn)?_(normal|reduction)_(left\d|right\d)_(\w+)$")
_CELL_PART = re.compile(r"(adjust_conv_1|adjust_conv_2|adjust_conv_projection|adjust_bn|"
                        r"normal_conv_1|normal_bn_1|reduction_conv_1|reduction_bn_1)_(\w+)$")
_STEM = {"stem_conv1": "conv0.conv", "stem_bn1": "conv0.bn"}


class NASNetRule:
    """Needs every layer's block id first, to rank the normal cells."""

    def __init__(self, layers: list[KerasLayer]) -> None:
        ids = {m[5] for layer in layers if (m := _SEPARABLE.match(layer.name))}
        normal = sorted(int(i) for i in ids if i.isdigit())
        reductions = sorted((i for i in ids if i.startswith("reduce_")),
                            key=lambda i: int(i.split("_")[1]))
        self.cells = {str(n): f"cell_{rank}" for rank, n in enumerate(normal)}
        self.cells |= {r: f"reduction_cell_{rank}" for rank, r in enumerate(reductions)}
        self.cells |= {"stem_1": "cell_stem_0", "stem_2": "cell_stem_1"}

    def __call__(self, mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
        root = "net." if hasattr(backbone, "net") else ""
        if layer.name in _STEM:
            return conv_or_norm(mapping, layer, backbone, root + _STEM[layer.name])
        if match := _SEPARABLE.match(layer.name):
            cell = self.cells.get(match[5])
            branch = _BRANCHES[match[3]].get(match[4])
            if cell is None or branch is None:
                return False
            module = f"{root}{cell}.{branch}"
            if match[2]:
                return conv_or_norm(mapping, layer, backbone, f"{module}.bn_sep_{match[1]}")
            return self._separable(mapping, layer, f"{module}.separable_{match[1]}")
        if match := _CELL_PART.match(layer.name):
            cell = self.cells.get(match[2])
            if cell is None:
                return False
            part = self._cell_part(backbone.get_submodule(root + cell), match[1])
            return part is not None and conv_or_norm(mapping, layer, backbone,
                                                     f"{root}{cell}.{part}")
        return False

    @staticmethod
    def _cell_part(cell: nn.Module, keras_part: str) -> str | None:
        factorised = hasattr(cell, "path_1")   # the previous input is halved in size
        return {"adjust_conv_1": "path_1.conv" if factorised else None,
                "adjust_conv_2": "path_2.conv" if factorised else None,
                "adjust_conv_projection": None if factorised else "conv_prev_1x1.conv",
                "adjust_bn": "final_path_bn" if factorised else "conv_prev_1x1.bn",
                "normal_conv_1": "conv_1x1.conv", "normal_bn_1": "conv_1x1.bn",
                "reduction_conv_1": "conv_1x1.conv", "reduction_bn_1": "conv_1x1.bn"}[keras_part]

    @staticmethod
    def _separable(mapping: BackboneMapping, layer: KerasLayer, module: str) -> bool:
        if layer.class_name != "SeparableConv2D":
            return False
        mapping.put(layer, f"{module}.depthwise_conv2d.weight", depthwise_kernel(layer.weights[0]))
        mapping.put(layer, f"{module}.pointwise_conv2d.weight", conv_kernel(layer.weights[1]))
        return True
