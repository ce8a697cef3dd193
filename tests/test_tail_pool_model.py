"""CPU: benchmarks/tail_pool_model.py, the dynamic-tail model."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import tail_pool_model  # noqa: E402

KERNEL = {"tile_us": 1.0, "piece_us": 0.0, "fixed_cost": 0}


def test_the_pool_takes_whole_sequences_from_the_end_in_chunks():
    static, chunks = tail_pool_model.split_pool([640, 640, 320, 192], 0.3, 2)  # 10, 10, 5, 3 tiles
    assert static == [640, 640]
    assert chunks == [2, 2, 1, 2, 1]
    assert tail_pool_model.split_pool([640] * 4, 0.0, 4) == ([640] * 4, [])


def test_no_pool_is_the_static_schedule():
    # 4 sequences of 2 tiles on 2 parts at rates 1 and 1.5: 2 sequences a part, the slow part ends last.
    assert tail_pool_model.kernel_us([128] * 4, 2, [1.0, 1.5], 0.0, 1, KERNEL, 0.0, 0.0) == 6.0


def test_the_fast_part_takes_the_pool():
    # Half the work pooled in 1-tile chunks: the faster part takes more of them than the slower one.
    seqlens = [128] * 4  # 8 tiles
    static_only = tail_pool_model.kernel_us(seqlens, 2, [1.0, 1.5], 0.0, 1, KERNEL, 0.0, 0.0)
    pooled = tail_pool_model.kernel_us(seqlens, 2, [1.0, 1.5], 0.5, 1, KERNEL, 0.0, 0.0)
    assert pooled < static_only
