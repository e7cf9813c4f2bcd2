"""DeepFaceLab aligned JPGs: read the pickled metadata of their APP15 segment without running code.

DFL stores `pickle.dumps(dict)` in a JPEG APP15 segment. Plain `pickle.loads` on such a file can
run any code its author chose, so the pickle is read with `SafeUnpickler`: it admits only plain
containers, numbers, strings and the few numpy callables that rebuild arrays, dtypes and scalars,
each wrapped so it can only build a plain array. Anything else is refused with a DataError naming
the file, before any of it is called.
"""
from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from phaze.errors import DataError
from phaze.faces.geometry import MAX_COORDINATE_PX
from phaze.io.image_header import check_image_area

APP15_MARKER = 0xEF
_SOI = b"\xff\xd8"
_START_OF_SCAN = 0xDA
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn: no length field
# A JPEG segment holds at most 65533 bytes, so the pickle is small; these caps bound the walk
# over what it built (a pickle can share one list many times: "billion laughs").
MAX_DEPTH = 32
MAX_NODES = 100_000
# dtype kinds an array may have: booleans, integers, floats, complex, bytes, str. No objects.
_ALLOWED_DTYPE_KINDS = frozenset("biufcSU")
KNOWN_FACE_TYPES = frozenset({"half_face", "mid_face", "full_face", "full_face_no_align",
                              "whole_face", "head", "head_no_align", "mark_only"})


@dataclass(frozen=True)
class DflFace:
    """The alignment data of one DFL aligned face."""

    face_type: str
    landmarks: np.ndarray  # (68, 2) float32, aligned-face px
    source_filename: str | None
    source_rect: tuple[float, ...] | None  # frame px
    source_landmarks: np.ndarray | None  # (68, 2) float32, frame px
    image_to_face_mat: np.ndarray | None  # (2, 3) float32, frame px -> aligned px
    xseg_mask: np.ndarray | None  # (H, W) uint8 as stored (DFL resizes it to the face on use)


# --- the restricted unpickler -------------------------------------------------------------------

class _NdarrayToken:
    """Stands in for `numpy.ndarray`: only `_reconstruct` accepts it, so nothing can call it."""


_NDARRAY = _NdarrayToken()


def _checked_dtype(dtype: np.dtype) -> np.dtype:
    if dtype.kind not in _ALLOWED_DTYPE_KINDS or dtype.hasobject:
        raise pickle.UnpicklingError(f"array dtype {dtype} is not allowed")
    return dtype


def _safe_dtype(spec: Any, align: bool = False, copy: bool = False) -> np.dtype:
    if not isinstance(spec, str):
        raise pickle.UnpicklingError(f"dtype spec {type(spec).__name__} is not allowed")
    return _checked_dtype(np.dtype(spec, align=bool(align), copy=bool(copy)))


def _safe_reconstruct(subtype: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    # numpy pickles an array as _reconstruct(ndarray, (0,), b'b') + __setstate__(shape, data);
    # __setstate__ checks that the data's length fits the shape before it allocates.
    if subtype is not _NDARRAY or shape != (0,):
        raise pickle.UnpicklingError("array reconstruction with unexpected arguments")
    return np.ndarray((0,), dtype=np.uint8)


def _safe_frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any = "C") -> np.ndarray:
    if not isinstance(buffer, (bytes, bytearray)) or not isinstance(dtype, np.dtype):
        raise pickle.UnpicklingError("array buffer with unexpected arguments")
    flat = np.frombuffer(bytes(buffer), dtype=_checked_dtype(dtype))
    return flat.reshape(tuple(int(n) for n in shape), order="F" if order == "F" else "C").copy()


def _safe_scalar(dtype: Any, data: Any = None) -> np.generic:
    if not isinstance(dtype, np.dtype) or not isinstance(data, bytes):
        raise pickle.UnpicklingError("numpy scalar with unexpected arguments")
    values = np.frombuffer(data, dtype=_checked_dtype(dtype))
    if values.size != 1:
        raise pickle.UnpicklingError("numpy scalar data of the wrong length")
    return values[0].copy()


def _safe_latin1(text: Any, encoding: Any = "latin1") -> bytes:
    # Protocol 2 pickles bytes as _codecs.encode(text, "latin1").
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode with unexpected arguments")
    return text.encode("latin1")


_NUMPY_MODULES = ("numpy.core.multiarray", "numpy._core.multiarray")
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **{(module, "_reconstruct"): _safe_reconstruct for module in _NUMPY_MODULES},
    **{(module, "scalar"): _safe_scalar for module in _NUMPY_MODULES},
    ("numpy.core.numeric", "_frombuffer"): _safe_frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _safe_frombuffer,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _safe_dtype,
    ("_codecs", "encode"): _safe_latin1,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler whose only callables are the wrapped numpy builders above."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed") from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


def safe_unpickle(data: bytes) -> Any:
    """`pickle.loads` restricted to plain data; raises pickle.UnpicklingError on anything else."""
    try:
        value = SafeUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError:
        raise
    except (ValueError, TypeError, AttributeError, EOFError, IndexError, KeyError,
            MemoryError, RecursionError, OverflowError) as error:
        raise pickle.UnpicklingError(
            f"malformed pickle ({type(error).__name__}: {error})") from None
    _check_plain(value)
    return value


