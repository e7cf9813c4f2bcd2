"""Fixtures shared by the model tests."""
import pytest

from designs import TINY


@pytest.fixture
def tiny() -> dict:
    return dict(TINY)
