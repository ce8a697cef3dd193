"""The torch.library ops of each variant: fake (meta) implementations and launch-plan queries.

The ops themselves are defined in C++ (csrc/api/sm8x_ops.cpp) as flash_mla::<variant>_decode,
flash_mla::<variant>_scheduler_metadata and flash_mla::<variant>_launch_plan. The fakes let
torch.compile trace them; neither needs a host synchronisation, so CUDA graphs capture them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from .targets import load_variant

HEAD_DIM_QK = 576
HEAD_DIM_V = 512
SCHEDULER_METADATA_INTS = 8
SCHEDULE_BLOCK_TOKENS = 64  # csrc/common/decode_params.h: kScheduleBlockTokens

_registered: set[str] = set()


_ops: dict[tuple[str, str], object] = {}


def op(variant: str, name: str):
    """The registered torch op flash_mla::<variant>_<name> (its module imported on first use).
    Looked up once: a plain dict, not functools.cache, which torch.compile warns about when it traces."""
    found = _ops.get((variant, name))
    if found is None:
        load_variant(variant)
        found = _ops[(variant, name)] = getattr(torch.ops.flash_mla, f"{variant}_{name}")
    return found


def register_fakes(variant: str) -> None:
    if variant in _registered:
        return
    _registered.add(variant)

    @torch.library.register_fake(f"flash_mla::{variant}_scheduler_metadata")
    def _metadata_fake(cache_seqlens, num_sm_parts, deterministic_chunk_blocks, fixed_cost_blocks, no_split_slack_blocks):
        return (
            cache_seqlens.new_empty((num_sm_parts, SCHEDULER_METADATA_INTS)),
            cache_seqlens.new_empty((cache_seqlens.shape[0] + 1,)),
        )

    @torch.library.register_fake(f"flash_mla::{variant}_decode")
    def _decode_fake(q, k_cache, block_table, cache_seqlens, metadata, num_splits, softmax_scale, causal,
                     deterministic_chunk_blocks, smem_per_block):
        b, s_q, h_q, _ = q.shape
        out = q.new_empty((b, s_q, h_q, HEAD_DIM_V))
        lse = q.new_empty((b, h_q, s_q), dtype=torch.float32)
        return out, lse


@dataclass(frozen=True)
class LaunchPlan:
    block_m: int
    block_n: int
    num_warps: int
    stages: int
    smem_bytes: int
    max_ctas_per_sm: int
    schedule_fixed_cost_blocks: int  # what the scheduler counts a sequence beyond its blocks, for this kernel
    # how much larger than the mean a part's payload may be where that keeps every sequence whole (0: never)
    schedule_no_split_slack_blocks: int = 0


@cache
def launch_plan(variant: str, rows_per_kv: int, device_index: int | None, smem_per_block: int = 0) -> LaunchPlan:
    """Tile shape of `variant` for `rows_per_kv` query rows per KV head when its tiles may assume
    `smem_per_block` bytes of shared memory (0: the device's, or without one the target's); with a
    device index, also how many CTAs fit on one of its SMs."""
    if device_index is None:
        values = op(variant, "launch_plan")(rows_per_kv, False, smem_per_block)
    else:
        with torch.cuda.device(device_index):
            values = op(variant, "launch_plan")(rows_per_kv, True, smem_per_block)
    return LaunchPlan(*values)


@cache
def num_sm_parts(variant: str, rows_per_kv: int, num_heads_k: int, device_index: int, smem_per_block: int) -> int:
    """CTA columns of the split-KV grid: enough (m_block, kv_head, part) CTAs for one full wave of the
    tile that `smem_per_block` selects."""
    plan = launch_plan(variant, rows_per_kv, device_index, smem_per_block)
    num_m_blocks = -(-rows_per_kv // plan.block_m)
    sm_count = torch.cuda.get_device_properties(device_index).multi_processor_count
    return max(1, sm_count * max(1, plan.max_ctas_per_sm) // (num_heads_k * num_m_blocks))
