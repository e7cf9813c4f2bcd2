"""The tolerance tests derive from bfloat16's rounding (a plain module: conftest is not
importable by name)."""
import pytest

# bfloat16 keeps 8 significant bits: one rounding moves a value by up to 2**-8 = 0.39 % of it.
BF16_STEP = 2.0 ** -8


def assert_same_losses_within_bf16(reference, other) -> None:
    """The two TrainSteps' metered losses (read once each) agree within 4 bf16 roundings."""
    expected, got = reference.meter.read(), other.meter.read()
    assert expected.keys() == got.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=4 * BF16_STEP), key
