"""`phaze score` on a saved tiny model: JSON with both directions; cartoon faces say n/a."""
from __future__ import annotations

import json

import torch

from phaze.storage.checkpoint import TrainingState, save_checkpoint, write_marker
from phaze.cli.main import main
from phaze.config.presets import resolve_options
from phaze.data.synthetic import write_faceset
from phaze.model.phaze_a import build_model

TINY = {  # as tests/test_swap.py, without the extra routing pieces
    "output_size": 64, "fs_original_depth": 3, "fs_original_min_filters": 16,
    "fs_original_max_filters": 256, "bottleneck_size": 128, "fc_min_filters": 128,
    "fc_max_filters": 128, "fc_upsample_filters": 128, "dec_max_filters": 256,
    "dec_min_filters": 16, "enc_load_weights": False, "dec_upscale_method": "resize_images",
    "dec_res_blocks": 0, "dec_filter_slope": -0.99,
}


def test_cli_score_prints_json_and_refuses_to_invent_identity_figures(tmp_path, capsys,
                                                                      monkeypatch,
                                                                      recognizer) -> None:
    monkeypatch.setattr("phaze.score.run.FaceRecognizer", lambda: recognizer)  # load it once
    torch.manual_seed(0)
    options = resolve_options(overrides=TINY)
    write_marker(tmp_path / "model", options)
    save_checkpoint(tmp_path / "model", build_model(options).state_dict(), TrainingState())
    write_faceset(tmp_path / "a", "a", 1, size_px=64, seed=1)
    write_faceset(tmp_path / "b", "b", 1, size_px=64, seed=2)
    code = main(["score", "--model-dir", str(tmp_path / "model"), "--faces-a",
                 str(tmp_path / "a"), "--faces-b", str(tmp_path / "b"), "--device", "cpu",
                 "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    for direction in ("a-to-b", "b-to-a"):
        assert report["directions"][direction]["faces"] == 1
        assert report["directions"][direction]["identity_share"] is None
        assert "no face found" in report["directions"][direction]["notes"][0]
        assert report["directions"][direction]["verdict"] == "too blurry to judge"
    assert set(report["reconstruction_ssim"]) == {"a", "b"}
    assert all(-1.0 <= v <= 1.0 for v in report["reconstruction_ssim"].values())
