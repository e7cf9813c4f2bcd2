"""The seam between extract and the face-geometry core: a found face → AlignedFace → face PNG."""
from __future__ import annotations

import numpy as np

from phaze.extract.find import FoundFace
from phaze.faces.aligned import AlignedFace
from phaze.faces.framing import HEAD_FRAMING
from phaze.formats.faceswap_png import add_metadata, face_metadata
from phaze.io.images import encode_image

# faceswap stores head-centred faces: every other centering is a sub-crop of them.
STORED_FRAMING = HEAD_FRAMING


def to_aligned_face(frame_name: str, face_index: int, face: FoundFace,
                    landmarks: np.ndarray | None = None,
                    track_id: int | None = None) -> AlignedFace:
    """`face` as an AlignedFace; `landmarks` replaces the found ones (e.g. smoothed)."""
    box = face.box
    return AlignedFace(frame=frame_name, face_index=face_index, x=int(round(box.left)),
                       y=int(round(box.top)), w=int(round(box.width)), h=int(round(box.height)),
                       landmarks=face.landmarks if landmarks is None else landmarks,
                       score=face.score, track_id=track_id)


def aligned_face_png(frame: np.ndarray, face: AlignedFace, size_px: int, is_video: bool) -> bytes:
    """PNG bytes of the head-centred face at `size_px`, with faceswap's iTXt metadata."""
    image = face.warp(frame, size_px, STORED_FRAMING)
    metadata = face_metadata(face, face.frame, tuple(frame.shape[:2]), is_video)
    return add_metadata(encode_image(image, ".png"), metadata)
