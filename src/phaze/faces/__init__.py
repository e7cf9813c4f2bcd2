"""The face-geometry core: where a face sits in a frame, how it is cropped and put back."""
