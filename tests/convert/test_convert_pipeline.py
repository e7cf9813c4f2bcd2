import av
import numpy as np
import pytest

from phaze.convert.alignments import load_alignments
from phaze.faces.crop import CONVERT, crop, paste, scale_matrix
from phaze.faces.framing import Framing
from phaze.convert.frames import video_frame_name
from phaze.convert.mask import process_mask
from phaze.convert.pipeline import ConvertOptions, FaceConverter
from phaze.convert.run import ConvertJob, convert, preview
from phaze.model.side_output import SideOutput
from phaze.errors import DataError
from convert_helpers import (BoxGeometry, face_position, invert_predict, landmarks_at,
                             make_frames, write_alignments, write_video)

INPUT_PX, OUTPUT_PX = 32, 48
OPTIONS = ConvertOptions(colour="none", batch_size=2, smoothing="none")  # exact places


def _converter(options=OPTIONS):
    return FaceConverter(invert_predict(OUTPUT_PX), INPUT_PX, OUTPUT_PX, Framing(),
                         BoxGeometry(), options, learns_mask=False)


@pytest.fixture
def clip(tmp_path):
    """A 5-frame video with audio; faces in frames 0, 1, 3 (2 and 4 have none)."""
    frames = make_frames(5)
    video = tmp_path / "clip.mp4"
    write_video(video, frames, fps=10)
    with av.open(str(video)) as container:  # what the decoder gives back, the true source
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    faces = {video_frame_name(video, i): [landmarks_at(*face_position(i))] for i in (0, 1, 3)}
    alignments = write_alignments(tmp_path / "clip.json", faces, frame_count=5, fps=10)
    return video, alignments, decoded


def _expected(frame, index):
    """The direct route: crop, invert, mask, paste back with the test geometry."""
    geometry, landmarks = BoxGeometry(), landmarks_at(*face_position(index))
    matrix = geometry.crop_matrix(landmarks, INPUT_PX, Framing())
    out_matrix = scale_matrix(matrix, INPUT_PX, OUTPUT_PX)
    face = invert_predict(OUTPUT_PX)(
        __import__("torch").from_numpy(crop(frame, matrix, INPUT_PX, CONVERT)).permute(2, 0, 1)[None]
        .float() / 255)[0][0].permute(1, 2, 0).numpy()
    mask = process_mask(geometry.landmark_mask(landmarks, out_matrix, OUTPUT_PX, "extended"),
                        OPTIONS.mask)
    expected = paste(frame.copy(), face, mask, out_matrix)
    return expected, expected != frame


def test_video_convert_end_to_end(tmp_path, clip):
    video, alignments, decoded = clip
    out = tmp_path / "out" / "swapped.mp4"
    job = ConvertJob(tmp_path, video, alignments, out)
    report = convert(job, OPTIONS, converter=_converter())
    assert (report.frames, report.faces, report.frames_without_faces) == (5, 3, 2)
    with av.open(str(out)) as container:
        assert container.streams.video[0].average_rate == 10
        assert len(container.streams.audio) == 1
        written = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(written) == 5 and written[0].shape == decoded[0].shape
    assert [p.name for p in out.parent.iterdir()] == ["swapped.mp4"]


def test_frames_convert_changes_only_the_masked_face_at_its_place(tmp_path, clip):
    video, alignments, decoded = clip
    job = ConvertJob(tmp_path, video, alignments, tmp_path / "frames", writer="png")
    convert(job, OPTIONS, converter=_converter())
    from phaze.convert.frames import open_frames
    written = dict(open_frames(tmp_path / "frames"))
    assert len(written) == 5
    for index, source in enumerate(decoded):
        frame = written[video_frame_name(video, index)]
        if index in (2, 4):
            assert np.array_equal(frame, source)  # no face: unchanged
            continue
        expected, touched = _expected(source, index)
        assert np.array_equal(frame[~touched.any(-1)], source[~touched.any(-1)])
        assert np.array_equal(frame, expected)   # the face went back where it was cut out
        x, y = face_position(index)
        centre = (slice(y + 15, y + 25), slice(x + 15, x + 25))
        assert np.abs(frame[centre].astype(int) - source[centre]).mean() > 50


