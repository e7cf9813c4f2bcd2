"""Fixtures shared by the model tests."""
import pytest
import torch

from designs import TINY


@pytest.fixture
def tiny() -> dict:
    return dict(TINY)


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors: thread start-up and spinning cost more than they save on a small CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
