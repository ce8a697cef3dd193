"""CPU: benchmarks/piece_cost.py, the per-piece / per-tile split of profile_kernels.py --piece-sweep."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import piece_cost  # noqa: E402


def test_pieces_per_part_counts_sequences_and_skips_empty_parts():
    rows = [[0, 0, 2, 5, 0, 0, 0, 0],   # sequences 0-2: 3 pieces
            [2, 5, 2, 9, 1, 0, 0, 0],   # the rest of sequence 2: 1 piece
            [3, 0, 2, 0, 0, 0, 0, 0]]   # empty part (end_batch < begin_batch)
    assert piece_cost.pieces_per_part(rows) == 2.0


def test_fit_recovers_slope_and_intercept():
    points = [(x, 400.0 + 12.5 * x) for x in (1.97, 2.94, 4.88, 8.76)]
    per_piece, at_zero = piece_cost.fit_piece_cost(points)
    assert per_piece == pytest.approx(12.5)
    assert at_zero == pytest.approx(400.0)


def test_fit_needs_two_distinct_points():
    with pytest.raises(ValueError):
        piece_cost.fit_piece_cost([(2.0, 1.0)])
    with pytest.raises(ValueError):
        piece_cost.fit_piece_cost([(2.0, 1.0), (2.0, 3.0)])
