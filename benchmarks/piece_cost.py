"""Split a decode kernel's time into a cost per piece and a cost per tile (benchmarks/NOTES.md, run 96).

A CTA of the split-KV kernels walks its part of the work in pieces (one per sequence it touches, each
with its own start, tail and epilogue) and tiles (64 tokens each). Timing the same tokens spread over more
or fewer sequences (b x s_k constant: `profile_kernels.py --piece-sweep TOKENS`) keeps the tiles a part
holds fixed and moves only its pieces, so a straight line through (pieces per part, kernel time) has the
cost of a piece as its slope, and at zero pieces what the part's tiles (plus the launch) cost.
"""

from __future__ import annotations

import statistics


def pieces_per_part(metadata_rows) -> float:
    """Mean pieces a non-empty part holds, from the scheduler metadata's rows (begin_batch, begin_block,
    end_batch, end_block, ...): one per sequence from begin_batch to end_batch."""
    counts = [row[2] - row[0] + 1 for row in metadata_rows if row[2] >= row[0]]
    return sum(counts) / len(counts)


def fit_piece_cost(points) -> tuple[float, float]:
    """Least-squares line through (pieces per part, kernel us) points: (us per piece, us at zero pieces)."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    try:
        fit = statistics.linear_regression(xs, ys)
    except statistics.StatisticsError as error:  # fewer than two points, or every batch size gave the same x
        raise ValueError(f"need batch sizes with at least two different pieces per part: {error}") from error
    return fit.slope, fit.intercept
