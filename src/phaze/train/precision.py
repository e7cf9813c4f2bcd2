"""Device choice and mixed precision: which device, which autocast dtype, whether to scale."""
from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from typing import ContextManager

import torch

from phaze.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Precision:
    """How the forward pass runs. `dtype=None` means full float32."""

    device_type: str
    dtype: torch.dtype | None

    @property
    def needs_scaler(self) -> bool:
        # float16 underflows small gradients; bfloat16 has float32's range and needs no scaling.
        return self.dtype == torch.float16

    @property
    def label(self) -> str:
        return {None: "float32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def autocast(self) -> ContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        return torch.amp.GradScaler(self.device_type, enabled=self.needs_scaler)


CPU_BF16_VARIABLE = "PHAZE_CPU_BF16"


def cpu_has_fast_bf16() -> bool:
    """True when this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX).

    There, bf16 autocast measured 1.7x faster than float32 for a whole training step with the
    same losses over 60 steps (docs/performance.md); without it bf16 is emulated and slower.
    `PHAZE_CPU_BF16=1` or `0` overrides the probe, so one machine can run (and test) what
    `auto` does on either kind of CPU.
    """
    forced = os.environ.get(CPU_BF16_VARIABLE)
    if forced is not None:
        if forced not in ("0", "1"):
            raise ConfigError(f"{CPU_BF16_VARIABLE}={forced!r} is invalid: expected 1 (use "
                              f"bf16 on this CPU) or 0 (float32), or leave it unset")
        return forced == "1"
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def resolve_precision(mode: str, device: torch.device) -> Precision:
    """'auto' is bf16 on a CUDA device that supports it or a CPU with native bf16
    (`cpu_has_fast_bf16`), and float32 everywhere else.

    Without native bf16, CPU autocast is slower than float32; 'off' always means float32.
    """
    if mode == "off":
        return Precision(device.type, None)
    if mode == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return Precision(device.type, torch.bfloat16)
        if device.type == "cpu" and cpu_has_fast_bf16():
            return Precision(device.type, torch.bfloat16)
        return Precision(device.type, None)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[mode]
    if device.type == "cuda" and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise ConfigError("mixed_precision 'bf16' is not supported by this GPU: use 'fp16' or "
                          "'off'")
    if device.type == "cpu" and not (dtype == torch.bfloat16 and cpu_has_fast_bf16()):
        logger.warning("mixed precision '%s' on this CPU is usually slower than float32", mode)
    return Precision(device.type, dtype)
