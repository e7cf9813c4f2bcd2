"""extract → convert on a synthetic video: the astronaut's face pasted into textured frames."""
import av
import cv2
import numpy as np
import pytest

from phaze.convert.alignments import load_alignments
from phaze.faces.crop import paste, scale_matrix
from phaze.faces.framing import Framing
from phaze.convert.mask import process_mask
from phaze.convert.pipeline import ConvertOptions, FaceConverter
from phaze.convert.run import ConvertJob, convert
from phaze.extract.pipeline import ExtractConfig, extract_faces
from convert_helpers import BoxGeometry, invert_predict, write_video

SIZE = (256, 160)                  # frame width, height
PLACES = [(0.55, 120, 80), None, (0.5, 140, 76)]   # (scale, face centre x, y); None: no face
FACE_CENTRE = np.array([223.0, 127.0])             # the astronaut's face in the 512 px photo
INPUT_PX, OUTPUT_PX = 32, 48
OPTIONS = ConvertOptions(colour="avg-color", batch_size=4, smoothing="none")  # exact places


def _frame(index, place, astronaut):
    rng = np.random.default_rng(index)
    frame = cv2.GaussianBlur(rng.integers(0, 256, (SIZE[1], SIZE[0], 3), np.uint8), (5, 5), 0)
    if place is None:
        return frame
    scale, cx, cy = place
    matrix = np.array([[scale, 0, cx - scale * FACE_CENTRE[0]],
                       [0, scale, cy - scale * FACE_CENTRE[1]]])
    face = cv2.warpAffine(astronaut, matrix, SIZE, flags=cv2.INTER_AREA)
    inside = cv2.warpAffine(np.ones(astronaut.shape[:2], np.uint8), matrix, SIZE) > 0
    frame[inside] = face[inside]
    return frame


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    from skimage import data

    astronaut = data.astronaut()
    folder = tmp_path_factory.mktemp("e2e")
    video = folder / "walk.mp4"
    write_video(video, [_frame(i, p, astronaut) for i, p in enumerate(PLACES)], fps=6)
    extract_faces(video, folder / "extract", ExtractConfig(write_faces=False))
    with av.open(str(video)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return video, folder / "extract" / "alignments.json", decoded


def test_extract_then_convert_swaps_each_face_in_place(tmp_path, extracted):
    video, alignments_path, decoded = extracted
    alignments = load_alignments(alignments_path)
    assert [len(alignments.for_frame(f"walk_{i:06d}.png")) for i in (1, 2, 3)] == [1, 0, 1]
    converter = FaceConverter(invert_predict(OUTPUT_PX), INPUT_PX, OUTPUT_PX, Framing(),
                              BoxGeometry(), OPTIONS, learns_mask=False)
    report = convert(ConvertJob(tmp_path, video, alignments_path, tmp_path / "frames",
                                writer="png"), OPTIONS, converter=converter)
    assert (report.frames, report.faces) == (3, 2)
    geometry = BoxGeometry()
    for index, source in enumerate(decoded):
        name = f"walk_{index + 1:06d}.png"
        written = cv2.cvtColor(cv2.imread(str(tmp_path / "frames" / name)), cv2.COLOR_BGR2RGB)
        assert written.shape == source.shape
        if PLACES[index] is None:
            assert np.array_equal(written, source)
            continue
        landmarks = alignments.for_frame(name)[0]
        matrix = geometry.crop_matrix(landmarks, INPUT_PX, Framing())
        out_matrix = scale_matrix(matrix, INPUT_PX, OUTPUT_PX)
        mask = process_mask(geometry.landmark_mask(landmarks, out_matrix, OUTPUT_PX, "extended"),
                            OPTIONS.mask)
        touched = paste(np.zeros_like(source), np.ones((OUTPUT_PX, OUTPUT_PX, 3), np.float32),
                        mask, out_matrix).any(-1)
        assert np.array_equal(written[~touched], source[~touched])   # outside: bit-identical
        # The face region changed, around the place the face was pasted.
        _, cx, cy = PLACES[index]
        region = (slice(int(cy) - 8, int(cy) + 8), slice(int(cx) - 8, int(cx) + 8))
        assert touched[region].all()
        assert np.abs(written[region].astype(int) - source[region]).mean() > 20
        # The mask sits on the face the detector found, not somewhere else in the frame.
        ys, xs = np.nonzero(touched)
        assert abs(xs.mean() - cx) < 12 and abs(ys.mean() - cy) < 14


def test_extract_then_convert_to_video_keeps_fps_and_audio(tmp_path, extracted):
    video, alignments_path, _ = extracted
    converter = FaceConverter(invert_predict(OUTPUT_PX), INPUT_PX, OUTPUT_PX, Framing(),
                              BoxGeometry(), OPTIONS, learns_mask=False)
    out = tmp_path / "swapped.mp4"
    convert(ConvertJob(tmp_path, video, alignments_path, out), OPTIONS, converter=converter)
    with av.open(str(out)) as container:
        assert container.streams.video[0].average_rate == 6
        assert len(container.streams.audio) == 1
        assert sum(1 for _ in container.decode(video=0)) == 3
