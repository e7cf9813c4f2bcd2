"""A model folder on disk: its options, framing, weights, training state and previews.

`folder.ModelFolder` owns every path of a model folder; `checkpoint` writes and reads the
weights and training state (Stateful components by name) and creates and loads model folders;
`framing_file` holds the framing rules training applies. Atomic writes: `phaze.io.atomic`.
"""
