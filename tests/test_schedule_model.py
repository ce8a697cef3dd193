"""CPU: benchmarks/schedule_model.py, the scheduler's fixed-cost predictions."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import schedule_model  # noqa: E402


def test_parts_follow_the_rows():
    assert schedule_model.num_parts(16, 132) == 132
    assert schedule_model.num_parts(128, 132) == 66
    assert schedule_model.num_parts(256, 132) == 33


def test_makespan_counts_blocks_and_pieces():
    # 4 sequences of 2 blocks on 2 parts, no fixed cost: a part walks two whole sequences (two pieces).
    assert schedule_model.makespan([128] * 4, 2, 0, piece_blocks=1.0) == (2 * 2 + 2 * 1.0, 0)
    # 3 sequences of 4 blocks on 2 parts: the middle one splits (one extra split slot).
    span, extra = schedule_model.makespan([256] * 3, 2, 0, piece_blocks=0.0)
    assert (span, extra) == (6, 1)


def test_the_memory_rows_want_a_small_fixed_cost():
    # The model behind session 18's first experiment: on 4096/16/1 varlen a fixed cost of 1 shortens the
    # critical part against 4, while the fixed lengths' stays.
    lines = schedule_model.model_rows("4096:16:1", [4, 1], draws=5, sm_count=132, piece_blocks=1.0,
                                      with_benchmark_draw=False)
    fixed_4, fixed_1 = (float(line.split("fixed")[1].split()[0]) for line in lines[1:])
    varlen_4, varlen_1 = (float(line.split("draws")[1].split()[0]) for line in lines[1:])
    assert fixed_1 == fixed_4 and varlen_1 < varlen_4
