"""faceswap 2 `.h5` files: the TensorFlow-Keras 2 layout is read by name; bad files are one line."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from phaze.errors import ModelDirError
from phaze.importers.faceswap_h5 import _group_weights
from phaze.importers.faceswap import import_faceswap
from phaze.importers.faceswap_keras import _history


def test_tf_keras_2_weight_names_are_grouped_by_their_layer(tmp_path):
    names = ["block1a_dwconv/depthwise_kernel:0",          # TF-Keras 2 adds ':0'
             "efficientnetb0/stem_bn/gamma:0",             # a model scope in front
             "visual_resblocks_0_attn/query/kernel:0",     # MultiHeadAttention's inner layers
             "visual_resblocks_0_attn/attention_output/bias:0"]
    with h5py.File(tmp_path / "w.h5", "w") as h5:
        group = h5.create_group("encoder")
        for index, name in enumerate(names):
            group[name] = np.full(2, index, np.float32)
        group.attrs["weight_names"] = [name.encode() for name in names]
        grouped = _group_weights(group)
    assert list(grouped) == ["block1a_dwconv", "stem_bn", "visual_resblocks_0_attn"]
    assert [a[0] for a in grouped["visual_resblocks_0_attn"]] == [2.0, 3.0]


def test_tf_keras_2_inbound_nodes_name_their_source_layers():
    assert _history([[["conv1", 0, 0, {}], ["add_3", 1, 0, {}]]]) == ["conv1", "add_3"]


def test_an_h5_without_a_model_config_is_one_line_and_writes_nothing(tmp_path):
    source = tmp_path / "fs"
    source.mkdir()
    with h5py.File(source / "phaze_a.h5", "w") as h5:
        h5["weights"] = np.zeros(3, np.float32)          # weights only (save_weights)
    (source / "phaze_a_state.json").write_text(json.dumps(
        {"config": {"enc_architecture": "fs_original", "output_size": 64,
                    "dec_upscale_method": "subpixel"}}))
    with pytest.raises(ModelDirError, match="not a Keras full-model .h5 file") as error:
        import_faceswap(source, tmp_path / "model")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "model").exists()


def test_an_h5_model_config_over_the_budget_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PHAZE_MAX_CONFIG_JSON_BYTES", "1000")
    source = tmp_path / "fs"
    source.mkdir()
    with h5py.File(source / "phaze_a.h5", "w") as h5:
        h5.attrs["model_config"] = json.dumps({"config": {"layers": []},
                                               "pad": "x" * 5000}).encode()
        h5.create_group("model_weights")
    (source / "phaze_a_state.json").write_text(json.dumps(
        {"config": {"enc_architecture": "fs_original", "output_size": 64,
                    "dec_upscale_method": "subpixel"}}))
    with pytest.raises(ModelDirError, match="model config is 50.. bytes, over the 1000 byte limit"):
        import_faceswap(source, tmp_path / "model")
