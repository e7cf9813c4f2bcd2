"""Landmark comparisons shared by the extract tests."""
import numpy as np


def inter_ocular(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[36:42].mean(axis=0) - landmarks[42:48].mean(axis=0)))


def landmark_error(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean point distance as a fraction of the true inter-ocular distance."""
    return float(np.linalg.norm(found - truth, axis=1).mean() / inter_ocular(truth))
