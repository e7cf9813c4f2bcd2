"""The astronaut photo (skimage, public domain) as a face set: dlib's landmarks of it, fixed so
tests do not depend on a detector, and head-centred faceswap PNGs cut from rotated copies."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import skimage.data

from phaze.faces.aligned import AlignedFace
from phaze.formats.faceswap_png import face_metadata, write_face_png

HEAD_PX = 128

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


def write_astronaut_faces(folder: Path, landmarks: np.ndarray = ASTRONAUT_LANDMARKS,
                          angles=(0, -6, 6)) -> list[AlignedFace]:
    """Head-centred faceswap PNGs of the astronaut, the frame rotated by each angle."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = skimage.data.astronaut()
    faces = []
    for index, angle in enumerate(angles):
        matrix = cv2.getRotationMatrix2D((220.0, 130.0), angle, 1.0)
        rotated = cv2.warpAffine(frame, matrix, frame.shape[1::-1])
        points = landmarks @ matrix[:, :2].T + matrix[:, 2]
        face = AlignedFace(f"astronaut_{index}.png", 0, 175, 76, 90, 90, points)
        write_face_png(folder / f"astronaut_{index}_0.png", face.warp(rotated, HEAD_PX),
                       face_metadata(face, face.frame, rotated.shape[:2]))
        faces.append(face)
    return faces
