"""faceswap Phaze-A models with Keras-application encoders import with Keras's outputs.

Ground truth: `tests/formats/keras_backbones/`, made by scripts/testdata/make_keras_backbones.py
(Keras 3.14.1, torch backend): fixture c01's FC and decoders behind an encoder built the way
faceswap builds it around a Keras application, saved as `.keras` or legacy `.h5`.
"""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from phaze.storage.checkpoint import load_model_dir
from phaze.errors import ModelDirError
from phaze.importers.faceswap import import_faceswap
from phaze.importers.faceswap_keras import read_faceswap_model
from phaze.importers.faceswap_weights import map_weights
from phaze.model.encoders.timm_compat import timm_available
from phaze.model.phaze_a import build_model
from narrow_backbones import BACKBONES, convnext as _convnext

DATA = Path(__file__).parent / "keras_backbones"
CASES = ("efficientnet_b0_keras", "mobilenet_v2_a035_keras", "mobilenet_v2_a035_h5",
         "mobilenet_a025_h5")

pytestmark = pytest.mark.skipif(not timm_available(), reason="backbone encoders need timm")


def _nchw(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array).permute(0, 3, 1, 2)


@pytest.mark.parametrize("case", CASES)
def test_encoder_and_faces_match_keras(case, one_thread):
    folder = DATA / case
    faceswap = read_faceswap_model(folder)
    model = build_model(faceswap.options).eval()
    model.load_state_dict(map_weights(model, faceswap.layers, rgb_outputs=False))
    inputs, expected = np.load(folder / "inputs.npz"), np.load(folder / "outputs.npz")
    for side in "ab":
        face = _nchw(inputs[f"face_in_{side}"])     # these encoders take RGB, as faceswap fed
        with torch.no_grad():
            encoded = model.encoder(face)
            swapped = model.side_forward(face, side)[0]
        np.testing.assert_allclose(encoded.numpy(), expected[f"encoder_{side}"], rtol=0,
                                   atol=1e-4, err_msg=f"{case} encoder {side}")
        np.testing.assert_allclose(swapped.permute(0, 2, 3, 1).numpy(), expected[f"face_{side}"],
                                   rtol=0, atol=1e-4, err_msg=f"{case} face {side}")


def test_encoder_output_depends_on_the_input():
    # guards the ground truth itself: a backbone whose output ignores its input proves nothing
    expected = np.load(DATA / "efficientnet_b0_keras" / "outputs.npz")
    assert np.abs(expected["encoder_a"] - expected["encoder_b"]).max() > 0.1


def test_an_h5_model_imports_into_a_working_model_folder(tmp_path, one_thread):
    folder = DATA / "mobilenet_v2_a035_h5"
    report = import_faceswap(folder, tmp_path / "model")
    assert report.tensors > 300
    model, _ = load_model_dir(tmp_path / "model")
    face = _nchw(np.load(folder / "inputs.npz")["face_in_a"])
    with torch.no_grad():
        encoded = model.encoder(face)
    np.testing.assert_allclose(encoded.numpy(), np.load(folder / "outputs.npz")["encoder_a"],
                               rtol=0, atol=1e-4)


def _rewrite_config(keras_file: Path, edit) -> None:
    with zipfile.ZipFile(keras_file) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(keras_file, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)


def _application_layers(config):
    encoder = next(l for l in config["config"]["layers"] if l["name"] == "encoder")
    app = next(l for l in encoder["config"]["layers"] if l["class_name"] == "Functional")
    return app["config"]["layers"]


def test_an_unmappable_backbone_layer_is_one_line_naming_it_and_writes_nothing(tmp_path):
    source = tmp_path / "fs"
    shutil.copytree(DATA / "mobilenet_v2_a035_keras", source)

    def rename(config):   # a layer name no Keras MobileNetV2 has: graph links follow the name
        text = json.dumps(_application_layers(config)).replace('"block_3_expand"',
                                                               '"mystery_conv"')
        _application_layers(config)[:] = json.loads(text)

    _rewrite_config(source / "phaze_a.keras", rename)
    with pytest.raises(ModelDirError) as error:
        import_faceswap(source, tmp_path / "model")
    message = str(error.value)
    assert "\n" not in message
    for part in ("sub-model 'encoder'", "'mystery_conv'", "Conv2D", "mobilenetv2_0.35_64"):
        assert part in message
    assert not (tmp_path / "model").exists() and not (tmp_path / "model.importing").exists()


