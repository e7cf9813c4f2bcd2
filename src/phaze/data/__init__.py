"""Training data: face folders, synthetic faces, augmentation and the A/B batch loader."""
from phaze.data.augment import AugmentConfig, augment_pair, prepare_plain
from phaze.data.faceset import FaceSet, load_faceset
from phaze.data.batch import PairBatch, SideBatch
from phaze.data.loader import StreamPosition, make_training_batches, preview_batch
from phaze.data.synthetic import (
    IDENTITIES, SyntheticIdentity, render_faces, synthetic_faceset, write_faceset,
)

__all__ = [
    "AugmentConfig", "augment_pair", "prepare_plain", "FaceSet", "load_faceset", "SideBatch",
    "make_training_batches", "preview_batch", "IDENTITIES", "SyntheticIdentity", "render_faces",
    "synthetic_faceset", "write_faceset",
]
