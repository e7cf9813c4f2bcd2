"""Load/freeze recipes for reusing an old model, derived from its design's routing.

Every recipe is stated in terms of roles (encoder, B's FC, the G-Block, B's decoder, A's own
parts) and resolved to sub-model names through `PhazeA.route`, so a name in a recipe always
exists in the design. A recipe the design cannot have (B's own FC without `split_fc`, a G-Block
without `enable_gblock`) or one that loads exactly what an earlier recipe loads is skipped, with
the reason, rather than silently run twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from phaze.config.options import PhazeAOptions
from phaze.errors import ConfigError

SCRATCH = "scratch"  # the baseline every other recipe is compared with


@dataclass(frozen=True)
class Recipe:
    """Which sub-models start from the old model's weights, and which of those stay fixed."""

    name: str
    load: tuple[str, ...]      # copied from the old model; the rest start fresh
    freeze: tuple[str, ...]    # not trained (a subset of `load`)
    description: str


@dataclass(frozen=True)
class SkippedRecipe:
    name: str
    reason: str


@dataclass(frozen=True)
class _Routing:
    """The design's sub-model names by role, read from `PhazeA.route`."""

    names: tuple[str, ...]             # every sub-model, in faceswap's order
    b_fc: tuple[str, ...]              # the FC(s) on B's route (own and shared)
    b_own_fc: str | None               # B's own FC (`fc_b`), None without split_fc
    shared_fc: tuple[str, ...]         # FC(s) on both routes
    gblock: tuple[str, ...]            # `fc_gblock` and B's G-Block; empty without one
    b_decoder: str | None              # B's own decoder, None with a shared decoder
    a_only: tuple[str, ...]            # on A's route and not on B's: what a new A must learn


def _routing(options: PhazeAOptions) -> _Routing:
    from phaze.model.phaze_a import build_model

    model = build_model(options, "meta")  # names and routes only: no memory, no init
    route_a, route_b = model.route("a"), model.route("b")
    names = tuple(model.submodels())
    on_a = {name for name in route_a.values() if name}
    on_b = {name for name in route_b.values() if name}
    b_fc = tuple(n for n in (route_b["fc"], route_b["shared_fc"]) if n)
    gblock = tuple(n for n in (route_b["fc_gblock"], route_b["g_block"]) if n)
    return _Routing(
        names=names, b_fc=b_fc,
        b_own_fc=route_b["fc"] if route_b["fc"] not in on_a else None,
        shared_fc=tuple(n for n in b_fc if n in on_a),
        gblock=gblock,
        b_decoder=route_b["decoder"] if route_b["decoder"] not in on_a else None,
        a_only=tuple(n for n in names if n in on_a and n not in on_b))


def _ordered(routing: _Routing, names: Sequence[str]) -> tuple[str, ...]:
    wanted = set(names)
    return tuple(n for n in routing.names if n in wanted)


# Each entry: name → (what it tests, a builder returning (load, freeze) or a skip reason).
Builder = Callable[[_Routing], "tuple[tuple[str, ...], tuple[str, ...]] | str"]


def _scratch(r: _Routing):
    return (), ()


def _encoder(r: _Routing):
    return ("encoder",), ()


def _encoder_frozen(r: _Routing):
    return ("encoder",), ("encoder",)


def _encoder_fc_b(r: _Routing):
    if r.b_own_fc is None:
        return "the design has no FC of B's own (split_fc is off: both sides share fc_both)"
    return ("encoder", r.b_own_fc), ()


def _encoder_shared_fc(r: _Routing):
    if not r.shared_fc:
        return ("no FC is shared by both sides (split_fc on and shared_fc 'none': B's FC is "
                "its own, see enc+fc_b)")
    return ("encoder",) + r.shared_fc, ()


def _b_side(r: _Routing):
    if r.b_decoder is None:
        return ("the design has no decoder of B's own (split_decoders is off): see "
                "all-but-a")
    return ("encoder",) + r.b_fc + (r.b_decoder,), ()


def _b_side_gblock(r: _Routing):
    if not r.gblock:
        return "the design has no G-Block (enable_gblock is off)"
    return ("encoder",) + r.b_fc + r.gblock + ((r.b_decoder,) if r.b_decoder else ()), ()


def _b_side_gblock_frozen(r: _Routing):
    loaded = _b_side_gblock(r)
    if isinstance(loaded, str):
        return loaded
    return loaded[0], r.gblock


def _all_but_a(r: _Routing):
    if not r.a_only:
        return "nothing in this design is A's own: every sub-model is on B's route too"
    return tuple(n for n in r.names if n not in r.a_only), ()


CATALOG: dict[str, tuple[str, Builder]] = {
    SCRATCH: ("nothing loaded: the baseline", _scratch),
    "enc": ("encoder loaded, trainable", _encoder),
    "enc-frozen": ("encoder loaded and frozen", _encoder_frozen),
    "enc+fc_b": ("encoder and B's own FC loaded", _encoder_fc_b),
    "enc+fc_shared": ("encoder and the FC both sides share loaded", _encoder_shared_fc),
    "b-side": ("encoder, B's FC(s) and B's decoder loaded; a G-Block, if any, left fresh",
               _b_side),
    "b-side+gblock": ("B's side and the G-Block loaded, all trainable", _b_side_gblock),
    "b-side+gblock-frozen": ("B's side and the G-Block loaded, the G-Block frozen",
                             _b_side_gblock_frozen),
    "all-but-a": ("the whole model except A's own parts, trainable", _all_but_a),
}


def recipe_names() -> tuple[str, ...]:
    return tuple(CATALOG)


def derive_recipes(options: PhazeAOptions, wanted: Sequence[str] | None = None
                   ) -> tuple[list[Recipe], list[SkippedRecipe]]:
    """The recipes this design can have (all, or `wanted`; the baseline always) and the
    skipped ones with their reasons; unknown names are a ConfigError."""
    unknown = [name for name in wanted or () if name not in CATALOG]
    if unknown:
        raise ConfigError(f"reuse option 'recipes': {', '.join(repr(n) for n in unknown)} "
                          f"not known; expected names from: {', '.join(CATALOG)}")
    # The baseline is always run: "iterations to reach the baseline's loss" needs it.
    chosen = set(wanted or CATALOG) | {SCRATCH}
    routing = _routing(options)
    recipes: list[Recipe] = []
    skipped: list[SkippedRecipe] = []
    for name, (description, build) in CATALOG.items():
        if name not in chosen:
            continue
        built = build(routing)
        if isinstance(built, str):
            skipped.append(SkippedRecipe(name, built))
            continue
        load, freeze = _ordered(routing, built[0]), _ordered(routing, built[1])
        same = next((r.name for r in recipes if (r.load, r.freeze) == (load, freeze)), None)
        if same:
            skipped.append(SkippedRecipe(name, f"in this design it loads and freezes exactly "
                                               f"what '{same}' does"))
            continue
        recipes.append(Recipe(name, load, freeze, description))
    return recipes, skipped
