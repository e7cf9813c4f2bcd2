"""The one place that turns a device name ('auto', 'cpu', 'cuda:1') into a torch.device."""
from __future__ import annotations

from typing import TYPE_CHECKING

from phaze.errors import ConfigError

if TYPE_CHECKING:
    import torch

DEVICES_DOC = "auto, cpu, cuda or cuda:<index>"


def resolve_device(device: str | torch.device = "auto", option: str = "device") -> torch.device:
    """'auto' picks CUDA when present; asking for CUDA on a machine without it is an error."""
    import torch   # here, so `--help` can show DEVICES_DOC without loading torch

    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"{option} {device!r} is invalid: expected {DEVICES_DOC}") from None
    if resolved.type not in ("cpu", "cuda"):
        raise ConfigError(f"{option} {device!r} is invalid: expected {DEVICES_DOC}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{option} {device!r} was requested but CUDA is not available "
                          "here; use cpu or auto")
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise ConfigError(f"{option} {device!r} does not exist: this machine has "
                          f"{torch.cuda.device_count()} CUDA device(s)")
    return resolved
