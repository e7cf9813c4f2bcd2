"""A model folder on disk: its options, framing, weights, training state and previews."""
