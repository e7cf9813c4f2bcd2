"""The one seam between extract and the face-geometry core: an aligned, head-centred face PNG.

The geometry (legacy/pose/centred matrices, warp) lives in `phaze.faces` and faceswap's PNG
metadata in `phaze.formats.faceswap_png`; this module only joins them for one found face.
"""
from __future__ import annotations

import importlib.util

import numpy as np

from phaze.errors import ConfigError
from phaze.extract.find import FoundFace


def geometry_available() -> bool:
    return all(importlib.util.find_spec(name) is not None
               for name in ("phaze.faces", "phaze.formats"))


def require_geometry() -> None:
    if not geometry_available():
        raise ConfigError("writing aligned faces needs phaze.faces and phaze.formats, which this "
                          "build lacks: use --alignments-only (write_faces=False) for now")


def aligned_face_png(frame: np.ndarray, face: FoundFace, size_px: int, source: dict) -> bytes:
    """PNG bytes of the head-centred face at `size_px`, with faceswap's iTXt metadata.

    `source` carries faceswap's `source` fields (original_filename, face_index,
    source_filename, source_is_video, source_frame_dims).
    """
    from phaze.faces.aligned import AlignedFace
    from phaze.faces.geometry import warp_face
    from phaze.formats.faceswap_png import add_metadata, face_metadata
    from phaze.io.images import encode_image

    box = face.box
    aligned = AlignedFace(str(source["source_filename"]), int(source["face_index"]),
                          int(round(box.left)), int(round(box.top)), int(round(box.width)),
                          int(round(box.height)), face.landmarks, float(face.score))
    image = warp_face(frame, aligned.matrix(size_px, "head"), size_px)
    metadata = face_metadata(aligned, str(source["source_filename"]),
                             tuple(source["source_frame_dims"]), bool(source["source_is_video"]),
                             str(source["original_filename"]))
    return add_metadata(encode_image(image, ".png"), metadata)
