"""A crafted faceswap `.keras` archive is one line, never GBs of memory or a traceback: zip
bombs, a huge config.json, malformed or deeply nested configs, oversized HDF5 datasets."""
from __future__ import annotations

import io
import json

import h5py
import pytest
from hostile_helpers import deflate_bomb, run_phaze, write_zip

from phaze.errors import ModelDirError
from phaze.importers.archive_limits import read_dataset
from phaze.importers.faceswap import import_faceswap
from phaze.importers.faceswap_keras import read_keras_layers

BOMB_BOUND_MB = 1024
STATE = {"config": {"enc_architecture": "fs_original", "output_size": 64,
                    "dec_upscale_method": "subpixel"}}
EMPTY_MODEL = {"class_name": "Functional", "config": {"layers": []}}


def _faceswap_folder(tmp_path, members) -> tuple:
    folder = tmp_path / "fs_model"
    folder.mkdir()
    (folder / "phaze_a_state.json").write_text(json.dumps(STATE))
    return folder, write_zip(folder / "phaze_a.keras", members)


def test_a_zip_bomb_weights_file_is_refused_under_the_memory_bound(tmp_path):
    bomb = deflate_bomb(2**30)   # model.weights.h5: 1 MB in the zip, 1 GiB inflated
    folder, keras_file = _faceswap_folder(tmp_path, {
        "config.json": json.dumps(EMPTY_MODEL).encode(), "model.weights.h5": bomb})
    before = keras_file.read_bytes()

    result = run_phaze(["import-faceswap", "--from", str(folder), "--model-dir",
                        str(tmp_path / "model")], tmp_path)

    lines = [line for line in result.stderr.splitlines() if line.startswith("phaze: error")]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "model.weights.h5" in lines[0] and "PHAZE_MAX_COMPRESSION_RATIO" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.peak_mb < BOMB_BOUND_MB, result.peak_mb
    assert not (tmp_path / "model").exists() and keras_file.read_bytes() == before


def test_a_config_json_of_one_gib_string_is_refused_by_its_size(tmp_path):
    huge = deflate_bomb(2**30, b"A", prefix=b'{"class_name": "', suffix=b'"}')   # ~1 MB
    _, keras_file = _faceswap_folder(tmp_path, {"config.json": huge})
    with pytest.raises(ModelDirError) as caught:
        read_keras_layers(keras_file)
    message = str(caught.value)
    assert "config.json" in message and "PHAZE_MAX_CONFIG_JSON_BYTES" in message
    assert "\n" not in message


@pytest.mark.parametrize("config, expected", [
    ([1, 2, 3], "holds a list"),
    ({"class_name": "Functional", "config": "a string"}, "no 'config.layers' list"),
    ({"class_name": "Functional", "config": {"layers": [1, "two"]}}, "layer 0 is not an object"),
    ({"class_name": "Functional", "config": {"layers": [
        {"name": "encoder", "class_name": "Functional", "config": {"layers": "x"}}]}},
     "sub-model 'encoder' has no 'config.layers' list"),
    ({"class_name": "Functional", "config": {"layers": [
        {"name": 5, "class_name": "Dense"}]}}, "string 'name'"),
])
def test_a_malformed_config_json_is_one_line(tmp_path, config, expected):
    folder, keras_file = _faceswap_folder(tmp_path, {"config.json": json.dumps(config).encode(),
                                                     "model.weights.h5": b""})
    with pytest.raises(ModelDirError, match=expected) as caught:
        import_faceswap(folder, tmp_path / "model")
    assert str(keras_file) in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("depth", [300, 100_000])
def test_a_deeply_nested_config_json_is_one_line(tmp_path, depth):
    text = b'{"class_name": "Functional", "config": {"layers": [], "x": ' + b"[" * depth \
        + b"]" * depth + b"}}"
    _, keras_file = _faceswap_folder(tmp_path, {"config.json": text})
    with pytest.raises(ModelDirError, match="nests deeper than the 200 level limit"):
        read_keras_layers(keras_file)


def test_an_hdf5_dataset_claiming_gigabytes_is_refused_before_reading():
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:   # declared, never written: a few KB on disk
        h5.create_dataset("vars/0", shape=(1 << 16, 1 << 15), dtype="f4")
    with h5py.File(buffer, "r") as h5:
        with pytest.raises(ModelDirError, match=r"shape \(65536, 32768\).*"
                                                "PHAZE_MAX_DATASET_BYTES"):
            read_dataset(h5["vars"], "0", "model.weights.h5")
