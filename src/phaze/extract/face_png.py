"""The one seam between extract and the face-geometry core: an aligned, head-centred face PNG.

The geometry (legacy/pose/centred matrices, warp) lives in `phaze.faces` and faceswap's PNG
metadata in `phaze.formats`, both built on the `core` branch. Until they are merged this module
reports clearly that aligned faces cannot be written; detection and alignments still work.
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
    require_geometry()
    raise NotImplementedError("wire phaze.faces / phaze.formats here once core is merged")
