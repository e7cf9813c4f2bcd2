"""Read a faceswap Phaze-A model (`<name>.keras` + `<name>_state.json`) into Phaze.

The `.keras` file is a zip holding `config.json` (the functional graph) and `model.weights.h5`.
It is read with zipfile + h5py only: no Keras, no code from the archive is executed. Weights are
named in the h5 file by class-name counters (`layers/functional_4/layers/dense_2/vars/0`), which
follow the layer order of the config, so walking the config recovers every layer's weights.
faceswap 2's `.h5` files (TensorFlow-Keras layout: `model_config` attribute, one group per
top-level layer with `weight_names`) are read the same way, by layer name (`faceswap_h5`).

Keras layers are matched to Phaze modules per sub-model and per layer kind (conv, dense, norm,
...) in order: the Keras graph walked depth-first from the outputs gives, per kind, the order in
which Phaze's forward pass calls its modules of that kind. Shapes are checked for every tensor before anything is kept.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from phaze.config.options import OPTION_FIELDS, PhazeAOptions
from phaze.config.parse import options_from_mapping
from phaze.errors import ConfigError, ModelDirError
from phaze.importers.archive_limits import read_config_json, read_dataset, read_member
from phaze.io.limits import current_limits

# faceswap global options that change nothing in the network Phaze builds
_IGNORED_CONFIG = {"mixed_precision", "mask_type", "centering", "coverage"}
# nested models; TF-Keras before 2.4 called them "Model". Keras' ConvNeXt nests Sequentials.
FUNCTIONAL = {"Functional", "Model", "Sequential"}
PHAZE_A_SUBMODELS = {"encoder", "fc_a", "fc_b", "fc_both", "fc_shared", "fc_gblock",
                     "g_block_a", "g_block_b", "g_block_both", "decoder_a", "decoder_b",
                     "decoder_both"}
# Keras class → the kind it is matched on; layers of other classes must hold no weights.
KERAS_KINDS = {"Conv2D": "conv", "Conv2DTranspose": "conv_transpose", "Dense": "dense",
               "BatchNormalization": "batch_norm", "LayerNormalization": "layer_norm",
               "InstanceNormalization": "instance_norm", "GroupNormalization": "group_norm",
               "RMSNormalization": "rms_norm"}


@dataclass
class KerasLayer:
    submodel: str
    name: str
    class_name: str
    weights: list[np.ndarray]
    config: dict[str, Any] = field(default_factory=dict)   # the layer's Keras arguments
    application: str | None = None   # the nested Keras application (backbone) it belongs to


# weightless layers of a Keras application that still change its function (input scaling;
# a Normalization given its statistics as arguments keeps them in its config, not as weights)
_KEPT_WEIGHTLESS = {"Rescaling", "Normalization"}


@dataclass
class FaceswapModel:
    """What an import needs from a faceswap model folder."""

    source: Path
    options: PhazeAOptions
    centering: str
    coverage: float
    layers: dict[str, list[KerasLayer]] = field(default_factory=dict)  # per sub-model


# --- finding and reading the files ----------------------------------------------------------
def find_model_files(folder: str | Path) -> tuple[Path, Path]:
    """(`<name>.keras` or faceswap 2's `<name>.h5`, `<name>_state.json`), or a ModelDirError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelDirError(f"'{folder}' is not a folder")
    for keras_file in sorted(folder.glob("*.keras")) + sorted(folder.glob("*.h5")):
        state = folder / f"{keras_file.stem}_state.json"
        if state.is_file():
            return keras_file, state
    if (folder / "phaze.json").is_file():
        raise ModelDirError(f"'{folder}' is a Phaze model folder, not a faceswap one")
    raise ModelDirError(f"'{folder}' is not a faceswap model folder (expected <name>.keras "
                        "or <name>.h5 beside <name>_state.json)")


def read_state(state_file: Path) -> dict[str, Any]:
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelDirError(f"'{state_file}' is not a readable faceswap state file: "
                            f"{error}") from None
    if not isinstance(state, dict) or not isinstance(state.get("config"), dict):
        raise ModelDirError(f"'{state_file}' has no 'config' mapping: not a faceswap state file")
    return state


def options_from_faceswap(config: dict[str, Any], source: str = "state file") -> PhazeAOptions:
    """faceswap's flat option mapping → PhazeAOptions (faceswap does not enforce slider ranges)."""
    values = {k: v for k, v in config.items() if k in OPTION_FIELDS}
    missing = {"enc_architecture", "output_size", "dec_upscale_method"} - set(values)
    if missing:
        raise ModelDirError(f"{source} holds no Phaze-A options (missing "
                            f"{', '.join(sorted(missing))})")
    try:
        return options_from_mapping(values, enforce_range=False)
    except ConfigError as error:
        raise ModelDirError(f"{source}: {error}") from None


def _snake(name: str) -> str:
    """Keras's class-name → object-path name (Conv2DTranspose → conv2d_transpose)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _read_archive(keras_file: Path) -> tuple[dict[str, Any], bytes]:
    try:
        with zipfile.ZipFile(keras_file) as archive:
            config = read_config_json(archive, str(keras_file))
            weights = read_member(archive, "model.weights.h5", str(keras_file),
                                  current_limits().max_archive_member_bytes,
                                  "max_archive_member_bytes")
    except (OSError, zipfile.BadZipFile, KeyError, EOFError, zipfile.LargeZipFile,
            json.JSONDecodeError, UnicodeDecodeError, ValueError) as error:
        raise ModelDirError(f"'{keras_file}' is not a readable .keras archive: "
                            f"{error}") from None
    return config, weights


def _phaze_a_submodels(config: dict[str, Any], keras_file: Path) -> list[dict[str, Any]]:
    layers = config.get("config", {}).get("layers") if isinstance(config, dict) else None
    if config.get("class_name") not in FUNCTIONAL or not isinstance(layers, list):
        raise ModelDirError(f"'{keras_file}' does not hold a functional Keras model")
    subs = [layer for layer in layers if layer.get("class_name") in FUNCTIONAL]
    names = {layer.get("name") for layer in subs}
    if "encoder" not in names or not names & {"decoder_a", "decoder_both"} \
            or not names <= PHAZE_A_SUBMODELS:
        raise ModelDirError(f"'{keras_file}' is not a Phaze-A model (its sub-models are "
                            f"{sorted(n for n in names if n)}; expected encoder, fc_*, "
                            "g_block_*, decoder_*)")
    return layers


def _history(value: Any) -> list[str]:
    """Names of the layers whose tensors appear in a node's arguments, in argument order."""
    if isinstance(value, dict):
        history = value.get("config", {}).get("keras_history") \
            if value.get("class_name") == "__keras_tensor__" else None
        if history:
            return [history[0]]
        return [name for item in value.values() for name in _history(item)]
    if isinstance(value, list):
        if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int):
            return [value[0]]   # TF-Keras 2 layout: [layer name, node index, tensor index, {}]
        return [name for item in value for name in _history(item)]
    return []


