"""ONNX export of one swap direction: every routing family runs in ONNX Runtime like PyTorch."""
import importlib.util

import numpy as np
import pytest
import torch

from phaze.storage.checkpoint import TrainingState, save_checkpoint, write_marker
from phaze.cli.main import main
from phaze.config.presets import resolve_options
from phaze.errors import ConfigError, ModelDirError
from phaze.export.onnx import EXPORTERS, export_onnx, resolve_exporter
from phaze.export.run import export_model_dir
from phaze.model.phaze_a import build_model

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

TINY = {
    "output_size": 64, "fs_original_depth": 3, "fs_original_min_filters": 16,
    "fs_original_max_filters": 256, "bottleneck_size": 128, "fc_min_filters": 128,
    "fc_max_filters": 128, "fc_upsample_filters": 128, "fc_gblock_min_nodes": 128,
    "fc_gblock_max_nodes": 128, "fc_gblock_depth": 1, "dec_max_filters": 256,
    "dec_min_filters": 16, "dec_filter_slope": -0.99, "enc_load_weights": False,
    "enable_gblock": False,
}
FAMILIES = {
    "split-decoders": {"split_fc": False, "split_decoders": True},
    "shared-decoder-split-fc": {"split_fc": True, "shared_fc": "full", "split_decoders": False},
    "gblock-with-mask": {"enable_gblock": True, "split_gblock": True, "learn_mask": True},
}
HAS_ONNXSCRIPT = importlib.util.find_spec("onnxscript") is not None
EXPORTER_PARAMS = ["torchscript", pytest.param("dynamo", marks=pytest.mark.skipif(
    not HAS_ONNXSCRIPT, reason="the dynamo exporter needs onnxscript"))]


def tiny_model(family):
    torch.manual_seed(0)
    return build_model(resolve_options(overrides={**TINY, **FAMILIES[family]}))


def run_onnx(path, faces):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"face": faces.numpy()})


@pytest.mark.parametrize("exporter", EXPORTER_PARAMS)
@pytest.mark.parametrize("family", FAMILIES)
def test_onnx_matches_pytorch_at_two_batch_sizes(family, exporter, tmp_path):
    model = tiny_model(family)
    path = tmp_path / "swap.onnx"
    export_onnx(model, path, "a-to-b", exporter=exporter)
    onnx.checker.check_model(str(path))
    model.eval()
    for batch in (1, 4):
        faces = torch.rand(batch, 3, model.input_size, model.input_size)
        with torch.inference_mode():
            expected = model.swap(faces, "a-to-b")
        got = run_onnx(path, faces)
        assert len(got) == len(expected)
        for ours, theirs in zip(expected, got):
            assert theirs.shape == tuple(ours.shape)
            assert np.abs(theirs - ours.numpy()).max() < 1e-4


def test_graph_declares_the_documented_contract(tmp_path):
    model = tiny_model("gblock-with-mask")
    path = tmp_path / "swap.onnx"
    export_onnx(model, path, "b-to-a", exporter="torchscript")
    graph = onnx.load(str(path)).graph

    def shape(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    float32 = onnx.TensorProto.FLOAT
    assert [(v.name, shape(v), v.type.tensor_type.elem_type) for v in graph.input] == [
        ("face", ["batch", 3, 64, 64], float32)]
    assert [(v.name, shape(v), v.type.tensor_type.elem_type) for v in graph.output] == [
        ("swapped", ["batch", 3, 64, 64], float32), ("mask", ["batch", 1, 64, 64], float32)]


def test_export_uses_the_other_sides_pathway_and_eval_mode(tmp_path):
    model = tiny_model("split-decoders").train()
    path = tmp_path / "swap.onnx"
    export_onnx(model, path, "b-to-a", exporter="torchscript")
    assert model.training  # the caller's mode is given back
    faces = torch.rand(2, 3, model.input_size, model.input_size)
    with torch.inference_mode():
        z = model.eval().encoder(faces)
        side_a = model.decoder_a(model.fc_both(z))[0]
        side_b = model.decoder_b(model.fc_both(z))[0]
    got = run_onnx(path, faces)[0]
    assert np.abs(got - side_a.numpy()).max() < 1e-4
    assert np.abs(got - side_b.numpy()).max() > 1e-2


# --- a model folder and the command line -------------------------------------------------------
@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    model = tiny_model("split-decoders")
    folder = tmp_path_factory.mktemp("model")
    write_marker(folder, model.options)
    save_checkpoint(folder, model.state_dict(), TrainingState())
    return folder


def test_export_model_dir_verifies_with_onnx_runtime(model_dir, tmp_path):
    report = export_model_dir(model_dir, tmp_path / "out" / "b.onnx", "a-to-b",
                              exporter="torchscript")
    assert report.path.is_file() and report.output_names == ("swapped",)
    assert report.max_abs_diff is not None and report.max_abs_diff < 1e-4


@pytest.mark.parametrize("file_format", ["onnx", "dfm"])
def test_exported_file_records_the_models_framing(tmp_path, file_format):
    import onnx

    from phaze.faces.framing import Framing
    from phaze.storage.framing_file import write_model_framing

    model = tiny_model("split-decoders")
    write_marker(tmp_path, model.options)
    save_checkpoint(tmp_path, model.state_dict(), TrainingState())
    write_model_framing(tmp_path, Framing("head", 87.5, 5.0))
    report = export_model_dir(tmp_path, tmp_path / f"b.{file_format}", file_format=file_format,
                              exporter="torchscript", verify=False)
    props = {p.key: p.value for p in onnx.load(str(report.path)).metadata_props}
    assert props == {"phaze.centering": "head", "phaze.coverage": "87.5",
                     "phaze.vertical_offset": "5.0"}


def test_cli_export_writes_the_graph(model_dir, tmp_path, capsys):
    output = tmp_path / "b.onnx"
    code = main(["export", "--model-dir", str(model_dir), "--direction", "a-to-b",
                 "--format", "onnx", "--output", str(output), "--exporter", "torchscript"])
    assert code == 0 and output.is_file() and "max |ONNX Runtime" in capsys.readouterr().out


@pytest.mark.parametrize("flag, value, message", [
    ("--direction", "sideways", "'sideways'.*a-to-b, b-to-a"),
    ("--format", "tflite", "'tflite'.*onnx"),
    ("--exporter", "jit", "'jit'.*" + ", ".join(EXPORTERS)),
    ("--opset", "99", "opset 99 is invalid.*from 1[38] to 2[03]"),
])
def test_cli_bad_choice_is_one_line_and_exit_code_2(model_dir, tmp_path, capsys, flag, value,
                                                    message):
    code = main(["export", "--model-dir", str(model_dir), "--output", str(tmp_path / "x.onnx"),
                 flag, value])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    keyword = {"--direction": "direction", "--format": "file_format", "--exporter": "exporter",
               "--opset": "opset"}[flag]
    with pytest.raises(ConfigError, match=message):
        export_model_dir(model_dir, tmp_path / "x.onnx",
                         **{keyword: int(value) if flag == "--opset" else value})


def test_non_model_folder_is_refused(tmp_path):
    with pytest.raises(ModelDirError, match="not a Phaze model folder"):
        export_model_dir(tmp_path, tmp_path / "x.onnx")


@pytest.mark.skipif(HAS_ONNXSCRIPT, reason="onnxscript is installed here")
def test_dynamo_without_onnxscript_says_what_to_install():
    with pytest.raises(ConfigError, match="pip install onnxscript"):
        resolve_exporter("dynamo")
