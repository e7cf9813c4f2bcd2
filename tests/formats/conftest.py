"""Fixtures shared by the format (import/export) tests."""
import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models: thread start-up costs more than it saves on a small CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
