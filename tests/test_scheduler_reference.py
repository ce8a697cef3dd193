"""CPU: tests/scheduler_reference.py, the Python mirror of the tile scheduler (its device twin is checked
against it in decode_suite.py)."""

import random

import pytest
from scheduler_reference import PartRow, num_blocks, part_pieces, schedule


def covered_blocks(rows, seqlens):
    seen = {}
    for row in rows:
        for b, first, end in part_pieces(row, seqlens):
            for block in range(first, end):
                seen[(b, block)] = seen.get((b, block), 0) + 1
    return seen


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("num_parts", [1, 7, 66, 132])
def test_every_block_once_and_splits_counted(seed, num_parts):
    rng = random.Random(seed)
    seqlens = [rng.choice([0, rng.randint(1, 9000)]) for _ in range(rng.randint(1, 150))]
    rows, prefix = schedule(seqlens, num_parts)
    assert len(rows) == num_parts and len(prefix) == len(seqlens) + 1
    seen = covered_blocks(rows, seqlens)
    assert set(seen) == {(b, k) for b, s in enumerate(seqlens) for k in range(num_blocks(s))}
    assert set(seen.values()) == {1} or not seen
    # A sequence's splits: the parts that walk a piece of it (an empty sequence: its one empty piece).
    pieces_of = [0] * len(seqlens)
    for row in rows:
        for b, _, _ in part_pieces(row, seqlens):
            pieces_of[b] += 1
    assert [prefix[b + 1] - prefix[b] for b in range(len(seqlens))] == pieces_of


def test_equal_sequences_two_a_part_without_a_split():
    # 128 x 4096 tokens on 66 parts (128 query rows on an H100): 64 blocks + 4 a sequence, payload 136.
    rows, prefix = schedule([4096] * 128, 66)
    assert prefix[-1] == 128  # no sequence split
    assert rows[0] == PartRow(0, 0, 1, 64, 0)
    assert [r.end_batch < r.begin_batch for r in rows].count(True) == 2  # the last two parts idle


def test_split_slots_match_the_device():
    # What the H100 reported (benchmarks/NOTES.md run 153, profile_kernels.py), with a fixed cost of 4 blocks
    # a sequence: 157 split slots for 128 x 4096 tokens on 33 parts (256 query rows), 159 for 128 x 8192.
    assert schedule([4096] * 128, 33, fixed_cost_blocks=4)[1][-1] == 157
    assert schedule([8192] * 128, 33, fixed_cost_blocks=4)[1][-1] == 159


def test_a_payload_within_the_slack_without_a_split_wins():
    # 128 x 8192 tokens on 66 parts at 6 a sequence: the mean payload (266) cuts 62 sequences two blocks short of
    # two a part; with a slack of 6 (sm90's), 272 takes two whole ones (268), and the last two parts idle (runs
    # 229-233). Without a slack (sm8x's: run 234), the mean's cuts.
    rows, prefix = schedule([8192] * 128, 66, fixed_cost_blocks=6, no_split_slack_blocks=6)
    assert prefix[-1] == 128
    assert rows[0] == PartRow(0, 0, 1, 128, 0)
    assert [r.end_batch < r.begin_batch for r in rows].count(True) == 2
    assert schedule([8192] * 128, 66, fixed_cost_blocks=6)[1][-1] == 128 + 62
    assert schedule([8192] * 128, 66, fixed_cost_blocks=6, no_split_slack_blocks=1)[1][-1] == 128 + 62
    # Not where the slack does not reach (8192 on 33 parts at 6), nor in the deterministic mode.
    assert schedule([8192] * 128, 33, fixed_cost_blocks=6, no_split_slack_blocks=6)[1][-1] == 128 + 31
    assert schedule([8192] * 128, 66, fixed_cost_blocks=6, chunk_blocks=64, no_split_slack_blocks=6)[1][-1] == 256
    # Varied lengths need splits at any payload near the mean: the mean's walk.
    rng = random.Random(0)
    seqlens = [rng.randint(4096, 8192) for _ in range(128)]
    assert schedule(seqlens, 66, 6, no_split_slack_blocks=6) == schedule(seqlens, 66, 6)


def test_deterministic_chunks():
    seqlens = [9000, 100, 5000]
    rows, prefix = schedule(seqlens, 4, chunk_blocks=64)
    assert prefix == [0, 3, 4, 6]  # 141 blocks -> 3 chunks of 64; 2 -> 1; 79 -> 2
    seen = covered_blocks(rows, seqlens)
    assert set(seen.values()) == {1} and len(seen) == 141 + 2 + 79
    cuts = [r.end_block for r in rows if r.end_batch >= r.begin_batch and r.end_block < num_blocks(seqlens[r.end_batch])]
    assert cuts and all(cut % 64 == 0 for cut in cuts)  # a part ends inside a sequence only at a chunk boundary