def _layer_name(layer: dict[str, Any]) -> str:
    """A layer's name; a Sequential's layers keep it only inside their config."""
    name = layer.get("name") or (layer.get("config") or {}).get("name")
    if not isinstance(name, str):
        raise ModelDirError(f"a {layer.get('class_name', '?')} layer of the model has no name")
    return name


def _output_names(value: Any) -> list[str]:
    """Layer names of `output_layers`: [name, node, tensor] triples, however deeply nested
    (a single output is stored unwrapped; a sub-model with list outputs adds a level)."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value[0]]
    if isinstance(value, list):
        return [name for item in value for name in _output_names(item)]
    return []


def _graph_order(config: dict[str, Any]) -> list[str]:
    """Layer names depth-first from the outputs, each layer after all of its inputs.

    Config order interleaves parallel branches (face and mask paths, the two halves of an
    upscaler); this order finishes one output's chain, argument by argument, before the next,
    which is the order Phaze's forward pass calls its modules in.
    """
    layers = {_layer_name(layer): layer for layer in config["layers"]}
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in layers:
            return
        seen.add(name)
        for node in layers[name].get("inbound_nodes", []):
            for source in _history(node):
                visit(source)
        order.append(name)

    for output in _output_names(config.get("output_layers") or []):
        visit(output)
    order += [name for name in layers if name not in seen]
    return order


WeightFetch = Callable[[str, str, str], list]   # (h5 path, top-level layer, layer) → arrays


def _walk(config: dict[str, Any], fetch: WeightFetch, prefix: str, submodel: str | None,
          out: dict[str, list[KerasLayer]], application: str | None = None) -> None:
    """Collect weighted layers in graph order; a nested Functional keeps its parent's name.

    A Functional nested inside a sub-model is a Keras application (the encoder's backbone):
    its layers are marked with its name, and its input-scaling layers are kept too.
    """
    counters: dict[str, int] = {}
    paths: dict[str, str] = {}
    for layer in config["layers"]:   # h5 names count classes in config order
        snake = _snake(layer.get("class_name", ""))
        count = counters.get(snake, 0)
        counters[snake] = count + 1
        paths[_layer_name(layer)] = f"{prefix}/{snake}" + (f"_{count}" if count else "")
    layers = {_layer_name(layer): layer for layer in config["layers"]}
    for name in _graph_order(config):
        layer, path = layers[name], paths[name]
        class_name = layer.get("class_name", "")
        if class_name in FUNCTIONAL:
            _walk(layer["config"], fetch, f"{path}/layers", submodel or name, out,
                  application=(application or name) if submodel else None)
            continue
        weights = fetch(path, submodel or name, name)
        if not weights and not (application and class_name in _KEPT_WEIGHTLESS):
            continue
        if submodel is None:
            raise ModelDirError(f"layer '{name}' ({class_name}) holds weights outside every "
                                "sub-model: not a Phaze-A model")
        out.setdefault(submodel, []).append(KerasLayer(
            submodel, name, class_name, weights, layer.get("config") or {}, application))


# Keras layers built from inner layers store their variables in sub-groups, in this order
# (MultiHeadAttention: query, key, value, then output projection; kernel then bias each)
NESTED_VARS = ("query_dense", "key_dense", "value_dense", "output_dense")


def _keras3_fetch(h5: Any) -> WeightFetch:
    def read(group: Any) -> list:   # each tensor's declared size checked before it is read
        return [read_dataset(group, str(i), "model.weights.h5") for i in range(len(group))]

    def fetch(path: str, _top: str, _name: str) -> list:
        group = h5.get(f"{path}/vars")
        if group is not None and len(group):
            return read(group)
        nested = [h5.get(f"{path}/{part}/vars") for part in NESTED_VARS]
        return [array for group in nested if group is not None for array in read(group)]
    return fetch


def read_keras_layers(keras_file: Path) -> dict[str, list[KerasLayer]]:
    """Every weighted layer of a Phaze-A `.keras` archive (or faceswap 2 `.h5`), per sub-model."""
    import h5py

    if keras_file.suffix == ".h5":
        from phaze.importers.faceswap_h5 import read_h5_layers
        return read_h5_layers(keras_file)
    config, weights = _read_archive(keras_file)
    _phaze_a_submodels(config, keras_file)
    out: dict[str, list[KerasLayer]] = {}
    try:
        with h5py.File(io.BytesIO(weights), "r") as h5:
            _walk(config["config"], _keras3_fetch(h5), "layers", None, out)
    except (OSError, KeyError, ValueError) as error:
        raise ModelDirError(f"'{keras_file}': model.weights.h5 is damaged: {error}") from None
    except (AttributeError, TypeError, IndexError, RecursionError) as error:   # odd config.json
        raise ModelDirError(f"'{keras_file}': config.json is malformed ({error})") from None
    except ModelDirError as error:   # a weight over the size budget
        raise ModelDirError(f"'{keras_file}': {error}") from None
    return out


def read_encoder_layers(keras_file: Path) -> list[KerasLayer]:
    """The layers of a `.keras` file holding one faceswap encoder alone (backbone tests)."""
    import h5py

    config, weights = _read_archive(keras_file)
    out: dict[str, list[KerasLayer]] = {}
    with h5py.File(io.BytesIO(weights), "r") as h5:
        _walk(config["config"], _keras3_fetch(h5), "layers", "encoder", out)
    return out.get("encoder", [])


def read_faceswap_model(folder: str | Path) -> FaceswapModel:
    keras_file, state_file = find_model_files(folder)
    state = read_state(state_file)
    options = options_from_faceswap(state["config"], str(state_file))
    layers = read_keras_layers(keras_file)
    centering = str(state["config"].get("centering", "face"))
    coverage = float(state["config"].get("coverage", 100.0))
    return FaceswapModel(Path(folder), options, centering, coverage, layers)
