"""The CPU thread default counts only the cores other work leaves free."""
import pytest

from phaze.train.threads import default_threads, usable_cores


@pytest.mark.parametrize(("cores", "load", "expected"), [
    (2, 0.1, 2),     # idle 2-core box: both cores
    (2, 1.2, 1),     # one core busy elsewhere
    (2, 16.0, 1),    # heavily loaded: never below one
    (16, 3.7, 13),
])
def test_default_threads_leave_busy_cores_alone(cores, load, expected):
    assert default_threads(cores, load) == expected


def test_the_default_never_exceeds_the_usable_cores():
    assert 1 <= default_threads() <= usable_cores()
