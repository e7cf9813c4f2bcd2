"""Faces and their 68 landmarks in one frame: upsampling, score and size filters, rotation retry."""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from phaze.errors import ConfigError
from phaze.extract.detectors import ALIGNERS, DETECTORS, Aligner, Box, Detection, Detector
from phaze.extract.refeed import MAX_REFEED, refeed_landmarks
from phaze.extract.tracks import box_iou

# faceswap's "rotate images" idea: when nothing is found upright, try these angles (degrees,
# counter-clockwise) in order and keep the first that finds a face.
DEFAULT_ROTATIONS = (30, -30, 90, -90, 180)
AUTO_MIN_SIDE_PX = 360   # "auto" upsampling doubles small images until the shorter side reaches this
MAX_UPSAMPLE = 3
ROLL_REFIT_DEGREES = 12   # refit landmarks on a levelled face when the eyes tilt more than this
# A dlib-style box from five points (measured on dlib's HOG boxes of six real clips): its side
# is ~2.2 eye-to-mouth distances, its centre 0.45 of the way from the eyes to the mouth.
SEED_SIDE, SEED_CENTRE = 2.2, 0.45
# A five-point detector's points are reliable on faces rolled by up to about this much.
QUARTER_TURN_DEGREES = 60
# Faces seen in the previous video frame are looked for this many box sides around their last
# box: a head moves far less than that between frames, and the detector needs some context.
NEAR_MARGIN = 1.0
# The search region's corners snap to this grid, so a still face keeps the same region, hence
# the same detector grid and the same box, frame after frame (a region that followed the face
# pixel by pixel would move the box by 1-4 px and shake the landmarks).
NEAR_GRID_PX = 32
# A region covering more of the frame than this saves too little: search the whole frame.
NEAR_MAX_AREA = 0.6
SAME_FACE_IOU = 0.3   # a whole-frame detection overlapping a region's face this much is that face


@dataclass(frozen=True)
class FindConfig:
    """How to look for faces in a frame."""

    detector: str = "hog"
    aligner: str = "dlib68"
    threshold: float = 0.2          # minimum detector score (dlib units; HOG ~0..3)
    min_size_px: int = 20           # faces whose box side is smaller (frame px) are skipped
    upsample: int | None = None     # doublings before detection; None = auto for small frames
    rotations: tuple[int, ...] = DEFAULT_ROTATIONS
    refeed: int = 5                 # landmark fits from shifted boxes averaged (1 = one fit)

    def __post_init__(self) -> None:
        DETECTORS.check(self.detector)   # a ConfigError naming the choices
        ALIGNERS.check(self.aligner)
        if self.min_size_px < 0:
            raise ConfigError(f"min size {self.min_size_px} is invalid: expected >= 0 px")
        if self.upsample is not None and not 0 <= self.upsample <= MAX_UPSAMPLE:
            raise ConfigError(f"upsample {self.upsample} is invalid: expected 0..{MAX_UPSAMPLE}")
        if not 1 <= self.refeed <= MAX_REFEED:
            raise ConfigError(f"refeed {self.refeed} is invalid: expected 1..{MAX_REFEED} "
                              "landmark fits per face")
        for angle in self.rotations:
            if not -359 <= angle <= 359 or angle == 0:
                raise ConfigError(f"rotation {angle} is invalid: expected non-zero degrees "
                                  "in -359..359")


@dataclass(frozen=True)
class FoundFace:
    """One face in frame coordinates, whatever rotation found it."""

    box: Box                  # axis-aligned box in frame px
    landmarks: np.ndarray     # (68, 2) float64, frame px
    score: float
    rotation: int             # degrees the frame was rotated for the face to be found (0 = upright)


