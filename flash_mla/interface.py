"""Public API: a drop-in for deepseek-ai/FlashMLA's dense decode.

Both of upstream's call forms work unchanged:

    # the original form: metadata tensors computed up front
    tile_scheduler_metadata, num_splits = get_mla_metadata(cache_seqlens, s_q * h_q // h_kv, h_kv)
    out, lse = flash_mla_with_kvcache(q, k_cache, block_table, cache_seqlens, 512,
                                      tile_scheduler_metadata, num_splits, causal=True)

    # the current form: an object filled on first use
    sched_meta, _ = get_mla_metadata()
    out, lse = flash_mla_with_kvcache(q, k_cache, block_table, cache_seqlens, 512, sched_meta, None, causal=True)
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os

import torch

from . import ops
from .targets import device_index, require_cuda_device, select_variant, smem_per_block

MAX_SEQLEN_Q = 16  # query tokens per request a decode kernel takes (MTP / speculative decoding)
MAX_HEADS_Q = 128
PAGE_BLOCK_SIZES = (16, 32, 64)
DETERMINISTIC_ENV = "FLASH_MLA_DETERMINISTIC"
DEBUG_CHECKS_ENV = "FLASH_MLA_DEBUG_CHECKS"
SCHEDULE_FIXED_COST_ENV = "FLASH_MLA_SCHEDULE_FIXED_COST"
# Deterministic mode: split boundaries at every 4096 tokens of a sequence, whatever else is in the
# batch, so a sequence's result does not depend on its neighbours.
DETERMINISTIC_CHUNK_TOKENS = 4096


@dataclasses.dataclass
class FlashMLASchedMeta:
    """Tile-scheduler metadata, filled by the first flash_mla_with_kvcache call that uses it.

    Reuse it across calls (e.g. layers) only while the shapes and cache_seqlens stay the same.
    """

    deterministic: bool = False
    have_initialized: bool = False
    variant: str | None = None
    config: tuple | None = None
    tile_scheduler_metadata: torch.Tensor | None = None  # (num_sm_parts, 8) int32
    num_splits: torch.Tensor | None = None  # (batch + 1,) int32


def _default_deterministic(deterministic: bool | None) -> bool:
    if deterministic is not None:
        return bool(deterministic)
    return os.environ.get(DETERMINISTIC_ENV, "0") not in ("", "0", "false", "False")


def _chunk_blocks(deterministic: bool) -> int:
    return DETERMINISTIC_CHUNK_TOKENS // ops.SCHEDULE_BLOCK_TOKENS if deterministic else 0


def _not_supported(**kwargs) -> None:
    for name, value in kwargs.items():
        if value is not None and value is not False:
            raise NotImplementedError(f"flash_mla: {name} is not supported yet (dense bf16/fp16 decode only)")


def schedule_fixed_cost_blocks(variant: str, rows_per_kv: int, device: int, smem: int | None = None) -> int:
    """What the scheduler counts a sequence beyond its KV blocks (in 64-token blocks) for `variant`'s kernel
    at rows_per_kv query rows a KV head on CUDA device `device` (its tiles planned for `smem` bytes of
    shared memory a block, default smem_per_block's): the kernel's own (its launch plan), or
    FLASH_MLA_SCHEDULE_FIXED_COST, for tuning a new GPU or kernel."""
    forced = os.environ.get(SCHEDULE_FIXED_COST_ENV) or None
    if forced is None:
        smem = smem_per_block(variant, device) if smem is None else smem
        return ops.launch_plan(variant, rows_per_kv, device, smem).schedule_fixed_cost_blocks
    try:
        blocks = int(forced)
    except ValueError:
        raise ValueError(f"{SCHEDULE_FIXED_COST_ENV} must be a whole number of 64-token blocks, got {forced!r}") from None
    if not 0 <= blocks <= 1024:
        raise ValueError(f"{SCHEDULE_FIXED_COST_ENV} must be in [0, 1024], got {blocks}")
    return blocks


def _compute_metadata(cache_seqlens: torch.Tensor, rows_per_kv: int, num_heads_k: int, deterministic: bool):
    require_cuda_device(cache_seqlens.device)
    if cache_seqlens.dtype != torch.int32 or cache_seqlens.dim() != 1:
        raise ValueError(f"cache_seqlens must be a 1-D int32 tensor, got {cache_seqlens.dtype} {tuple(cache_seqlens.shape)}")
    if cache_seqlens.shape[0] < 1:
        raise ValueError("cache_seqlens must hold at least one sequence")
    if not isinstance(num_heads_k, int) or num_heads_k < 1:
        raise ValueError(f"num_heads_k must be a positive int, got {num_heads_k!r}")
    if not isinstance(rows_per_kv, int) or rows_per_kv < 1:
        raise ValueError(f"num_q_tokens_per_head_k must be a positive int, got {rows_per_kv!r}")
    index = device_index(cache_seqlens.device)
    variant = select_variant(cache_seqlens.device)
    smem = smem_per_block(variant, index)
    parts = ops.num_sm_parts(variant, rows_per_kv, num_heads_k, index, smem)
    fixed_cost = schedule_fixed_cost_blocks(variant, rows_per_kv, index, smem)
    slack = ops.launch_plan(variant, rows_per_kv, index, smem).schedule_no_split_slack_blocks
    metadata, num_splits = ops.op(variant, "scheduler_metadata")(
        cache_seqlens.contiguous(), parts, _chunk_blocks(deterministic), fixed_cost, slack
    )
    return variant, metadata, num_splits


def get_mla_metadata(
    cache_seqlens: torch.Tensor | None = None,
    num_q_tokens_per_head_k: int | None = None,
    num_heads_k: int | None = None,
    num_heads_q: int | None = None,
    is_fp8_kvcache: bool = False,
    topk: int | None = None,
    *,
    num_heads_per_head_k: int | None = None,
    deterministic: bool | None = None,
):
    """Scheduler metadata for flash_mla_with_kvcache.

    With cache_seqlens (int32, (batch,)), num_q_tokens_per_head_k (s_q * h_q // h_kv; the old keyword
    num_heads_per_head_k is accepted too) and num_heads_k: returns (tile_scheduler_metadata, num_splits)
    tensors, computed on the device without a host synchronisation. With no arguments: returns
    (FlashMLASchedMeta(), None), filled on first use (upstream's current form).

    deterministic (default: env FLASH_MLA_DETERMINISTIC): split every sequence at fixed 4096-token
    boundaries, so its output does not depend on the rest of the batch. In the tensor form the first
    element is then a filled FlashMLASchedMeta, which carries the mode to flash_mla_with_kvcache.
    """
    _not_supported(is_fp8_kvcache=is_fp8_kvcache, topk=topk)
    deterministic = _default_deterministic(deterministic)
    if num_heads_per_head_k is not None:
        if num_q_tokens_per_head_k is not None:
            raise TypeError("pass num_q_tokens_per_head_k or num_heads_per_head_k, not both")
        num_q_tokens_per_head_k = num_heads_per_head_k
    if cache_seqlens is None:
        return FlashMLASchedMeta(deterministic=deterministic), None
    if not isinstance(cache_seqlens, torch.Tensor):
        raise TypeError(f"cache_seqlens must be a torch.Tensor, got {type(cache_seqlens).__name__}")
    if num_q_tokens_per_head_k is None or num_heads_k is None:
        raise TypeError("get_mla_metadata(cache_seqlens, num_q_tokens_per_head_k, num_heads_k) needs all three")
    variant, metadata, num_splits = _compute_metadata(cache_seqlens, num_q_tokens_per_head_k, num_heads_k, deterministic)
    if deterministic:
        meta = FlashMLASchedMeta(deterministic=True, have_initialized=True, variant=variant,
                                 tile_scheduler_metadata=metadata, num_splits=num_splits)
        return meta, num_splits
    return metadata, num_splits


def _check_tensor(name: str, t, *, dtype=None, dims=None, device=None) -> None:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if dims is not None and t.dim() != dims:
        raise ValueError(f"{name} must have {dims} dimensions, got shape {tuple(t.shape)}")
    if dtype is not None and t.dtype not in (dtype if isinstance(dtype, tuple) else (dtype,)):
        raise ValueError(f"{name} must be {dtype}, got {t.dtype}")
    if device is not None and t.device != device:
        raise ValueError(f"{name} must be on {device} (q's device), got {t.device}")


def check_decode_args(q, k_cache, block_table, cache_seqlens, head_dim_v) -> None:
    """Validate shapes, dtypes, strides and devices; raise an error naming the argument."""
    _check_tensor("q", q, dtype=(torch.bfloat16, torch.float16), dims=4)
    device = q.device
    _check_tensor("k_cache", k_cache, dims=4, device=device)
    _check_tensor("block_table", block_table, dtype=torch.int32, dims=2, device=device)
    _check_tensor("cache_seqlens", cache_seqlens, dtype=torch.int32, dims=1, device=device)
    b, s_q, h_q, d = q.shape
    _, page_block_size, h_kv, d_k = k_cache.shape
    if k_cache.dtype != q.dtype:
        raise ValueError(f"k_cache must have q's dtype {q.dtype}, got {k_cache.dtype}")
    if d != ops.HEAD_DIM_QK:
        raise ValueError(f"q's head dim must be {ops.HEAD_DIM_QK} (512 latent + 64 RoPE), got {d}")
    if d_k != ops.HEAD_DIM_QK:
        raise ValueError(f"k_cache's head dim must be {ops.HEAD_DIM_QK}, got {d_k}")
    if head_dim_v != ops.HEAD_DIM_V:
        raise ValueError(f"head_dim_v must be {ops.HEAD_DIM_V}, got {head_dim_v}")
    if b < 1 or s_q < 1 or h_q < 1:
        raise ValueError(f"q must have batch, s_q and h_q >= 1, got shape {tuple(q.shape)}")
    if s_q > MAX_SEQLEN_Q:
        raise ValueError(f"q's s_q must be <= {MAX_SEQLEN_Q} for a decode kernel, got {s_q}")
    if h_q > MAX_HEADS_Q:
        raise ValueError(f"q's h_q must be <= {MAX_HEADS_Q}, got {h_q}")
    if h_kv < 1 or h_q % h_kv != 0:
        raise ValueError(f"h_q ({h_q}, q.shape[2]) must be a multiple of h_kv ({h_kv}, k_cache.shape[2])")
    if page_block_size not in PAGE_BLOCK_SIZES:
        raise ValueError(f"k_cache's page_block_size (shape[1]) must be one of {PAGE_BLOCK_SIZES}, got {page_block_size}")
    if q.stride(-1) != 1:
        raise ValueError("q must be contiguous in its last dimension (stride 1)")
    if k_cache.stride(-1) != 1:
        raise ValueError("k_cache must be contiguous in its last dimension (stride 1)")
    if block_table.stride(-1) != 1:
        raise ValueError("block_table must be contiguous in its last dimension (stride 1)")
    if not cache_seqlens.is_contiguous():
        raise ValueError("cache_seqlens must be contiguous")
    if block_table.shape[0] != b:
        raise ValueError(f"block_table must have q's batch size {b} rows, got {block_table.shape[0]}")
    if cache_seqlens.shape[0] != b:
        raise ValueError(f"cache_seqlens must have q's batch size {b} entries, got {cache_seqlens.shape[0]}")
    for name, t in (("q", q), ("k_cache", k_cache)):
        if any(s % 8 for s in t.stride()[:-1]) or t.data_ptr() % 16:
            raise ValueError(f"{name} must be 16-byte aligned with strides that are multiples of 8 elements")
    if os.environ.get(DEBUG_CHECKS_ENV, "0") not in ("", "0"):
        _debug_checks(k_cache, block_table, cache_seqlens)


def _debug_checks(k_cache, block_table, cache_seqlens) -> None:
    """Checks that copy device values to the host: only with FLASH_MLA_DEBUG_CHECKS=1."""
    page = k_cache.shape[1]
    lens = cache_seqlens.cpu()
    if (lens < 0).any():
        raise ValueError(f"cache_seqlens must be >= 0, got min {int(lens.min())}")
    capacity = block_table.shape[1] * page
    if (lens > capacity).any():
        raise ValueError(f"cache_seqlens exceeds block_table's capacity {capacity} tokens (max {int(lens.max())})")
    table = block_table.cpu()
    for i, n in enumerate(lens.tolist()):
        used = table[i, : -(-n // page)]
        if used.numel() and (int(used.min()) < 0 or int(used.max()) >= k_cache.shape[0]):
            raise ValueError(f"block_table[{i}] holds block ids outside [0, {k_cache.shape[0]}) for its {n} tokens")


def flash_mla_with_kvcache(
    q: torch.Tensor,
    k_cache: torch.Tensor,
    block_table: torch.Tensor,
    cache_seqlens: torch.Tensor,
    head_dim_v: int,
    tile_scheduler_metadata,
    num_splits: torch.Tensor | None = None,
    softmax_scale: float | None = None,
    causal: bool = False,
    is_fp8_kvcache: bool = False,
    indices: torch.Tensor | None = None,
    attn_sink: torch.Tensor | None = None,
    extra_k_cache: torch.Tensor | None = None,
    extra_indices_in_kvcache: torch.Tensor | None = None,
    topk_length: torch.Tensor | None = None,
    extra_topk_length: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MLA decode attention over a paged KV cache.

    q (batch, s_q, h_q, 576); k_cache (num_blocks, page_block_size in {16, 32, 64}, h_kv, 576), whose
    first 512 columns serve as V; block_table int32 (batch, max_blocks_per_seq); cache_seqlens int32
    (batch,); head_dim_v 512. Returns out (batch, s_q, h_q, 512) in q's dtype and softmax_lse float32
    (batch, h_q, s_q). With causal, query token i of s_q sees cache positions < len - s_q + i + 1.
    A sequence of length 0 gives out 0 and lse +inf.
    """
    _not_supported(is_fp8_kvcache=is_fp8_kvcache, indices=indices, attn_sink=attn_sink, extra_k_cache=extra_k_cache,
                   extra_indices_in_kvcache=extra_indices_in_kvcache, topk_length=topk_length,
                   extra_topk_length=extra_topk_length)
    check_decode_args(q, k_cache, block_table, cache_seqlens, head_dim_v)
    if softmax_scale is None:
        softmax_scale = q.shape[-1] ** -0.5
    elif (isinstance(softmax_scale, bool) or not isinstance(softmax_scale, (numbers.Real, torch.SymFloat))
          or not (math.isfinite(float(softmax_scale)) and float(softmax_scale) > 0)):
        # The kernels take row maxima of the raw scores, which is only the maximum of the scaled ones
        # for a positive scale. (A SymFloat, e.g. a float argument of a torch.compile'd function, is
        # specialised here as by the float() of the call below.)
        raise ValueError(f"softmax_scale must be a finite float > 0, got {softmax_scale!r}")
    require_cuda_device(q.device)
    b, s_q, h_q, _ = q.shape
    h_kv = k_cache.shape[2]
    rows_per_kv = s_q * h_q // h_kv

    if isinstance(tile_scheduler_metadata, FlashMLASchedMeta):
        meta = tile_scheduler_metadata
        config = (b, s_q, h_q, h_kv, k_cache.shape[1], bool(causal))
        if not meta.have_initialized:
            meta.variant, meta.tile_scheduler_metadata, meta.num_splits = _compute_metadata(
                cache_seqlens, rows_per_kv, h_kv, meta.deterministic)
            meta.config = config
            meta.have_initialized = True
        elif meta.config is not None and meta.config != config:
            raise ValueError(
                f"tile_scheduler_metadata was filled for (b, s_q, h_q, h_kv, page_block_size, causal)={meta.config}, "
                f"this call has {config}: use one FlashMLASchedMeta per shape"
            )
        metadata, splits, variant = meta.tile_scheduler_metadata, meta.num_splits, meta.variant
        chunk_blocks = _chunk_blocks(meta.deterministic)
    else:
        _check_tensor("tile_scheduler_metadata", tile_scheduler_metadata, dtype=torch.int32, dims=2, device=q.device)
        if num_splits is None:
            raise ValueError("num_splits must be the tensor get_mla_metadata returned with tile_scheduler_metadata")
        _check_tensor("num_splits", num_splits, dtype=torch.int32, dims=1, device=q.device)
        if tile_scheduler_metadata.shape[1] != ops.SCHEDULER_METADATA_INTS:
            raise ValueError(f"tile_scheduler_metadata must be (num_sm_parts, {ops.SCHEDULER_METADATA_INTS}), "
                             f"got {tuple(tile_scheduler_metadata.shape)}")
        if num_splits.shape[0] != b + 1:
            raise ValueError(f"num_splits must have batch + 1 = {b + 1} entries, got {num_splits.shape[0]}")
        metadata, splits, variant, chunk_blocks = tile_scheduler_metadata, num_splits, select_variant(q.device), 0

    return ops.op(variant, "decode")(
        q, k_cache, block_table, cache_seqlens, metadata, splits, float(softmax_scale), bool(causal), chunk_blocks,
        smem_per_block(variant, device_index(q.device)),
    )
