"""What the design page shows for a set of option values: errors, summary, routes, curves.

Only public builder APIs are used: the options schema, `coerce_option`, `build_model(...,
"meta")`, the summary and the memory estimate. Nothing real is allocated, so a 300 M-parameter
design answers quickly.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from phaze.config.options import OPTION_FIELDS, PhazeAOptions
from phaze.config.parse import coerce_option, describe_allowed
from phaze.errors import PhazeError

# The options schema's own groups, folded into the guide's seven sections.
PAGE_GROUPS = {
    "general": "general", "global": "general", "encoder": "encoder", "fs_original": "encoder",
    "mobilenet": "encoder", "bottleneck": "bottleneck", "hidden": "fully connected",
    "gblock": "G-Block", "decoder": "decoder", "weights": "weights",
}
GROUP_ORDER = ("general", "encoder", "bottleneck", "fully connected", "G-Block", "decoder",
               "weights")

MAX_MEMORY_BATCH = 4096
_QUOTED_NAME = re.compile(r"'([a-z0-9_]+)'")


def option_schema() -> dict[str, Any]:
    """Every option with its page group, help, default, kind and allowed values."""
    defaults = PhazeAOptions().to_dict()
    options = []
    for name, field in OPTION_FIELDS.items():
        meta = field.metadata
        kind = {int: "int", float: "float", bool: "bool", str: "choice",
                tuple: "names"}[meta["kind"]]
        if kind == "choice" and meta["choices"] is None:
            kind = "encoder"
        entry = {"name": name, "group": PAGE_GROUPS[meta["group"]], "help": meta["help"],
                 "default": defaults[name], "kind": kind, "allowed": describe_allowed(meta),
                 "updatable": meta["updatable"]}
        if "range" in meta:
            entry["range"] = list(meta["range"])
        if meta.get("choices") is not None:
            entry["choices"] = list(meta["choices"])
        options.append(entry)
    if any(o["kind"] == "encoder" for o in options):
        from phaze.model.encoders import ENCODERS

        for entry in options:
            if entry["kind"] == "encoder":
                entry["choices"] = list(ENCODERS.names())
    return {"groups": list(GROUP_ORDER), "options": options}


def coerce_values(values: Mapping[str, Any]) -> tuple[PhazeAOptions | None, dict[str, str]]:
    """Options from raw page values, or per-option errors (the CLI's one-line messages)."""
    changes, errors = {}, {}
    for name, value in values.items():
        try:
            changes[name] = coerce_option(name, value)
        except PhazeError as error:
            errors[name if name in OPTION_FIELDS else "_general"] = str(error)
    if errors:
        return None, errors
    return PhazeAOptions().replace(**changes), {}


def _error_targets(message: str) -> list[str]:
    """The options a design error names (in quotes), else the general slot."""
    names = [n for n in _QUOTED_NAME.findall(message) if n in OPTION_FIELDS]
    return list(dict.fromkeys(names)) or ["_general"]


def evaluate(values: Mapping[str, Any], batch_size: int | None = None) -> dict[str, Any]:
    """Everything the design page shows for `values` ({name: raw value})."""
    options, errors = coerce_values(values)
    if options is None:
        return {"ok": False, "errors": errors}
    from phaze.model.phaze_a import build_model
    from phaze.model.summary import summarize

    try:
        model = build_model(options, "meta")
    except PhazeError as error:
        return {"ok": False, "errors": {name: str(error) for name in _error_targets(str(error))}}
    summary = summarize(model)
    result = {"ok": True, "errors": {}, "summary": summary.to_dict(),
              "details": summary.details, "graph": route_graph(model),
              "curves": filter_curves(model)}
    if batch_size is not None:     # last: the estimate consumes the meta model
        result["memory_estimate"] = memory_estimate(options, batch_size, model)
    return result


def memory_estimate(options: PhazeAOptions, batch_size: int, model=None) -> dict[str, Any]:
    from phaze.train.memory import estimate_training_memory

    if not 1 <= batch_size <= MAX_MEMORY_BATCH:
        return {"error": f"batch size = {batch_size} is invalid: expected an integer from 1 "
                         f"to {MAX_MEMORY_BATCH}"}
    return estimate_training_memory(options, batch_size, model=model)


def route_graph(model) -> dict[str, Any]:
    """The model's real routes as nodes and edges (the page draws them as SVG)."""
    from phaze.model.summary import count_parameters

    routes = {side: model.route(side) for side in ("a", "b")}
    nodes, edges = {}, []

    def node(name: str, column: int) -> str:
        if name not in nodes:
            params = 0
            if not name.startswith(("face_", "out_")):
                params = sum(count_parameters(model.get_submodule(name)))
            nodes[name] = {"name": name, "column": column, "params": params}
        return name

    def edge(source: str, target: str, label: str = "") -> None:
        if (source, target) not in {(e["from"], e["to"]) for e in edges}:
            edges.append({"from": source, "to": target, "label": label})

    for side, route in routes.items():
        entry = node(f"face_in_{side}", 0)
        edge(entry, node("encoder", 1))
        edge("encoder", node(route["fc"], 2))
        target = node(route["g_block"] or route["decoder"], 3 if route["g_block"] else 4)
        shared = route["shared_fc"]
        if shared is not None:
            edge("encoder", node(shared, 2))
        for source in dict.fromkeys([route["fc"], shared or route["fc"]]):
            edge(source, target, "concat" if shared is not None else "")
        if route["g_block"]:
            edge("encoder", node("fc_gblock", 2))
            edge("fc_gblock", route["g_block"], "style")
            edge(route["g_block"], node(route["decoder"], 4))
        edge(route["decoder"], node(f"out_{side}", 5))
    return {"routes": routes, "nodes": list(nodes.values()), "edges": edges}


def filter_curves(model) -> dict[str, list[int]]:
    """Filter counts layer by layer: encoder convolutions, FC, G-Block and decoder."""
    from torch import nn

    design = model.design
    encoder = [m.out_channels for m in model.encoder.modules() if isinstance(m, nn.Conv2d)]
    return {"encoder": encoder, "fc": list(design.fc.dense_widths),
            "gblock": list(design.gblock_widths) if model.options.enable_gblock else [],
            "decoder": list(design.decoder.filters)}