def test_a_changed_batch_norm_epsilon_is_refused(tmp_path):
    source = tmp_path / "fs"
    shutil.copytree(DATA / "mobilenet_v2_a035_keras", source)

    def epsilon(config):
        layer = next(l for l in _application_layers(config) if l["name"] == "bn_Conv1")
        layer["config"]["epsilon"] = 1e-5

    _rewrite_config(source / "phaze_a.keras", epsilon)
    with pytest.raises(ModelDirError, match="'bn_Conv1'.*epsilon"):
        import_faceswap(source, tmp_path / "model")


# --- backbone level: narrow replicas of applications too large to store --------------------
def _backbone_case(case: str):
    from phaze.importers.faceswap_keras import read_encoder_layers

    layers = read_encoder_layers(DATA / "backbones" / f"{case}.keras")
    data = np.load(DATA / "backbones" / f"{case}.npz")
    return [layer for layer in layers if layer.application], data


def _map_backbone(encoder: str, layers, backbone) -> None:
    from phaze.importers.keras_apps import map_backbone

    state = backbone.state_dict()
    backbone.load_state_dict(map_backbone(encoder, "encoder", layers, backbone, state, ""))


@pytest.mark.parametrize("case", BACKBONES)
def test_backbone_matches_keras(case, one_thread):
    name, build, scaling = BACKBONES[case]
    layers, data = _backbone_case(case)
    backbone = build().eval()
    _map_backbone(name, layers, backbone)
    with torch.no_grad():    # faceswap scales the input inside the encoder
        features = backbone(scaling(_nchw(data["input"])))
    expected = data["output"]
    # the ground truth must depend on the input, or it proves nothing
    assert np.abs(expected).max() > 0.1 and np.abs(expected[0] - expected[1]).max() > 0.01
    features = features.permute(0, 2, 3, 1) if features.dim() == 4 else features   # NHWC
    np.testing.assert_allclose(features.numpy(), expected, rtol=0,
                               atol=1e-4 * max(1.0, float(np.abs(expected).max())))


def test_efficientnet_imagenet_rescale_is_folded_into_the_variance():
    # Keras adds Rescaling(1/√std) after Normalization when ImageNet weights were loaded
    from phaze.importers.faceswap_keras import KerasLayer
    from phaze.importers.keras_apps.common import BackboneMapping
    from phaze.importers.keras_apps.efficientnet import EfficientNetRule
    from phaze.model.encoders.timm_features import KerasEfficientNetInput

    backbone = nn.Module()
    backbone.preprocess = KerasEfficientNetInput()
    mean, variance = np.float32([0.4, 0.5, 0.6]), np.float32([0.04, 0.05, 0.06])
    scale = [1 / 0.2, 1 / 0.22, 1 / 0.25]
    layers = [KerasLayer("encoder", "rescaling", "Rescaling", [], {"scale": 1 / 255}, "e"),
              KerasLayer("encoder", "normalization", "Normalization",
                         [mean, variance, np.float32(0)], {}, "e"),
              KerasLayer("encoder", "rescaling_1", "Rescaling", [], {"scale": scale}, "e")]
    mapping = BackboneMapping("encoder", "e", backbone.state_dict(), "")
    rule = EfficientNetRule()
    assert all(rule(mapping, layer, backbone) for layer in layers)
    np.testing.assert_allclose(mapping.mapped["preprocess.variance"].numpy(),
                               variance / np.float32(scale) ** 2, rtol=1e-6)


def test_a_mobilenet_v3_model_is_refused_with_the_reason(tmp_path):
    source = tmp_path / "fs"
    shutil.copytree(DATA / "mobilenet_v2_a035_keras", source)
    state = json.loads((source / "phaze_a_state.json").read_text())
    state["config"]["enc_architecture"] = "mobilenet_v3_small"
    (source / "phaze_a_state.json").write_text(json.dumps(state))
    with pytest.raises(ModelDirError, match="mobilenet_v3_small.*rescales its input a second "
                                            "time"):
        import_faceswap(source, tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_convnext_input_statistics_other_than_phazes_are_refused(tmp_path):
    keras_file = tmp_path / "convnext.keras"
    shutil.copy(DATA / "backbones" / "convnext_small_width.keras", keras_file)

    def other_mean(config):   # this file's top level is the encoder itself
        app = next(l for l in config["config"]["layers"] if l["class_name"] == "Functional")
        layer = next(l for l in app["config"]["layers"] if l["class_name"] == "Normalization")
        layer["config"]["mean"] = [0.0, 0.0, 0.0]

    _rewrite_config(keras_file, other_mean)
    from phaze.importers.faceswap_keras import read_encoder_layers

    layers = [layer for layer in read_encoder_layers(keras_file) if layer.application]
    with pytest.raises(ModelDirError, match="prestem_normalization.*ImageNet"):
        _map_backbone("convnext_tiny", layers, _convnext())