def _check_plain(value: Any) -> None:
    """Refuse deep nesting, shared-reference bombs and anything but plain data, iteratively."""
    stack = [(value, 0)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise pickle.UnpicklingError(f"more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise pickle.UnpicklingError(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend((part, depth + 1) for part in item)
        elif isinstance(item, np.ndarray):
            _checked_dtype(item.dtype)
        elif not isinstance(item, (str, bytes, bytearray, int, float, complex, bool,
                                   type(None), np.generic)):
            raise pickle.UnpicklingError(f"value of type {type(item).__name__} is not allowed")


# --- the JPEG container -------------------------------------------------------------------------

def app15_payloads(data: bytes) -> list[bytes]:
    """The APP15 segments of a JPEG, in file order (segments end at the start of scan)."""
    if not data.startswith(_SOI):
        raise ValueError("not a JPEG (no start-of-image marker)")
    payloads, position = [], 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError(f"bad JPEG marker at byte {position}")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE_MARKERS:
            position += 2
            continue
        if marker == _START_OF_SCAN:
            break
        length = int.from_bytes(data[position + 2:position + 4], "big")
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise ValueError(f"JPEG segment at byte {position} runs past the end")
        if marker == APP15_MARKER:
            payloads.append(data[position + 4:end])
        position = end
    return payloads


def read_dfl_jpg(path: str | Path) -> DflFace | None:
    """The DFL metadata of `path`, or None for a JPEG that has none (a plain crop).

    Raises DataError naming the file when the metadata exists but is unsafe, broken or from a
    face type this reader does not know.
    """
    path = Path(path)
    try:
        payloads = app15_payloads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise DataError(f"DFL face {path}: cannot read it as a JPEG ({error}).") from None
    if not payloads:
        return None
    try:
        metadata = safe_unpickle(payloads[0])
    except pickle.UnpicklingError as error:
        raise DataError(f"DFL face {path}: metadata refused ({error}); only plain data and "
                        "numpy arrays are read.") from None
    if not isinstance(metadata, dict):
        raise DataError(f"DFL face {path}: metadata is a {type(metadata).__name__}, "
                        "expected a dict.")
    return _to_face(path, metadata)


def _to_face(path: Path, metadata: dict) -> DflFace:
    face_type = metadata.get("face_type")
    if face_type not in KNOWN_FACE_TYPES:
        raise DataError(f"DFL face {path}: face_type {face_type!r} is not supported; known: "
                        f"{', '.join(sorted(KNOWN_FACE_TYPES))}.")
    landmarks = _points(path, metadata.get("landmarks"), "landmarks")
    if landmarks is None:
        raise DataError(f"DFL face {path}: has no landmarks.")
    matrix = _numbers(path, metadata.get("image_to_face_mat"), "image_to_face_mat", (2, 3))
    rect = _numbers(path, metadata.get("source_rect"), "source_rect", (4,))
    source = metadata.get("source_filename")
    return DflFace(face_type=face_type, landmarks=landmarks,
                   source_filename=source if isinstance(source, str) else None,
                   source_rect=None if rect is None else tuple(float(v) for v in rect),
                   source_landmarks=_points(path, metadata.get("source_landmarks"),
                                            "source_landmarks"),
                   image_to_face_mat=matrix, xseg_mask=_decode_mask(path, metadata))


def _numbers(path: Path, value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """`value` as a finite float32 array of `shape`; None when absent; DataError otherwise."""
    if value is None:
        return None
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"DFL face {path}: {name} is not numbers.") from None
    if array.shape != shape:
        raise DataError(f"DFL face {path}: {name} has shape {array.shape}, expected {shape}.")
    if not np.isfinite(array).all() or np.abs(array).max() > MAX_COORDINATE_PX:
        raise DataError(f"DFL face {path}: {name} holds non-finite or out-of-range values.")
    return array


def _points(path: Path, value: Any, name: str) -> np.ndarray | None:
    return _numbers(path, value, name, (68, 2))


def _decode_mask(path: Path, metadata: dict) -> np.ndarray | None:
    """DFL stores its XSeg mask as PNG/JPG bytes (a uint8 array from cv2.imencode)."""
    encoded = metadata.get("xseg_mask")
    if encoded is None:
        return None
    import cv2  # only needed for the few faces with a mask

    try:
        buffer = np.frombuffer(bytes(encoded), dtype=np.uint8) if isinstance(encoded, bytes) \
            else np.asarray(encoded, dtype=np.uint8).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"DFL face {path}: xseg_mask is not encoded image bytes.") from None
    try:
        known = check_image_area(buffer, f"{path} (xseg_mask)")
    except DataError as error:
        raise DataError(f"DFL face {path}: xseg_mask refused: {error}") from None
    mask = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE) if known else None
    if mask is None:
        raise DataError(f"DFL face {path}: xseg_mask cannot be decoded.")
    return mask
