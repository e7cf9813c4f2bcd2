"""Swapping with a saved tiny model: folder output, routing through the target side, bad input."""
import logging

import cv2
import numpy as np
import pytest
import torch

from phaze.storage.checkpoint import TrainingState, load_model_dir, save_checkpoint, write_marker
from phaze.cli.main import main
from phaze.config.presets import resolve_options
from phaze.data.synthetic import write_faceset
from phaze.errors import ConfigError, DataError, ModelDirError
from phaze.model.phaze_a import build_model
from phaze.inference import Swapper, swap_arrays
from phaze.io.images import decode_image as read_rgb
from phaze.io.tensors import arrays_to_tensor
from phaze.inference.folder_swap import swap_folder

# Every routing piece at once (split FC + LIAE-style shared half, split G-Blocks, split
# decoders, learned mask); resize upscalers without residual blocks keep it quick on a CPU.
TINY = {
    "output_size": 64, "fs_original_depth": 3, "fs_original_min_filters": 16,
    "fs_original_max_filters": 256, "bottleneck_size": 128, "fc_min_filters": 128,
    "fc_max_filters": 128, "fc_upsample_filters": 128, "fc_gblock_min_nodes": 128,
    "fc_gblock_max_nodes": 128, "fc_gblock_depth": 1, "dec_max_filters": 256,
    "dec_min_filters": 16, "enc_load_weights": False, "split_fc": True, "shared_fc": "half",
    "enable_gblock": True, "split_gblock": True, "split_decoders": True, "learn_mask": True,
    "dec_upscale_method": "resize_images", "dec_res_blocks": 0, "dec_filter_slope": -0.99,
}
FACE_COUNT = 5
FACE_SIZE_PX = 80  # not the encoder size, so every face is resized on the way in


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A freshly built tiny model saved as a model folder."""
    torch.manual_seed(0)
    options = resolve_options(overrides=TINY)
    folder = tmp_path_factory.mktemp("model")
    write_marker(folder, options)
    save_checkpoint(folder, build_model(options).state_dict(), TrainingState())
    return folder


@pytest.fixture(scope="module")
def faces_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    write_faceset(folder, "a", FACE_COUNT, size_px=FACE_SIZE_PX, seed=1)
    return folder


@pytest.fixture(scope="module")
def model(model_dir):
    return load_model_dir(model_dir, "cpu")[0]


def direct_call(model, faces, side):
    """The target side's sub-models called by hand: no use of PhazeA's routing."""
    with torch.inference_mode():
        z = model.encoder(faces)
        own_fc = model.fc_b if side == "b" else model.fc_a
        h = torch.cat([own_fc(z), model.fc_a(z)], dim=1)  # "half" + split FC: fc_a is shared
        g_block = model.g_block_b if side == "b" else model.g_block_a
        h = g_block(h, model.fc_gblock(z))
        decoder = model.decoder_b if side == "b" else model.decoder_a
        return decoder(h)


def to_uint8(tensor):
    return (tensor.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def test_swap_folder_writes_each_face_and_mask_at_the_output_size(model_dir, faces_dir,
                                                                  tmp_path):
    out = tmp_path / "out"
    report = swap_folder(model_dir, faces_dir, out, "a-to-b", batch_size=2, progress=False)
    names = sorted(p.name for p in faces_dir.glob("*.png"))
    assert report.count == FACE_COUNT and report.skipped == [] and report.faces_per_sec > 0
    assert sorted(p.name for p in out.glob("*.png")) == names
    assert sorted(p.name for p in (out / "masks").glob("*.png")) == names
    assert cv2.imread(str(out / names[0])).shape == (64, 64, 3)
    assert cv2.imread(str(out / "masks" / names[0]), cv2.IMREAD_UNCHANGED).shape == (64, 64)


def test_swap_folder_names_every_format_as_png(model_dir, faces_dir, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    face = cv2.imread(str(next(faces_dir.glob("*.png"))))
    for name in ("one.jpg", "two.JPEG", "three.webp"):
        cv2.imwrite(str(source / name), face)
    swap_folder(model_dir, source, tmp_path / "out", progress=False)
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [
        "one.png", "three.png", "two.png"]


def test_swap_a_to_b_goes_through_side_b_sub_models(model_dir, model, faces_dir, tmp_path):
    out = tmp_path / "out"
    swap_folder(model_dir, faces_dir, out, "a-to-b", batch_size=3, progress=False)
    paths = sorted(faces_dir.glob("*.png"))
    faces = arrays_to_tensor([read_rgb(p) for p in paths], model.input_size)
    face_b, mask_b = direct_call(model, faces, "b")
    face_a, _ = direct_call(model, faces, "a")
    written = np.stack([read_rgb(out / p.name) for p in paths])
    written_masks = np.stack([cv2.imread(str(out / "masks" / p.name), 0) for p in paths])
    assert np.abs(written.astype(int) - to_uint8(face_b).astype(int)).max() <= 1
    assert np.abs(written_masks.astype(int) - to_uint8(mask_b)[..., 0].astype(int)).max() <= 1
    assert np.abs(written.astype(int) - to_uint8(face_a).astype(int)).max() > 10


@pytest.mark.parametrize("direction, side", [("a-to-b", "b"), ("b-to-a", "a")])
def test_swap_arrays_matches_the_target_side(model, faces_dir, direction, side):
    images = [read_rgb(p) for p in sorted(faces_dir.glob("*.png"))]
    result = swap_arrays(model, images, direction, batch_size=2)
    face, mask = direct_call(model, arrays_to_tensor(images, model.input_size), side)
    assert result.faces.shape == (FACE_COUNT, 64, 64, 3) and result.faces.dtype == np.uint8
    assert result.masks.shape == (FACE_COUNT, 64, 64)
    assert np.abs(result.faces.astype(int) - to_uint8(face).astype(int)).max() <= 1


def test_swap_tensor_resizes_and_batches(model):
    faces = torch.rand(5, 3, 96, 96)
    face, mask = Swapper(model, "a-to-b", batch_size=2).swap_tensor(faces)
    assert face.shape == (5, 3, 64, 64) and mask.shape == (5, 1, 64, 64)
    assert 0.0 <= float(face.min()) and float(face.max()) <= 1.0


def test_unreadable_files_are_skipped_with_one_warning(model_dir, faces_dir, tmp_path, caplog):
    source = tmp_path / "in"
    source.mkdir()
    face = cv2.imread(str(next(faces_dir.glob("*.png"))))
    cv2.imwrite(str(source / "good.png"), face)
    (source / "broken.png").write_bytes(b"not an image")
    (source / "empty.jpg").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="phaze.inference.folder_swap"):
        report = swap_folder(model_dir, source, tmp_path / "out", progress=False)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert report.count == 1 and sorted(p.name for p in report.skipped) == [
        "broken.png", "empty.jpg"]
    assert len(warnings) == 1 and "broken.png" in warnings[0].getMessage()
    assert "empty.jpg" in warnings[0].getMessage()
    assert [p.name for p in (tmp_path / "out").glob("*.png")] == ["good.png"]


# --- bad input ---------------------------------------------------------------------------------
def test_empty_input_folder_is_a_data_error(model_dir, tmp_path):
    (tmp_path / "in").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        swap_folder(model_dir, tmp_path / "in", tmp_path / "out", progress=False)


def test_non_model_folder_is_refused(faces_dir, tmp_path):
    with pytest.raises(ModelDirError, match="not a Phaze model folder"):
        swap_folder(tmp_path, faces_dir, tmp_path / "out", progress=False)


def test_wrong_direction_names_the_value_and_the_choices(model_dir, faces_dir, tmp_path):
    with pytest.raises(ConfigError, match=r"'a2b'.*a-to-b, b-to-a"):
        swap_folder(model_dir, faces_dir, tmp_path / "out", "a2b", progress=False)


def test_output_folder_must_not_be_the_input_folder(model_dir, faces_dir):
    with pytest.raises(DataError, match="is the input folder"):
        swap_folder(model_dir, faces_dir, faces_dir, progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
def test_cuda_without_a_gpu_is_a_config_error(model_dir, faces_dir, tmp_path):
    with pytest.raises(ConfigError, match="CUDA is not available"):
        swap_folder(model_dir, faces_dir, tmp_path / "out", device="cuda", progress=False)


# --- command line ------------------------------------------------------------------------------
def test_cli_swap_reports_faces_per_second(model_dir, faces_dir, tmp_path, capsys):
    code = main(["swap", "--model-dir", str(model_dir), "--input", str(faces_dir),
                 "--output", str(tmp_path / "out"), "--direction", "b-to-a",
                 "--batch-size", "4", "--device", "cpu", "--no-progress"])
    assert code == 0 and "faces/sec" in capsys.readouterr().out
    assert len(list((tmp_path / "out").glob("*.png"))) == FACE_COUNT


@pytest.mark.parametrize("case", ["empty", "not-a-model", "direction"])
def test_cli_bad_input_is_one_line_and_exit_code_2(model_dir, faces_dir, tmp_path, capsys,
                                                   case):
    (tmp_path / "empty").mkdir()
    args = {"empty": [model_dir, tmp_path / "empty", "a-to-b"],
            "not-a-model": [tmp_path, faces_dir, "a-to-b"],
            "direction": [model_dir, faces_dir, "sideways"]}[case]
    code = main(["swap", "--model-dir", str(args[0]), "--input", str(args[1]),
                 "--output", str(tmp_path / "out"), "--direction", args[2], "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("phaze: error:") and len(err.strip().splitlines()) == 1
