"""NASNet-A Mobile, wired from timm's NASNet cells (timm only ships NASNet-A Large)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.model.encoders.timm_compat import import_timm

STEM_FILTERS = 32
PENULTIMATE_FILTERS = 1056      # Keras NASNetMobile: 4 cells per stage, skip_reduction off
CELLS_PER_STAGE = 4


class NASNetAMobile(nn.Module):
    """(N, 3, S, S) in [−1, 1] → (N, 1056, S/32, S/32) after the final ReLU (Keras top removed).

    Unlike NASNet-A Large, the first cell after each reduction takes the reduction cell's input
    as its "previous" input (Keras' skip_reduction=False): every cell is simply called with
    (output of the cell before, input of the cell before).
    """

    def __init__(self) -> None:
        super().__init__()
        import_timm()
        from timm.models import nasnet as cells

        f = PENULTIMATE_FILTERS // 24      # 44 filters in the first stage
        self.conv0 = nn.Sequential()       # valid 3×3 stride-2 stem, as in Keras
        self.conv0.add_module("conv", nn.Conv2d(3, STEM_FILTERS, 3, stride=2, bias=False))
        self.conv0.add_module("bn", nn.BatchNorm2d(STEM_FILTERS, eps=1e-3, momentum=0.1))
        self.cell_stem_0 = cells.CellStem0(STEM_FILTERS, num_channels=f // 4, pad_type="same")
        self.cell_stem_1 = cells.CellStem1(STEM_FILTERS, num_channels=f // 2, pad_type="same")
        self.plan: list[str] = []          # cell names in call order
        for stage, width in enumerate((f, 2 * f, 4 * f)):
            self._add_stage(cells, stage, width)
        self.act = nn.ReLU()

    def _add_stage(self, cells, stage: int, width: int) -> None:
        """[reduction cell (not in stage 0)], a FirstCell, then NormalCells.

        Cells are named as in the common PyTorch port (cell_0 … cell_15, reduction_cell_0/1),
        so its converted weight files load.
        """
        first = 6 * stage
        prev_prev, prev = width, 2 * width          # channels of the two stem cells' outputs
        if stage:
            prev_prev, prev = 3 * width, 4 * width  # last normal cell (6 × width/2), reduction
            reduce = cells.ReductionCell0 if stage == 1 else cells.ReductionCell1
            self._add(f"reduction_cell_{stage - 1}",
                      reduce(prev_prev, width, prev_prev, width, pad_type="same"))
        # the first cell factor-reduces its higher-resolution "previous" input
        self._add(f"cell_{first}", cells.FirstCell(prev_prev, width // 2, prev, width,
                                                   pad_type="same"))
        self._add(f"cell_{first + 1}", cells.NormalCell(prev, width, 6 * width, width,
                                                        pad_type="same"))
        for index in range(first + 2, first + CELLS_PER_STAGE):
            self._add(f"cell_{index}", cells.NormalCell(6 * width, width, 6 * width, width,
                                                        pad_type="same"))

    def _add(self, name: str, cell: nn.Module) -> None:
        self.add_module(name, cell)
        self.plan.append(name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stem = self.conv0(x)
        prev = self.cell_stem_0(stem)
        x = self.cell_stem_1(stem, prev)
        for name in self.plan:
            # after a reduction too, the cell's input becomes the next cell's "previous" input
            x, prev = self.get_submodule(name)(x, prev), x
        return self.act(x)


def build_nasnet_mobile(opts: PhazeAOptions, input_size: int) -> NASNetAMobile:
    return keras_nasnet_layout(NASNetAMobile())


class ZeroPaddedPool(nn.Module):
    """Keras NASNet's reduction-cell pools: zero-pad as TF "same" would, then a 3×3 stride-2
    "valid" pool. The padded zeros take part (their input is a norm's output, not yet
    activated), where timm's "same" pools pad with −∞ or leave the padding out of the mean."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size in (x.shape[-1], x.shape[-2]):           # F.pad order: width, then height
            total = max((-(-size // 2) - 1) * 2 + 3 - size, 0)
            pads += [total // 2, total - total // 2]
        x = F.pad(x, pads)
        pool = F.max_pool2d if self.kind == "max" else F.avg_pool2d
        return pool(x, 3, 2)

    def extra_repr(self) -> str:
        return self.kind


_ZERO_PADDED_POOLS = {"comb_iter_1_left": "max", "comb_iter_2_left": "avg",
                      "comb_iter_4_right": "max"}


def keras_nasnet_layout(net: nn.Module) -> nn.Module:
    """Keras' reduction-cell pools (stem cells included) for timm's NASNet cells."""
    for cell in net.modules():
        if type(cell).__name__ in ("CellStem0", "CellStem1", "ReductionCell0", "ReductionCell1"):
            for name, kind in _ZERO_PADDED_POOLS.items():
                setattr(cell, name, ZeroPaddedPool(kind))
    return net
