"""Steady landmarks over time, the one home for both filters and their measures.

- `centred`: a centred Savitzky–Golay fit over a face track, for extract, which sees the frames
  around the one it writes: no phase lag, a head turn's speed and acceleration kept.
- `one_euro`: a causal One-Euro filter, for convert, which must decide each frame as it
  writes it: low-passes a still face hard and opens up as the face moves.
"""
