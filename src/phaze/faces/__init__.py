"""The face-geometry core: where a face sits in a frame, how it is cropped and put back."""
from phaze.faces.seams import convert_geometry

__all__ = ["convert_geometry"]
