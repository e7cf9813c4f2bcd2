"""Training: losses, optimisation and the training loop (kept out of the model files).

Start at `phaze.train.loop.train` (the Python API the CLI calls) and
`phaze.train.config.TrainerConfig` (how to train). Module map: session (create/resume the
model), transfer (load sub-models from another model), step (one optimisation step),
checkpointing (what a save holds), precision (device, autocast), preview, logging (progress bar,
TensorBoard), demo (the no-data default).
"""
