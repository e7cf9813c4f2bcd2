"""`phaze import-faceswap`: the imported folder behaves like a Phaze model; bad input is refused."""
from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest
import torch

from phaze.storage.checkpoint import load_model_dir
from phaze.cli.main import main
from phaze.errors import ModelDirError
from phaze.importers.faceswap import import_faceswap
from phaze.faces.framing import Framing
from phaze.storage.framing_file import read_model_framing
from faceswap_fixtures import case_dir


def _copy_case(case: str, tmp_path):
    target = tmp_path / f"fs_{case}"
    shutil.copytree(case_dir(case), target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def test_import_writes_a_model_folder_that_reproduces_faceswap(tmp_path, one_thread):
    folder = case_dir("c10")
    report = import_faceswap(folder, tmp_path / "model")
    assert report.centering == "face" and report.coverage == 100.0
    model, checkpoint = load_model_dir(tmp_path / "model")
    framing = read_model_framing(tmp_path / "model")
    assert (framing.centering, framing.coverage) == ("face", 100.0)
    assert checkpoint.state.iteration == 0
    face = torch.from_numpy(np.load(folder / "inputs.npz")["face_in_b"]).permute(0, 3, 1, 2)
    with torch.no_grad():
        swapped, mask = model.side_forward(face.flip(1), "b")
    expected = np.load(folder / "outputs.npz")
    # faceswap's face is BGR (fs_original is trained on BGR); the imported model gives RGB
    np.testing.assert_allclose(swapped.flip(1).permute(0, 2, 3, 1).numpy(), expected["face_b"],
                               rtol=0, atol=1e-5)
    np.testing.assert_allclose(mask.permute(0, 2, 3, 1).numpy(), expected["mask_b"],
                               rtol=0, atol=1e-5)


def test_cli_import_prints_one_line_and_refuses_an_existing_folder(tmp_path, capsys):
    source = case_dir("c03")
    assert main(["import-faceswap", "--from", str(source), "--model-dir",
                 str(tmp_path / "m")]) == 0
    assert "imported" in capsys.readouterr().out
    assert main(["import-faceswap", "--from", str(source), "--model-dir",
                 str(tmp_path / "m")]) == 2
    assert "already exists" in capsys.readouterr().err


def _alter_one_weight(keras_file, h5_path):
    import h5py

    with zipfile.ZipFile(keras_file) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    weights = keras_file.with_name("w.h5")
    weights.write_bytes(members["model.weights.h5"])
    with h5py.File(weights, "r+") as h5:
        data = np.asarray(h5[h5_path])
        del h5[h5_path]
        h5[h5_path] = np.zeros((data.shape[0] + 1,) + data.shape[1:], np.float32)
    members["model.weights.h5"] = weights.read_bytes()
    weights.unlink()
    with zipfile.ZipFile(keras_file, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)


def test_one_altered_weight_is_refused_naming_the_layer(tmp_path):
    source = _copy_case("c01", tmp_path)
    meta = json.loads((source / "model.json").read_text())
    entry = next(e for e in meta["weights_index"]
                 if e["key"] == "phaze_a/decoder_b/upscale_8_2_conv2d_conv2d/kernel")
    _alter_one_weight(source / "phaze_a.keras", entry["keras_h5_path"])
    with pytest.raises(ModelDirError) as error:
        import_faceswap(source, tmp_path / "model")
    message = str(error.value)
    assert "upscale_8_2_conv2d_conv2d" in message and "decoder_b" in message
    assert "(4, 3, 16, 32)" in message and "(32, 16, 3, 3)" in message
    assert not (tmp_path / "model").exists()
    assert not (tmp_path / "model.importing").exists()


def test_a_folder_without_a_faceswap_model_is_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelDirError, match="not a faceswap model folder"):
        import_faceswap(tmp_path, tmp_path / "model")


def test_a_truncated_keras_archive_is_one_line(tmp_path):
    source = _copy_case("c01", tmp_path)
    keras_file = source / "phaze_a.keras"
    keras_file.write_bytes(keras_file.read_bytes()[:5000])
    with pytest.raises(ModelDirError, match="not a readable .keras archive") as error:
        import_faceswap(source, tmp_path / "model")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "model").exists()


def test_a_keras_model_that_is_not_phaze_a_is_one_line(tmp_path):
    source = _copy_case("c01", tmp_path)
    keras_file = source / "phaze_a.keras"
    with zipfile.ZipFile(keras_file) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "Functional":
            layer["name"] = {"encoder": "encoder", "decoder_a": "dec_a"}.get(layer["name"],
                                                                            layer["name"])
    config["config"]["layers"] = [l for l in config["config"]["layers"]
                                  if l["name"] != "decoder_b"]
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(keras_file, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    with pytest.raises(ModelDirError, match="is not a Phaze-A model"):
        import_faceswap(source, tmp_path / "model")


def test_imported_model_exports_to_onnx_with_faceswaps_outputs(tmp_path, one_thread):
    onnxruntime = pytest.importorskip("onnxruntime")
    from phaze.export.run import export_model_dir

    folder = case_dir("c04")     # shared half FC + decoder_both
    import_faceswap(folder, tmp_path / "model")
    report = export_model_dir(tmp_path / "model", tmp_path / "swap.onnx", "a-to-b",
                              exporter="torchscript")
    assert report.max_abs_diff <= 1e-5
    session = onnxruntime.InferenceSession(str(tmp_path / "swap.onnx"),
                                           providers=["CPUExecutionProvider"])
    face_b = np.load(folder / "inputs.npz")["face_in_b"]          # NHWC BGR
    rgb = np.ascontiguousarray(face_b.transpose(0, 3, 1, 2)[:, ::-1])
    swapped, = session.run(None, {"face": rgb})
    np.testing.assert_allclose(swapped[:, ::-1].transpose(0, 2, 3, 1),
                               np.load(folder / "outputs.npz")["face_b"], rtol=0, atol=1e-5)


def test_the_state_files_centering_and_coverage_become_the_models_framing(tmp_path):
    source = _copy_case("c03", tmp_path)
    state = json.loads((source / "phaze_a_state.json").read_text())
    state["config"].update(centering="head", coverage=87.5)
    (source / "phaze_a_state.json").write_text(json.dumps(state))
    report = import_faceswap(source, tmp_path / "model")
    assert (report.centering, report.coverage) == ("head", 87.5)
    assert read_model_framing(tmp_path / "model") == Framing("head", 87.5)
