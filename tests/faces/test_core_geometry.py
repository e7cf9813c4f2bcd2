"""Convert's binding to the shared face-geometry core (skipped where phaze.faces is absent)."""
import numpy as np
import pytest

from phaze.faces.framing import Framing

faces = pytest.importorskip("phaze.faces.geometry")


def _template(scale=120.0, origin=(100.0, 60.0)):
    from phaze.faces.constants import alignment_constants

    points = np.zeros((68, 2))
    points[17:68] = alignment_constants().mean_face_51
    angles = np.linspace(np.pi, 0.0, 17)
    points[0:17, 0] = 0.5 + 0.52 * np.cos(angles)
    points[0:17, 1] = 0.3 + 0.75 * np.sin(angles)
    return points * scale + np.asarray(origin)


def test_core_geometry_crops_with_the_models_framing_and_masks_the_face():
    from phaze.faces.aligned import CoreGeometry

    geometry, landmarks = CoreGeometry(), _template()
    face = geometry.crop_matrix(landmarks, 64, Framing("face", 100.0, 0.0))
    head = geometry.crop_matrix(landmarks, 64, Framing("head", 100.0, 0.0))
    assert face.shape == (2, 3) and not np.allclose(face, head)
    assert abs(face[0, 0]) > abs(head[0, 0])  # face centering is a tighter crop than head
    mask = geometry.landmark_mask(landmarks, face, 64, "extended")
    assert mask.shape == (64, 64) and mask.dtype == np.float32
    assert mask.max() == pytest.approx(1.0) and mask[32, 32] == pytest.approx(1.0)
    assert mask[0, 0] == 0.0
