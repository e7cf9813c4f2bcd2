"""Encoder registry: name → how to build the backbone, its default size, input range, colours."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.registry import Registry, invalid_name_message

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


class EncoderRegistry(Registry[EncoderSpec]):
    """The name → EncoderSpec table, plus name prefixes (e.g. 'timm:') resolved on demand."""

    def __init__(self) -> None:
        super().__init__("option 'enc_architecture' =")
        self._resolvers: dict[str, Resolver] = {}

    def add_resolver(self, prefix: str, resolve: Resolver) -> None:
        """Names starting with `prefix` (e.g. 'timm:') are built on demand by `resolve`."""
        if prefix in self._resolvers:
            raise ValueError(f"encoder prefix {prefix!r} registered twice")
        self._resolvers[prefix] = resolve

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(super().names()))

    def get_entry(self, name: object, what: str | None = None) -> EncoderSpec:
        if isinstance(name, str) and name not in self:
            for prefix, resolve in self._resolvers.items():
                if name.startswith(prefix) and len(name) > len(prefix):
                    return resolve(name[len(prefix):])
        return super().get_entry(name, what)

    def unknown_message(self, name: object, what: str | None = None) -> str:
        patterns = [f"{prefix}<name>" for prefix in sorted(self._resolvers)]
        return invalid_name_message(what or self.what, name, [*self.names(), *patterns])
