"""Optimisers, bfloat16 Adam moments, gradient clipping and learning-rate warm-up.

`config` holds the settings (light, no torch); `factory` builds the optimiser, `clipping` and
`warmup` act on it during training.
"""
