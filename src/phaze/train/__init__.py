"""Training: losses, optimisation and the training loop (kept out of the model files)."""
