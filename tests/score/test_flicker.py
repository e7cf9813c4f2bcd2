import numpy as np

from phaze.score.flicker import face_box, measure_flicker


def _landmarks(x, y, size=20):
    return np.array([[x, y], [x + size, y + size]], np.float64)


def _clip(count, shake):
    """Frames of a grey square 'face' at (20, 20); the output's square shakes by `shake` px."""
    rng = np.random.default_rng(0)
    source, output, faces = [], [], {}
    for index in range(count):
        frame = np.full((64, 64, 3), 40, np.uint8)
        frame[20:40, 20:40] = 200 + rng.integers(0, 3)   # a little sensor noise
        swapped = frame.copy()
        offset = shake * (index % 2)
        swapped[20:40, 20:40] = 40
        swapped[20 + offset:40 + offset, 20 + offset:40 + offset] = 120
        name = f"f{index}.png"
        source.append((name, frame))
        output.append((name, swapped))
        faces[name] = [_landmarks(20, 20)]
    return source, output, faces


def test_a_shaking_swap_flickers_more_than_a_steady_one():
    steady = measure_flicker(*_clip(10, shake=0))
    shaky = measure_flicker(*_clip(10, shake=3))
    assert steady.pairs == shaky.pairs == 9
    assert steady.output_change == 0.0
    assert shaky.ratio > 10 * max(steady.ratio, 0.1)


def test_frames_without_a_face_are_not_counted():
    source, output, faces = _clip(6, shake=2)
    faces["f2.png"] = []
    assert measure_flicker(source, output, faces).pairs == 3   # 0-1, 3-4, 4-5


def test_face_box_is_grown_and_clipped_to_the_frame():
    assert face_box([_landmarks(0, 10, size=20)], (64, 64, 3)) == (8, 32, 0, 22)
    assert face_box([], (64, 64, 3)) is None