def test_preview_writes_original_beside_converted(tmp_path, clip):
    video, alignments, decoded = clip
    image = preview(ConvertJob(tmp_path, video, alignments, tmp_path / "p.png"),
                    "clip_000002.png", OPTIONS, converter=_converter())
    height, width = decoded[1].shape[:2]
    assert image.shape == (height, 2 * width, 3) and (tmp_path / "p.png").is_file()
    assert np.array_equal(image[:, :width], decoded[1])


def test_alignments_from_other_frames_are_refused(tmp_path, clip):
    video, _, _ = clip
    other = write_alignments(tmp_path / "other.json", {"holiday_000001.png": []},
                             frame_count=5, fps=10)
    with pytest.raises(DataError, match="other.json.*holiday_000001"):
        convert(ConvertJob(tmp_path, video, other, tmp_path / "o.mp4"), OPTIONS,
                converter=_converter())


def test_alignments_with_another_frame_count_are_refused(tmp_path, clip):
    video, _, _ = clip
    other = write_alignments(tmp_path / "count.json", {}, frame_count=7, fps=10)
    with pytest.raises(DataError, match="7 frames but video .*clip.mp4.* has 5"):
        convert(ConvertJob(tmp_path, video, other, tmp_path / "o.mp4"), OPTIONS,
                converter=_converter())


def test_truncated_video_is_named_and_leaves_no_output(tmp_path, clip):
    video, alignments, _ = clip
    data = video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.mp4"):
        convert(ConvertJob(tmp_path, cut, alignments, tmp_path / "o.mp4"), OPTIONS,
                converter=_converter())
    assert not (tmp_path / "o.mp4").exists()


def test_convert_is_streamed_in_batches(tmp_path, clip):
    video, alignments, _ = clip
    sizes = []
    predict = invert_predict(OUTPUT_PX)
    converter = FaceConverter(lambda b: sizes.append(len(b)) or predict(b), INPUT_PX, OUTPUT_PX,
                              Framing(), BoxGeometry(), OPTIONS, learns_mask=False)
    convert(ConvertJob(tmp_path, video, alignments, tmp_path / "f", writer="png"), OPTIONS,
            converter=converter)
    assert sizes == [2, 1]
    assert load_alignments(alignments).frame_count == 5


def test_interrupted_convert_leaves_no_video(tmp_path, clip):
    video, alignments, _ = clip
    predict, calls = invert_predict(OUTPUT_PX), []

    def failing(batch):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return predict(batch)

    converter = FaceConverter(failing, INPUT_PX, OUTPUT_PX, Framing(), BoxGeometry(),
                              OPTIONS, learns_mask=False)
    with pytest.raises(KeyboardInterrupt):
        convert(ConvertJob(tmp_path, video, alignments, tmp_path / "out" / "o.mp4"), OPTIONS,
                converter=converter)
    assert list((tmp_path / "out").iterdir()) == []


def test_folder_of_frames_to_jpg_files(tmp_path):
    import cv2

    frames = make_frames(2)
    folder = tmp_path / "in"
    folder.mkdir()
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"shot{index}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    alignments = write_alignments(tmp_path / "a.json",
                                  {"shot1.png": [landmarks_at(*face_position(1))]})
    report = convert(ConvertJob(tmp_path, folder, alignments, tmp_path / "out", writer="jpg"),
                     OPTIONS, converter=_converter())
    assert (report.frames, report.faces) == (2, 1)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["shot0.jpg", "shot1.jpg"]


