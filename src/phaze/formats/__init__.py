"""File formats around faces: faceswap PNG metadata, Phaze JSON alignments. No pickle."""
