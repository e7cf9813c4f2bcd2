"""torch's Adam and AdamW, with channels-last weights handed to the kernel as contiguous views.

Under channels-last training every conv weight, its gradient and its moments are NHWC-strided.
torch's fused CPU kernel wants contiguous tensors and otherwise copies each one in and out,
every step (≈ 40 ms a step on `original`, docs/performance.md). The update is element-wise, so
the permuted view of an NHWC tensor (contiguous, the same memory) gives the same result with
no copy. The optimiser's state keeps its tensors as they are, so saves are unchanged.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

MOMENTS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")  # torch's state names, in list order
NHWC_VIEW = (0, 2, 3, 1)


def _is_nhwc(tensor: Tensor) -> bool:
    return (tensor.dim() == 4 and not tensor.is_contiguous()
            and tensor.is_contiguous(memory_format=torch.channels_last))


class _DenseViews:
    """Mixin for torch.optim.Adam and its subclasses: rewrites the lists `_init_group` fills."""

    state: Any

    def _init_group(self, group, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs,
                    state_steps, *args: Any) -> Any:
        result = super()._init_group(  # type: ignore[misc]
            group, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *args)
        moments = [exp_avgs, exp_avg_sqs] + ([max_exp_avg_sqs] if group["amsgrad"] else [])
        for index, param in enumerate(params):
            if not _is_nhwc(param) or grads[index].stride() != param.stride():
                continue
            for name, tensors in zip(MOMENTS, moments):
                if tensors[index].stride() != param.stride():  # e.g. moments loaded as NCHW
                    tensors[index] = self.state[param][name] = \
                        tensors[index].contiguous(memory_format=torch.channels_last)
            for tensors in [params, grads] + moments:
                tensors[index] = tensors[index].permute(NHWC_VIEW)
        return result


class Adam(_DenseViews, torch.optim.Adam):
    """torch.optim.Adam without per-step layout copies of channels-last tensors."""


class AdamW(_DenseViews, torch.optim.AdamW):
    """torch.optim.AdamW without per-step layout copies of channels-last tensors."""
