"""Read faceswap 2's `<name>.h5` full-model files (TensorFlow-Keras 2 HDF5 layout), h5py only.

Layout relied on (TF-Keras 2 `save_weights_to_hdf5_group`, which Keras 3's legacy writer keeps):
the root attribute `model_config` holds the functional config as JSON; `model_weights` has one
group per top-level layer, whose attribute `weight_names` lists that layer's variables in
`layer.weights` order, each stored under its own name. A sub-model's group holds the variables
of all its layers, nested backbones included, named `<layer>/<variable>` (TF-Keras 2 adds a
`:0` suffix and may put the model's scope in front), so the segment before the variable names
the layer. Nothing in the file is executed: the config is plain JSON.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from phaze.errors import ModelDirError
from phaze.importers.archive_limits import parse_config_json, read_dataset
from phaze.importers.faceswap_keras import KerasLayer, _phaze_a_submodels, _walk


_INNER_LAYERS = {"query", "key", "value", "attention_output"}


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _group_weights(group: Any) -> dict[str, list[np.ndarray]]:
    """{layer name: its arrays in Keras order} for one top-level layer's group."""
    per_layer: dict[str, list[np.ndarray]] = {}
    for raw in group.attrs.get("weight_names", []):
        name = _text(raw)
        parts = name.split(":")[0].split("/")
        if len(parts) < 2:
            raise ModelDirError(f"weight '{name}' does not name its layer")
        # MultiHeadAttention names its variables <layer>/query/kernel and so on
        layer = parts[-3] if len(parts) >= 3 and parts[-2] in _INNER_LAYERS else parts[-2]
        per_layer.setdefault(layer, []).append(read_dataset(group, name, "model_weights"))
    return per_layer


def read_h5_layers(h5_file: Path) -> dict[str, list[KerasLayer]]:
    """Every weighted layer of a faceswap 2 Phaze-A `.h5` file, per sub-model, in graph order."""
    import h5py

    try:
        with h5py.File(h5_file, "r") as h5:
            if "model_config" not in h5.attrs or "model_weights" not in h5:
                raise ModelDirError(f"'{h5_file}' is not a Keras full-model .h5 file (no "
                                    "model_config / model_weights)")
            # an attribute is stored whole (never compressed), so reading it costs at most
            # the file's own size; its length and depth are checked before it is parsed
            raw = h5.attrs["model_config"]
            config = parse_config_json(raw, str(h5_file))   # size, depth and shape checked
            _phaze_a_submodels(config, h5_file)
            weights = h5["model_weights"]
            tops = {_text(name): _group_weights(weights[_text(name)])
                    for name in weights.attrs.get("layer_names", []) if _text(name) in weights}

            def fetch(_path: str, top: str, name: str) -> list[np.ndarray]:
                return tops.get(top, {}).get(name, [])

            out: dict[str, list[KerasLayer]] = {}
            _walk(config["config"], fetch, "layers", None, out)
    except (OSError, KeyError, ValueError, TypeError, AttributeError, IndexError,
            RecursionError, UnicodeDecodeError) as error:
        raise ModelDirError(f"'{h5_file}' is not a readable faceswap .h5 model: "
                            f"{error}") from None
    return out
