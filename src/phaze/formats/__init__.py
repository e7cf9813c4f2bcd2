"""Readers and writers of other tools' model formats (faceswap Keras, DeepFaceLive)."""
