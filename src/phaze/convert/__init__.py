"""Convert: swapped faces back into their frames (masks, colour, compositing, writers)."""
