"""`phaze convert` on a real (tiny, untrained) model folder; face geometry from the test."""
import av
import pytest
import torch

from phaze.storage.checkpoint import TrainingState, save_checkpoint, write_marker
from phaze.cli.main import main
from phaze.config.presets import resolve_options
from phaze.convert.frames import video_frame_name
from phaze.model.phaze_a import build_model
from convert_helpers import (BoxGeometry, face_position, landmarks_at, make_frames,
                             write_alignments, write_video)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, train_tiny):
    torch.manual_seed(0)
    options = resolve_options(overrides=dict(train_tiny, learn_mask=True))
    folder = tmp_path_factory.mktemp("model")
    write_marker(folder, options)
    save_checkpoint(folder, build_model(options).state_dict(), TrainingState())
    return folder


@pytest.fixture
def clip(tmp_path):
    frames = make_frames(3)
    video = tmp_path / "clip.mp4"
    write_video(video, frames, fps=8)
    faces = {video_frame_name(video, i): [landmarks_at(*face_position(i))] for i in range(3)}
    return video, write_alignments(tmp_path / "clip.json", faces, frame_count=3, fps=8)


@pytest.fixture
def box_geometry(monkeypatch):
    monkeypatch.setattr("phaze.convert.run.default_geometry", BoxGeometry)


@pytest.mark.parametrize("mask_type", ["learned", "extended"])
def test_cli_converts_a_video_with_a_real_model(tmp_path, model_dir, clip, box_geometry,
                                                capsys, mask_type):
    video, alignments = clip
    out = tmp_path / "out.mp4"
    rc = main(["convert", "--model-dir", str(model_dir), "--input", str(video), "--alignments",
               str(alignments), "--output", str(out), "--device", "cpu", "--no-progress",
               "--mask-type", mask_type, "--colour", "reinhard", "--sharpen", "unsharp"])
    assert rc == 0
    assert "converted 3 frames (3 faces" in capsys.readouterr().out
    with av.open(str(out)) as container:
        assert container.streams.video[0].average_rate == 8
        assert len(container.streams.audio) == 1
        assert sum(1 for _ in container.decode(video=0)) == 3


def test_cli_preview_writes_one_side_by_side_frame(tmp_path, model_dir, clip, box_geometry):
    video, alignments = clip
    out = tmp_path / "preview.png"
    rc = main(["convert", "--model-dir", str(model_dir), "--input", str(video), "--alignments",
               str(alignments), "--output", str(out), "--device", "cpu",
               "--preview", "clip_000001.png"])
    assert rc == 0 and out.is_file()


def test_cli_reports_mismatched_alignments_in_one_line(tmp_path, model_dir, clip, capsys):
    video, _ = clip
    wrong = write_alignments(tmp_path / "wrong.json", {"x_000000.png": []}, frame_count=3,
                             fps=8)
    rc = main(["convert", "--model-dir", str(model_dir), "--input", str(video), "--alignments",
               str(wrong), "--output", str(tmp_path / "o.mp4"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "wrong.json" in err and len(err.splitlines()) == 1


def test_cli_refuses_an_unknown_colour_method(tmp_path, model_dir, clip, capsys):
    video, alignments = clip
    rc = main(["convert", "--model-dir", str(model_dir), "--input", str(video), "--alignments",
               str(alignments), "--output", str(tmp_path / "o.mp4"), "--colour", "sepia"])
    assert rc == 2 and "sepia" in capsys.readouterr().err


def test_model_with_unservable_centering_is_refused(tmp_path, model_dir, clip, box_geometry,
                                                    capsys):
    import shutil

    video, alignments = clip
    odd = tmp_path / "odd_model"
    shutil.copytree(model_dir, odd)
    (odd / "framing.json").write_text('{"centering": "eyes", "coverage": 1.0}')
    rc = main(["convert", "--model-dir", str(odd), "--input", str(video), "--alignments",
               str(alignments), "--output", str(tmp_path / "o.mp4"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "odd_model" in err and "'eyes'" in err
    assert not (tmp_path / "o.mp4").exists()


def test_cli_folder_output_of_a_video_writes_frames_without_writer(tmp_path, model_dir, clip,
                                                                   box_geometry):
    video, alignments = clip
    out = tmp_path / "out_dir"
    rc = main(["convert", "--model-dir", str(model_dir), "--input", str(video), "--alignments",
               str(alignments), "--output", f"{out}/", "--device", "cpu", "--no-progress",
               "--smoothing", "none"])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == [video_frame_name(video, i) for i in range(3)]


def test_cli_refuses_an_unknown_smoothing_in_one_line(tmp_path, model_dir, clip, capsys):
    video, alignments = clip
    rc = main(["convert", "--model-dir", str(model_dir), "--input", str(video), "--alignments",
               str(alignments), "--output", str(tmp_path / "o.mp4"), "--smoothing", "wobble"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "one-euro, none" in err and len(err.splitlines()) == 1
