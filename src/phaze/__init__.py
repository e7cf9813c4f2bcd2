"""Phaze: a PyTorch re-creation of faceswap's Phaze-A configurable face-swap model builder."""
__version__ = "0.1.0"