def rotation_matrix(shape: tuple[int, ...], degrees: float) -> tuple[np.ndarray, tuple[int, int]]:
    """2x3 matrix rotating an image of `shape` by `degrees` (CCW) onto an enlarged canvas.

    The canvas is just big enough to hold the whole rotated image, so no face is cut off.
    Returns the matrix (frame px → rotated px) and the canvas size (width, height).
    """
    height, width = shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_width = int(round(height * sin + width * cos))
    new_height = int(round(height * cos + width * sin))
    matrix[0, 2] += (new_width - width) / 2
    matrix[1, 2] += (new_height - height) / 2
    return matrix, (new_width, new_height)


def map_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine to (N, 2) points."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def auto_upsample(shape: tuple[int, ...]) -> int:
    shorter, doublings = min(shape[:2]), 0
    while shorter * 2 ** doublings < AUTO_MIN_SIDE_PX and doublings < MAX_UPSAMPLE:
        doublings += 1
    return doublings


class FaceFinder:
    """Detector + aligner + the rules of FindConfig; build once, call per frame."""

    def __init__(self, config: FindConfig, detector: Detector | None = None,
                 aligner: Aligner | None = None) -> None:
        self.config = config
        self.detector: Detector = detector or DETECTORS.get_entry(config.detector).build()
        self.aligner: Aligner = aligner or ALIGNERS.get_entry(config.aligner).build()

    def with_config(self, config: FindConfig) -> "FaceFinder":
        """Another finder with new rules, reusing the loaded models when their names match."""
        same_detector = config.detector == self.config.detector
        same_aligner = config.aligner == self.config.aligner
        return FaceFinder(config, self.detector if same_detector else None,
                          self.aligner if same_aligner else None)

    def find(self, image: np.ndarray, near: list[Box] | None = None,
             scan_whole: bool = True) -> list[FoundFace]:
        """Faces in an (H, W, 3) RGB uint8 frame, upright first, then each retry rotation.

        `near`: where faces were in the previous video frame. Those faces are then detected in
        the region around them (a third of the work for a 100 px face in a 480 px frame), and
        the whole frame is scanned only if `scan_whole` (for faces that newly appear; the
        region's faces keep their region boxes, so their box does not change with the scan) or
        if the region shows fewer faces than were near.
        """
        region = search_region(near, image.shape) if near else None
        if region is not None:
            faces = self._find_upright(image, rotation=0, region=region)
            if len(faces) >= len(near):
                if scan_whole:
                    faces += self._find_upright(image, rotation=0, skip=faces)
                return faces
        faces = self._find_upright(image, rotation=0)
        for angle in self.config.rotations:
            if faces:
                break
            faces = self._find_rotated(image, angle)
        return faces

    def _find_rotated(self, image: np.ndarray, angle: int) -> list[FoundFace]:
        matrix, size = rotation_matrix(image.shape, angle)
        rotated = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT)
        back = cv2.invertAffineTransform(matrix)
        mapped = []
        for face in self._find_upright(rotated, rotation=angle):
            corners = map_points(back, face.box.corners())
            (left, top), (right, bottom) = corners.min(axis=0), corners.max(axis=0)
            mapped.append(FoundFace(Box(left, top, right, bottom),
                                    map_points(back, face.landmarks), face.score, angle))
        return mapped

    def _find_upright(self, image: np.ndarray, rotation: int,
                      region: tuple[int, int, int, int] | None = None,
                      skip: list[FoundFace] = ()) -> list[FoundFace]:
        """Faces of `image` as it stands; `region` (left, top, right, bottom, px) limits the
        detector to that part of it (the landmarks are still fitted on the whole image);
        detections overlapping a face of `skip` (found already) are not fitted again."""
        doublings = (auto_upsample(image.shape) if self.config.upsample is None
                     else self.config.upsample)
        factor = 2 ** doublings
        work = image if factor == 1 else cv2.resize(
            image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        faces = []
        for detection in self._detect(work, region, factor):
            box = detection.box.scaled(1 / factor)
            if detection.score < self.config.threshold:
                continue
            if min(box.width, box.height) < self.config.min_size_px:
                continue
            if any(box_iou(box, face.box) >= SAME_FACE_IOU for face in skip):
                continue
            # Landmarks on the upsampled image too: small faces get sub-pixel precision back.
            if detection.points5 is not None:
                landmarks = self._landmarks_seeded(work, detection.points5) / factor
            else:
                landmarks = self._landmarks_upright(work, detection.box) / factor
            faces.append(FoundFace(box, landmarks, detection.score, rotation))
        return faces

    def _detect(self, work: np.ndarray, region: tuple[int, int, int, int] | None,
                factor: int) -> list[Detection]:
        if region is None:
            return self.detector.detect(work)
        left, top, right, bottom = (value * factor for value in region)
        found = self.detector.detect(np.ascontiguousarray(work[top:bottom, left:right]))
        return [shifted(detection, left, top) for detection in found]

    def _landmarks_upright(self, image: np.ndarray, box: Box) -> np.ndarray:
        """Landmarks, refitted on a levelled copy when the face is tilted.

        HOG still finds faces rolled by ~30 degrees, but the shape predictor was trained on
        nearly level faces and drifts on them; levelling the eye line first brings it back.
        """
        # The roll is judged from one plain fit, and re-feed's extra fits are spent only on
        # the image the points finally come from: re-feeding fits that levelling then replaces
        # would be wasted work (it was a third of the landmark time on tilted faces).
        work, back = image, None
        plain = self.aligner.landmarks(image, box)
        landmarks = plain
        for _ in range(2):
            roll = eye_roll_degrees(landmarks)
            if abs(roll) < ROLL_REFIT_DEGREES:
                break
            centre = ((box.left + box.right) / 2, (box.top + box.bottom) / 2)
            matrix = cv2.getRotationMatrix2D(centre, roll, 1.0)   # levels the eye line
            work = cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]),
                                  flags=cv2.INTER_LINEAR)
            back = cv2.invertAffineTransform(matrix)
            plain = self.aligner.landmarks(work, box)
            landmarks = map_points(back, plain)
        refined = refeed_landmarks(self.aligner, work, box, self.config.refeed, plain)
        return refined if back is None else map_points(back, refined)

    def _landmarks_seeded(self, image: np.ndarray, points5: np.ndarray) -> np.ndarray:
        """Landmarks fitted from a detector's five points, then once more from the five points
        of that fit: a detector's points on a tilted face are rough, a fit from a roughly right
        seed is not, and a second fit from it settles. A face turned by more than a
        quadrant is first detected again on the frame turned by whole quarters, where it stands
        nearly upright and the detector's points are good."""
        if abs(seed_roll(points5)) > QUARTER_TURN_DEGREES:
            points5 = self._points_quarter_turned(image, points5)
        landmarks = self._fit_from_five(image, points5)
        return self._fit_from_five(image, five_points(landmarks))

    def _points_quarter_turned(self, image: np.ndarray, points5: np.ndarray) -> np.ndarray:
        """`points5` re-detected on the frame turned by the quarter turns nearest their roll
        (the same points when the turned frame shows no face there)."""
        matrix, size = rotation_matrix(image.shape, 90 * round(seed_roll(points5) / 90))
        turned = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_NEAREST)   # exact
        back, centre = cv2.invertAffineTransform(matrix), points5.mean(axis=0)
        reach = float(np.linalg.norm(points5[3:].mean(axis=0) - points5[:2].mean(axis=0)))
        best, best_gap = points5, reach   # a re-detection must sit on this face
        for detection in self.detector.detect(turned):
            if detection.points5 is None or detection.score < self.config.threshold:
                continue
            mapped = map_points(back, detection.points5)
            gap = float(np.linalg.norm(mapped.mean(axis=0) - centre))
            if gap < best_gap:
                best, best_gap = mapped, gap
        return best

    def _fit_from_five(self, image: np.ndarray, points5: np.ndarray) -> np.ndarray:
        """The eye line levelled first (so a face rolled by any angle is fitted upright), then a
        box placed the way dlib's detector places its boxes."""
        roll = seed_roll(points5)
        matrix = cv2.getRotationMatrix2D(tuple(points5.mean(axis=0)), roll, 1.0)
        level = cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]),
                               flags=cv2.INTER_LINEAR) if abs(roll) >= 2 else image
        if level is image:
            matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        points = map_points(matrix, points5)
        eyes, mouth = points[:2].mean(axis=0), points[3:].mean(axis=0)
        side = SEED_SIDE * float(np.linalg.norm(mouth - eyes))
        centre = eyes + SEED_CENTRE * (mouth - eyes)
        box = Box(centre[0] - side / 2, centre[1] - side / 2, centre[0] + side / 2,
                  centre[1] + side / 2)
        return map_points(cv2.invertAffineTransform(matrix), self._fit(level, box))

    def _fit(self, image: np.ndarray, box: Box) -> np.ndarray:
        return refeed_landmarks(self.aligner, image, box, self.config.refeed)


