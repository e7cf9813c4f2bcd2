"""Training: losses, optimisation and the training loop (kept out of the model files).

Start at `phaze.train.loop.train` (the Python API the CLI calls) and
`phaze.train.config.TrainerConfig` (how to train). Module map: session (create/resume the
model), transfer (load sub-models from another model), step (one optimisation step),
components (the parts a save holds, by name), precision (device, autocast), preview, run_log
(progress bar, TensorBoard), demo (the no-data default).
"""
