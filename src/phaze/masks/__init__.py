"""Learned occlusion masks: a small segmenter each user trains on their own faces (no downloads).

network (the U-Net), occluders (synthetic occlusion), dataset (faces → image, target),
training (the loop), storage (the mask model folder), predict (inference and `mask apply`),
labels (the masks/ folder: hand-drawn masks, exclusions, one lock).
"""
