"""Convert: swapped faces back into their frames (masks, colour, compositing, writers).

The names of convert's choices live here, free of OpenCV and torch, so `phaze convert --help`
lists them without loading either; the modules that act on them look values up here.
"""
from phaze.registry import Registry

WRITERS = Registry.of("writer", ("png", "jpg", "video"))
MASK_SOURCES = Registry.of("mask type", ("auto", "learned", "extended", "components",
                                         "occlusion"))   # auto: learned if the model has one
OCCLUSION_COMBINE = Registry.of("occlusion combine", ("none", "intersect", "union"))
COLOUR_METHODS = Registry.of("colour method", ("avg-color", "reinhard", "hist-match",
                                               "seamless", "none"))
DEFAULT_COLOUR = "avg-color"
SHARPEN_METHODS = Registry.of("sharpen method", ("none", "unsharp"))
SMOOTHING_METHODS = Registry.of("smoothing", ("one-euro", "none"))
