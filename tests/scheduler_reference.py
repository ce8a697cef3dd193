"""A Python mirror of the tile scheduler (csrc/smxx/scheduler_metadata.cu): which schedule blocks of which
sequences each SM part walks, and how many splits each sequence gets. Pure Python, no torch.

The GPU suite checks the device's metadata against it (decode_suite.py), and benchmarks/schedule_model.py
uses it, with a cost a piece, to predict how a change of the scheduler's fixed cost moves the critical path.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEDULE_BLOCK_TOKENS = 64  # kScheduleBlockTokens (csrc/common/decode_params.h)
FIXED_COST_BLOCKS = 4  # kScheduleFixedCostBlocks, the default; a launch plan names its kernel's (ops.LaunchPlan)
UNBOUNDED = 2**31 - 1  # the last part's budget (INT_MAX)


@dataclass(frozen=True)
class PartRow:
    """One row of the metadata (SchedulerMetadataRow): the part walks from (begin_batch, begin_block) to
    (end_batch, end_block), end_block exclusive and end_batch inclusive; end_batch < begin_batch: empty."""

    begin_batch: int
    begin_block: int
    end_batch: int
    end_block: int
    begin_split: int


def num_blocks(seqlen: int) -> int:
    return -(-seqlen // SCHEDULE_BLOCK_TOKENS)


def schedule(seqlens: list[int], num_parts: int, fixed_cost_blocks: int = FIXED_COST_BLOCKS,
             chunk_blocks: int = 0, no_split_slack_blocks: int = 0) -> tuple[list[PartRow], list[int]]:
    """The metadata rows and num_splits_prefix (length batch + 1) the device computes for these lengths: the
    walk at the mean cost a part plus one fixed cost, or at up to no_split_slack_blocks more where that needs
    no split and the mean does (not in the deterministic mode)."""
    blocks = [num_blocks(s) for s in seqlens]
    total = sum(b + fixed_cost_blocks for b in blocks)
    payload = -(-total // num_parts) + fixed_cost_blocks
    if chunk_blocks == 0 and no_split_slack_blocks > 0:
        up = payload + no_split_slack_blocks
        if _count_splits(_walk(blocks, num_parts, fixed_cost_blocks, 0, up)[1], len(seqlens)) == 0 and \
                _count_splits(_walk(blocks, num_parts, fixed_cost_blocks, 0, payload)[1], len(seqlens)) > 0:
            payload = up
    return _walk(blocks, num_parts, fixed_cost_blocks, chunk_blocks, payload)


def _count_splits(prefix_of: list[int], batch: int) -> int:
    return prefix_of[-1] - batch


def _walk(blocks: list[int], num_parts: int, fixed_cost_blocks: int, chunk_blocks: int,
          payload: int) -> tuple[list[PartRow], list[int]]:
    deterministic = chunk_blocks > 0
    batch_idx = block_idx = split_idx = prefix = 0
    prefix_of = [0] * (len(blocks) + 1)
    rows = []
    for part in range(num_parts):
        begin = (batch_idx, block_idx, split_idx)
        remain = UNBOUNDED if part == num_parts - 1 else payload
        while batch_idx < len(blocks):
            rest = blocks[batch_idx] - block_idx
            if remain >= rest + fixed_cost_blocks:
                remain -= rest + fixed_cost_blocks
                if deterministic:
                    chunks = -(-blocks[batch_idx] // chunk_blocks)
                    prefix += max(chunks, 1)
                else:
                    prefix += split_idx + 1
                prefix_of[batch_idx + 1] = prefix
                batch_idx += 1
                block_idx = split_idx = 0
                continue
            cut = block_idx + remain - fixed_cost_blocks
            if deterministic:  # the nearest chunk boundary (C's integer division: the values are >= 0)
                cut = (cut + chunk_blocks // 2) // chunk_blocks * chunk_blocks
            if block_idx < cut < blocks[batch_idx]:
                block_idx = cut
                split_idx += 1
            break
        if block_idx > 0:
            end = (batch_idx, block_idx)
        else:
            end = (batch_idx - 1, blocks[batch_idx - 1] if batch_idx > 0 else 0)
        rows.append(PartRow(begin[0], begin[1], end[0], end[1], begin[2]))
    return rows, prefix_of


def part_pieces(row: PartRow, seqlens: list[int]) -> list[tuple[int, int, int]]:
    """(sequence, first block, end block) of each piece the part walks without deterministic chunks (the
    kernels' WorkPieceWalker): one a sequence with blocks in the part, an empty sequence one empty piece."""
    pieces = []
    for b in range(row.begin_batch, row.end_batch + 1):
        blocks = num_blocks(seqlens[b])
        first = row.begin_block if b == row.begin_batch else 0
        end = row.end_block if b == row.end_batch else blocks
        if first >= end and blocks > 0:
            continue
        pieces.append((b, first, end))
    return pieces
