"""The astronaut's landmarks for the face-source tests."""
from __future__ import annotations

import numpy as np
import pytest

# dlib's 68-point predictor on the astronaut photo, box (175, 76)-(265, 166), frame px; fixed
# here so the test does not load the 100 MB predictor (tests/score checks dlib itself).
ASTRONAUT_LANDMARKS = np.array(
    [[179, 104], [180, 116], [181, 127], [182, 139], [185, 150], [191, 160], [200, 168],
     [209, 176], [220, 178], [232, 177], [243, 171], [253, 163], [260, 154], [265, 143],
     [268, 131], [270, 120], [272, 108], [186, 94], [192, 88], [200, 87], [208, 89],
     [216, 92], [236, 93], [244, 91], [252, 91], [260, 92], [265, 99], [226, 102],
     [225, 111], [225, 119], [225, 127], [214, 131], [219, 133], [224, 134], [229, 133],
     [234, 132], [195, 101], [200, 98], [207, 98], [212, 104], [206, 104], [199, 104],
     [237, 106], [243, 100], [250, 100], [255, 105], [250, 107], [244, 107], [201, 139],
     [209, 139], [218, 139], [224, 141], [230, 140], [238, 140], [246, 141], [238, 151],
     [229, 155], [222, 156], [216, 155], [208, 150], [204, 141], [218, 143], [223, 144],
     [230, 143], [243, 142], [229, 150], [223, 151], [217, 150]], np.float64)


@pytest.fixture
def astronaut_landmarks() -> np.ndarray:
    return ASTRONAUT_LANDMARKS.copy()