def test_auto_mask_uses_the_learned_mask_when_the_model_has_one(tmp_path, clip):
    video, alignments, decoded = clip
    predict = invert_predict(OUTPUT_PX)

    def with_empty_mask(batch):  # a learned mask of zeros: nothing may change
        faces = predict(batch).face
        return SideOutput(faces, faces[:, :1] * 0)

    converter = FaceConverter(with_empty_mask, INPUT_PX, OUTPUT_PX, Framing(),
                              BoxGeometry(), ConvertOptions(colour="none"), learns_mask=True)
    convert(ConvertJob(tmp_path, video, alignments, tmp_path / "f", writer="png"),
            converter=converter)
    from phaze.convert.frames import open_frames
    for (_, frame), source in zip(open_frames(tmp_path / "f"), decoded):
        assert np.array_equal(frame, source)


def test_every_video_frame_is_written_even_when_alignments_list_few(tmp_path, clip):
    video, _, _ = clip
    sparse = write_alignments(tmp_path / "sparse.json",
                              {video_frame_name(video, 0): [landmarks_at(*face_position(0))]})
    report = convert(ConvertJob(tmp_path, video, sparse, tmp_path / "f", writer="png"),
                     OPTIONS, converter=_converter())
    assert (report.frames, report.faces) == (5, 1)
    assert len(list((tmp_path / "f").iterdir())) == 5


def test_folder_output_of_a_video_input_writes_frames_without_a_writer_option(tmp_path, clip):
    video, alignments, _ = clip
    convert(ConvertJob(tmp_path, video, alignments, tmp_path / "out_dir"), OPTIONS,
            converter=_converter())
    assert sorted(p.name for p in (tmp_path / "out_dir").iterdir()) == \
        [video_frame_name(video, i) for i in range(5)]


def test_video_output_of_a_folder_input_follows_the_path(tmp_path, clip):
    video, alignments, decoded = clip
    convert(ConvertJob(tmp_path, video, alignments, tmp_path / "frames"), OPTIONS,
            converter=_converter())
    out = tmp_path / "from_frames.mkv"
    convert(ConvertJob(tmp_path, tmp_path / "frames", alignments, out), OPTIONS,
            converter=_converter())
    with av.open(str(out)) as container:
        assert container.streams.video[0].average_rate == 10   # the alignments' fps
        assert sum(1 for _ in container.decode(video=0)) == 5


def test_writer_option_overrides_the_output_path(tmp_path, clip):
    video, alignments, _ = clip
    convert(ConvertJob(tmp_path, video, alignments, tmp_path / "odd.mp4", writer="jpg"),
            OPTIONS, converter=_converter())
    assert (tmp_path / "odd.mp4").is_dir() and len(list((tmp_path / "odd.mp4").glob("*.jpg"))) == 5


def test_smoothing_steadies_a_face_whose_landmarks_jitter(tmp_path):
    # A still face, found with a few px of detector jitter in every frame.
    frame = make_frames(1)[0]
    video = tmp_path / "still.mp4"
    write_video(video, [frame] * 25, fps=25, audio=False)
    rng = np.random.default_rng(0)
    x, y = face_position(0)
    faces = {video_frame_name(video, i): [landmarks_at(x, y) + rng.normal(0, 2, (68, 2))]
             for i in range(25)}
    alignments = write_alignments(tmp_path / "still.json", faces, frame_count=25, fps=25)
    from phaze.convert.frames import open_frames
    from phaze.score.flicker import measure_flicker

    flicker = {}
    for smoothing in ("none", "one-euro"):
        options = ConvertOptions(colour="none", batch_size=2, smoothing=smoothing)
        out = tmp_path / smoothing
        convert(ConvertJob(tmp_path, video, alignments, out), options,
                converter=_converter(options))
        written = open_frames(out)
        flicker[smoothing] = measure_flicker(open_frames(video, 25), written,
                                             load_alignments(alignments).faces).output_change
    assert flicker["one-euro"] < 0.5 * flicker["none"]
