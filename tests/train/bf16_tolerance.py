"""The tolerance tests derive from bfloat16's rounding (a plain module: conftest is not
importable by name)."""

# bfloat16 keeps 8 significant bits: one rounding moves a value by up to 2**-8 = 0.39 % of it.
BF16_STEP = 2.0 ** -8
