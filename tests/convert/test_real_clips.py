"""Every real clip of ../shared/realvideo converts whole to a playable .mp4 (issue 27).

The 'model' is a known function (the inverted crop) so the test needs no training; faces come
from `phaze extract` on every 10th frame (the other frames have no faces and must pass
through). Checked on the decoded output: frame count, frame rate, duration, the audio stream
and its sync, and that the face region changed while the rest of the frame did not.
"""
from __future__ import annotations

from itertools import zip_longest
from pathlib import Path

import av
import numpy as np
import pytest

from phaze.convert.alignments import load_alignments
from phaze.faces.aligned import CoreGeometry
from phaze.convert.pipeline import ConvertOptions, FaceConverter
from phaze.convert.run import ConvertJob, convert
from phaze.extract.pipeline import ExtractConfig, extract_faces
from phaze.faces.framing import Framing
from phaze.score.flicker import face_box
from convert_helpers import invert_predict
from realvideo import clip_path

CLIPS = {  # name: (frames, fps, has audio); the long ones are marked slow
    "lp_d12_man_glasses.mp4": (183, 25, True),
    "lp_d13_man_glasses_vertical.mp4": (352, 30, False),
    "rt_face1_man_suit.mp4": (135, 1350 / 61, True),     # variable frame rate
    "rt_face2_man_tie.mp4": (125, 25, True),
    "rt_face4_woman_blue.mp4": (199, 30, True),
    "rt_face5_woman_glasses.mp4": (122, 25, True),
}
SLOW = {"lp_d13_man_glasses_vertical.mp4", "rt_face4_woman_blue.mp4", "lp_d12_man_glasses.mp4"}
EVERY_N = 10
INPUT_PX = OUTPUT_PX = 64


def _timing(path: Path) -> dict:
    """Rate and durations (s) of a video's streams, from the container."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        audio_s = float(audio.duration * audio.time_base) if audio and audio.duration else None
        return {"rate": float(video.average_rate),
                "video_s": float(video.duration * video.time_base), "audio_s": audio_s}


def _frames(path: Path):
    """Decoded RGB frames one at a time (a whole 720×1280 clip would not fit in CI memory)."""
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            yield frame.to_ndarray(format="rgb24")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in CLIPS])
def test_real_clip_converts_whole_to_mp4(tmp_path, name):
    clip = clip_path(name)
    frame_count, fps, has_audio = CLIPS[name]
    extract_faces(clip, tmp_path / "extract", ExtractConfig(write_faces=False, every_n=EVERY_N))
    alignments = tmp_path / "extract" / "alignments.json"
    options = ConvertOptions(batch_size=8, colour="none")   # the inverted face, as it comes
    converter = FaceConverter(invert_predict(OUTPUT_PX), INPUT_PX, OUTPUT_PX, Framing(),
                              CoreGeometry(), options, learns_mask=False)
    out = tmp_path / "out" / "swapped.mp4"
    report = convert(ConvertJob(tmp_path, clip, alignments, out), options, converter=converter)

    source, written = _timing(clip), _timing(out)
    one_frame = 1 / fps
    faces = load_alignments(alignments).faces
    compared = _assert_only_faces_changed(_frames(clip), _frames(out), clip, faces)
    assert report.frames == compared == frame_count
    assert written["rate"] == pytest.approx(fps, rel=1e-3)
    assert written["video_s"] == pytest.approx(source["video_s"], abs=one_frame)
    if has_audio:
        assert written["audio_s"] == pytest.approx(source["audio_s"], abs=one_frame)
        # in sync as the source was: audio and video end together to within one frame more
        assert abs(written["audio_s"] - written["video_s"]) <= \
            abs(source["audio_s"] - source["video_s"]) + one_frame
    else:
        assert written["audio_s"] is None
    assert [p.name for p in out.parent.iterdir()] == ["swapped.mp4"]


def _assert_only_faces_changed(source, written, clip, faces) -> int:
    """Compare the clips frame by frame; returns how many frames both have (and fails if
    one has more)."""
    changed = compared = 0
    for index, (before, after) in enumerate(zip_longest(source, written)):
        assert before is not None and after is not None, f"frame counts differ at {index}"
        compared += 1
        landmarks = faces.get(f"{clip.stem}_{index + 1:06d}.png", [])
        difference = np.abs(before.astype(np.int16) - after).mean(-1)   # (H, W)
        box = face_box(landmarks, before.shape, margin=0.5)
        outside = np.ones(difference.shape, bool)
        if box is not None:
            top, bottom, left, right = box
            outside[top:bottom, left:right] = False
            inner = face_box(landmarks, before.shape, margin=-0.3)   # the middle of the face
            if inner is not None:
                changed += difference[inner[0]:inner[1], inner[2]:inner[3]].mean() > 20
        assert difference[outside].mean() < 4.0, f"frame {index} changed outside its face"
    assert changed == sum(1 for lms in faces.values() if lms)   # every face was swapped
    return compared
