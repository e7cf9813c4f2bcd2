"""Find faces in frames (registered detectors and aligners) and write aligned face sets."""
