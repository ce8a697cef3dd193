"""CPU checks of the timing helpers' arguments (tests/timing.py); the timing itself needs a GPU."""

import pytest
from timing import L2_FLUSH_MODES, l2_flush, time_cuda_ms


def test_flush_modes_are_anchors_clean_read_and_written_back():
    assert L2_FLUSH_MODES == ("write", "read", "write+read")


def test_unknown_flush_mode_is_rejected_before_any_cuda_call():
    with pytest.raises(ValueError, match="flush_mode"):
        time_cuda_ms(lambda: None, flush_mode="zero")


def test_unknown_flush_mode_is_rejected_before_any_allocation():
    with pytest.raises(ValueError, match="flush_mode"):
        l2_flush("zero")
