"""Encoder registry: name → how to build the backbone, its default size, input range, colours."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.errors import ConfigError

INPUT_RANGES = ("unit", "byte", "signed")   # [0,1], [0,255], [-1,1]

BackboneBuilder = Callable[[PhazeAOptions, int], nn.Module]
Resolver = Callable[[str], "EncoderSpec"]   # the name after a prefix → its spec


@dataclass(frozen=True)
class EncoderSpec:
    """What Phaze needs to know about one `enc_architecture`.

    `build(options, input_size)` returns a module mapping (N, 3, S, S) input in the spec's range
    and colour order to a feature map (N, C, H, W) or a vector (N, E).
    """

    name: str
    build: BackboneBuilder
    default_size: int
    min_size: int = 32
    input_range: str = "unit"
    colour_order: str = "rgb"
    description: str = ""
    weights_force_default_size: bool = False   # NASNet: pretrained weights need the full size
    has_pretrained: bool = False
    weights_hint: str = ""    # where suitable pretrained weights come from (for error messages)

    def __post_init__(self) -> None:
        if self.input_range not in INPUT_RANGES:
            raise ValueError(f"{self.name}: unknown input range {self.input_range!r}")
        if self.colour_order not in ("rgb", "bgr"):
            raise ValueError(f"{self.name}: unknown colour order {self.colour_order!r}")


class EncoderRegistry:
    """A name → EncoderSpec table; one instance holds the built-in encoders."""

    def __init__(self) -> None:
        self._specs: dict[str, EncoderSpec] = {}
        self._resolvers: dict[str, Resolver] = {}

    def register(self, spec: EncoderSpec) -> EncoderSpec:
        if spec.name in self._specs:
            raise ValueError(f"encoder {spec.name!r} registered twice")
        self._specs[spec.name] = spec
        return spec

    def add_resolver(self, prefix: str, resolve: Resolver) -> None:
        """Names starting with `prefix` (e.g. 'timm:') are built on demand by `resolve`."""
        if prefix in self._resolvers:
            raise ValueError(f"encoder prefix {prefix!r} registered twice")
        self._resolvers[prefix] = resolve

    def prefixes(self) -> list[str]:
        return sorted(self._resolvers)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, name: str) -> bool:
        return name in self._specs

    def get(self, name: str) -> EncoderSpec:
        if name in self._specs:
            return self._specs[name]
        for prefix, resolve in self._resolvers.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                return resolve(name[len(prefix):])
        patterns = [f"{prefix}<name>" for prefix in self.prefixes()]
        raise ConfigError(f"option 'enc_architecture' = {name!r} is invalid: expected one of: "
                          + ", ".join(self.names() + patterns))
