"""The budgets every reader of untrusted files enforces, stated once (docs/limits.md).

A crafted file of a few MB must never cost GBs of memory: images are measured from their header
before decoding, compressed masks are inflated with a cap, metadata text is counted before it is
parsed, archive members and HDF5 datasets are sized before they are read. Each budget can be
raised through an environment variable (so it reaches every process: CLI, web page, training
workers); the error that refuses a file names that variable.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from phaze.errors import ConfigError


@dataclass(frozen=True)
class Limits:
    """Budgets for one process; `Limits.from_env()` reads raised values from the environment."""

    max_image_pixels: int = 100_000_000        # width × height of any image decoded (100 MP)
    max_mask_bytes: int = 16 * 2**20           # one stored mask, inflated (a 4096² uint8 mask)
    max_metadata_nodes: int = 200_000          # values in one PNG metadata text, before parsing
    max_archive_member_bytes: int = 4 * 2**30  # one member of a .keras zip, uncompressed
    max_compression_ratio: int = 100           # uncompressed / compressed size of such a member
    max_config_json_bytes: int = 64 * 2**20    # a .keras archive's config.json
    max_config_json_depth: int = 200           # nesting of that config.json
    max_dataset_bytes: int = 2 * 2**30         # one HDF5 weight tensor

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        """The defaults, each replaced by PHAZE_<NAME IN CAPITALS> when that variable is set."""
        values = {}
        for item in fields(cls):
            variable = env_name(item.name)
            text = environ.get(variable)
            if text is None:
                continue
            try:
                values[item.name] = int(text.replace("_", ""))
            except ValueError:
                values[item.name] = -1
            if values[item.name] < 1:
                raise ConfigError(f"{variable}={text!r} is invalid: expected an integer >= 1")
        return cls(**values)


def env_name(limit: str) -> str:
    """The environment variable that raises `limit` (a field name of Limits)."""
    return f"PHAZE_{limit.upper()}"


def current_limits() -> Limits:
    """This process's budgets: the defaults, raised where the environment says so."""
    return Limits.from_env()
