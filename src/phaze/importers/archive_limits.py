"""Bounded reads of a `.keras` archive: zip members, its config.json and HDF5 datasets.

A 2 MB zip can expand to GBs, a 1 MB config.json can hold a 1 GiB string or nest 100 000
levels deep, and an HDF5 dataset's shape is whatever the file claims. Every size is checked
against `phaze.io.limits.Limits` before memory is spent, and every refusal is one ModelDirError
naming the file, what was too big, and the variable that raises the limit.
"""
from __future__ import annotations

import json
import zipfile
from typing import Any

import numpy as np

from phaze.errors import ModelDirError
from phaze.io.limits import Limits, current_limits, env_name

_CHUNK_BYTES = 1 << 20


def read_member(archive: zipfile.ZipFile, member: str, source: str, max_bytes: int,
                limit_name: str, limits: Limits | None = None) -> bytes:
    """The bytes of `member`, refused when its declared size, its compression ratio or the
    bytes actually inflated pass the budget (the declared size is not trusted)."""
    limits = limits or current_limits()
    info = archive.getinfo(member)   # KeyError for a missing member, as archive.read gives
    if info.file_size > max_bytes:
        raise ModelDirError(f"'{source}': {member} is {info.file_size} bytes, over the "
                            f"{max_bytes} byte limit (raise it with {env_name(limit_name)})")
    ratio_cap = limits.max_compression_ratio
    if info.file_size > _CHUNK_BYTES and info.file_size > ratio_cap * max(info.compress_size, 1):
        raise ModelDirError(
            f"'{source}': {member} expands {info.file_size // max(info.compress_size, 1)}x "
            f"({info.compress_size} -> {info.file_size} bytes), over the {ratio_cap}x limit "
            f"for a zip member: a zip bomb? (raise it with {env_name('max_compression_ratio')})")
    parts, total = [], 0
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            total += len(chunk)
            if total > min(max_bytes, info.file_size):
                raise ModelDirError(f"'{source}': {member} inflates past its declared "
                                    f"{info.file_size} bytes: the archive is damaged or crafted")
            parts.append(chunk)
    return b"".join(parts)


def read_config_json(archive: zipfile.ZipFile, source: str,
                     limits: Limits | None = None) -> dict[str, Any]:
    """config.json of a `.keras` archive: size- and depth-checked, then parsed."""
    limits = limits or current_limits()
    data = read_member(archive, "config.json", source, limits.max_config_json_bytes,
                       "max_config_json_bytes", limits)
    return parse_config_json(data, source, limits)


def parse_config_json(data: bytes | str, source: str,
                      limits: Limits | None = None) -> dict[str, Any]:
    """A model config's JSON text (config.json, or an .h5 file's model_config attribute):
    size- and depth-checked, then parsed."""
    limits = limits or current_limits()
    if len(data) > limits.max_config_json_bytes:
        raise ModelDirError(f"'{source}': the model config is {len(data)} bytes, over the "
                            f"{limits.max_config_json_bytes} byte limit (raise it with "
                            f"{env_name('max_config_json_bytes')})")
    too_deep = ModelDirError(f"'{source}': config.json nests deeper than the "
                             f"{limits.max_config_json_depth} level limit (raise it with "
                             f"{env_name('max_config_json_depth')})")
    try:
        config = json.loads(data)
    except RecursionError:   # json's C parser stops at the interpreter's recursion limit
        raise too_deep from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelDirError(f"'{source}': config.json is not valid JSON: {error}") from None
    if _max_depth(config) > limits.max_config_json_depth:
        raise too_deep
    check_config_shape(config, source)
    return config


def _max_depth(value: Any) -> int:
    """Deepest nesting of parsed JSON, walked with a stack: the readers that come after it
    recurse, so depth is checked before they run."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1)
                         for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def check_config_shape(config: Any, source: str) -> None:
    """ModelDirError unless every (nested) model config is {"config": {"layers": [dict, ...]}}
    with string names and class names: the walkers can then index without type errors."""
    if not isinstance(config, dict):
        raise ModelDirError(f"'{source}': config.json holds a {type(config).__name__}, "
                            "expected a Keras model object")
    _check_model(config, "config.json", source)


def _check_model(model: dict, where: str, source: str) -> None:
    inner = model.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        raise ModelDirError(f"'{source}': {where} has no 'config.layers' list: not a functional "
                            "Keras model")
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("name"), str) \
                or not isinstance(layer.get("class_name"), str):
            raise ModelDirError(f"'{source}': {where} layer {index} is not an object with a "
                                "string 'name' and 'class_name'")
        if not isinstance(layer.get("inbound_nodes", []), list):
            raise ModelDirError(f"'{source}': layer '{layer['name']}' has inbound_nodes that "
                                "are not a list")
        if layer["class_name"] == "Functional":
            _check_model(layer, f"sub-model '{layer['name']}'", source)


def read_dataset(group: Any, name: str, source: str,
                 limits: Limits | None = None) -> np.ndarray:
    """One HDF5 weight tensor as float32, refused when its shape claims more than the budget."""
    limits = limits or current_limits()
    dataset = group[name]
    shape = getattr(dataset, "shape", None)
    if shape is None:
        raise ModelDirError(f"'{source}': weight '{name}' is not a dataset")
    size = int(np.prod(shape, dtype=np.float64)) * 4   # read as float32
    if size > limits.max_dataset_bytes:
        raise ModelDirError(f"'{source}': weight {dataset.name} of shape {tuple(shape)} needs "
                            f"{size} bytes, over the {limits.max_dataset_bytes} byte limit "
                            f"(raise it with {env_name('max_dataset_bytes')})")
    return np.asarray(dataset, dtype=np.float32)