def search_region(boxes: list[Box], shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) px around `boxes`, NEAR_MARGIN box sides wide and snapped to
    NEAR_GRID_PX, inside the frame; None when it would cover most of the frame anyway."""
    height, width = shape[:2]
    left, top, right, bottom = width, height, 0, 0
    for box in boxes:
        margin = NEAR_MARGIN * max(box.width, box.height)
        left, top = min(left, box.left - margin), min(top, box.top - margin)
        right, bottom = max(right, box.right + margin), max(bottom, box.bottom + margin)
    left = max(0, int(left // NEAR_GRID_PX) * NEAR_GRID_PX)
    top = max(0, int(top // NEAR_GRID_PX) * NEAR_GRID_PX)
    right = min(width, -int(-right // NEAR_GRID_PX) * NEAR_GRID_PX)
    bottom = min(height, -int(-bottom // NEAR_GRID_PX) * NEAR_GRID_PX)
    if right <= left or bottom <= top or (
            (right - left) * (bottom - top) > NEAR_MAX_AREA * width * height):
        return None
    return left, top, right, bottom


def shifted(detection: Detection, dx: float, dy: float) -> Detection:
    """`detection` moved by (dx, dy) px: from a crop's coordinates to the frame's."""
    box = detection.box
    points5 = None if detection.points5 is None else detection.points5 + np.array([dx, dy])
    return replace(detection, box=Box(box.left + dx, box.top + dy, box.right + dx,
                                      box.bottom + dy), points5=points5)


def eye_roll_degrees(landmarks: np.ndarray) -> float:
    """Angle of the line from the right eye's centre to the left eye's (image y points down)."""
    return eye_line_degrees(landmarks[36:42].mean(axis=0), landmarks[42:48].mean(axis=0))


def seed_roll(points5: np.ndarray) -> float:
    """Roll (degrees, as eye_roll_degrees) of a face from its five points, turned by 180 degrees
    when the mouth is above the eyes: an upside-down face whose points came out mirrored."""
    roll = eye_line_degrees(points5[0], points5[1])
    eyes, mouth = points5[:2].mean(axis=0), points5[3:].mean(axis=0)
    radians = np.radians(roll)
    down = np.array([-np.sin(radians), np.cos(radians)])   # "down" of a face at this roll
    if float((mouth - eyes) @ down) < 0:
        roll += 180.0
    return (roll + 180.0) % 360.0 - 180.0   # in [-180, 180)


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """(5, 2) eye centres, nose tip and mouth corners of 68 landmarks (CenterFace's order)."""
    return np.stack([landmarks[36:42].mean(axis=0), landmarks[42:48].mean(axis=0),
                     landmarks[30], landmarks[48], landmarks[54]])


def eye_line_degrees(right_eye: np.ndarray, left_eye: np.ndarray) -> float:
    delta = left_eye - right_eye
    return float(np.degrees(np.arctan2(delta[1], delta[0])))
