"""The design commands a user runs before training: summary, presets, curve, save-preset."""
import json

import cv2

from phaze.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_summary_json_has_the_documented_keys(capsys):
    code, out, _ = run(capsys, "summary", "--preset", "original", "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"input_shape", "outputs", "submodels", "total_trainable",
                         "total_non_trainable", "routes"}
    assert data["input_shape"] == [64, 64, 3] and data["outputs"] == [[64, 64, 3]] * 2
    assert data["submodels"]["fc_both"] == {"trainable": 35670016, "non_trainable": 0,
                                            "output_shape": [8, 8, 512]}
    assert data["total_trainable"] == 82062470
    assert data["routes"]["B"] == "encoder → fc_both → decoder_b"


def test_summary_table_with_set(capsys):
    code, out, _ = run(capsys, "summary", "--set", "output_size=64", "--set", "learn_mask=true")
    assert code == 0
    assert "g_block_both" in out and "(64, 64, 1)" in out
    assert "A: encoder → fc_a → g_block_both (style: fc_gblock) → decoder_both" in out


def test_bad_option_is_one_line_and_exit_code_2(capsys):
    code, out, err = run(capsys, "summary", "--set", "fc_depht=2")
    assert code == 2 and out == ""
    assert err.strip() == "phaze: error: unknown option 'fc_depht'; did you mean 'fc_depth'?"


def test_presets_lists_each_with_description(capsys):
    code, out, _ = run(capsys, "presets")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) >= 17
    assert any(line.startswith("original") and "Original" in line for line in lines)


def test_curve_prints_and_plots(capsys, tmp_path):
    plot = tmp_path / "curve.png"
    code, out, _ = run(capsys, "curve", "--min", "64", "--max", "512", "--slope", "-0.45",
                       "--steps", "4", "--plot", str(plot))
    assert code == 0 and out.splitlines()[0] == "512, 256, 128, 64"
    image = cv2.imread(str(plot))
    assert image is not None and image.shape[2] == 3 and image.std() > 0


def test_save_preset_then_summary_from_file(capsys, tmp_path):
    path = tmp_path / "mine.toml"
    assert run(capsys, "save-preset", str(path), "--preset", "iae", "--set",
               "output_size=128")[0] == 0
    code, out, _ = run(capsys, "summary", "--preset", str(path), "--json")
    assert code == 0 and json.loads(out)["outputs"][0] == [128, 128, 3]
