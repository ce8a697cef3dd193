"""CPU: the GPU modules' decode grids (tests/decode_suite.py) cover what issue #3 lists, and the grid switch."""

import pytest
from decode_suite import GRID_ENV, _full_cases, _quick_cases, selected_grid


def test_full_grid_covers_the_issue_lists():
    cases = _full_cases()
    assert {c.h_q for c in cases} == {1, 3, 9, 16, 63, 64, 126, 128}
    assert {c.s_q for c in cases} == set(range(1, 9))
    assert {c.page_block_size for c in cases} == {16, 32, 64}
    assert {c.h_kv for c in cases} == {1, 2, 3, 8}
    assert all(c.h_q % c.h_kv == 0 for c in cases)
    assert {(c.causal, c.varlen) for c in cases} == {(True, True), (True, False), (False, True), (False, False)}
    assert any(c.zero_lengths for c in cases)


def test_grid_labels_are_unique():
    labels = [c.label() for c in _quick_cases() + _full_cases()]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("value, expected", [(None, "quick"), ("", "quick"), ("full", "full"), ("quick", "quick")])
def test_grid_switch(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(GRID_ENV, raising=False)
    else:
        monkeypatch.setenv(GRID_ENV, value)
    assert selected_grid() == expected


def test_grid_switch_rejects_unknown(monkeypatch):
    monkeypatch.setenv(GRID_ENV, "huge")
    with pytest.raises(pytest.UsageError, match=GRID_ENV):
        selected_grid()
