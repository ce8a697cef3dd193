"""The GPU test suite every per-target module runs, and its script mode.

A target module (tests/test_flash_mla_sm86.py, ...) sets VARIANT and star-imports this file: pytest
then collects the tests below for that variant. The `variant` fixture skips, with a reason, unless
the GPU natively runs the variant, or the forward-compat mode (FLASH_MLA_FORWARD_COMPAT=1 or
pytest --forward-compat) asks to run it on a newer GPU.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import zlib

import pytest
import torch
from mla_reference import (
    DTYPES,
    HEAD_DIM_QK,
    INVALID_BLOCK_ID,
    DecodeCase,
    DecodeInputs,
    compare,
    decode_flops_and_bytes,
    make_inputs,
    reference_decode,
)

FORWARD_COMPAT_ENV = "FLASH_MLA_FORWARD_COMPAT"
# "quick" (default: ~110 tests a module, seconds on a GPU) or "full" (the whole cross product issue #3 lists,
# ~1800 tests a module, a minute or two on one GPU): pytest --grid full, or what the nox test sessions run.
GRID_ENV = "FLASH_MLA_TEST_GRID"
GRIDS = ("quick", "full")
# Compute capabilities whose native variant each test module checks.
NATIVE_CAPABILITIES = {"sm80": {(8, 0)}, "sm86": {(8, 6), (8, 7)}, "sm89": {(8, 9)}, "sm90": {(9, 0)}}


def forward_compat_requested(config=None) -> bool:
    if config is not None and config.getoption("--forward-compat", default=False):
        return True
    return os.environ.get(FORWARD_COMPAT_ENV, "0") not in ("", "0")


def gpu_plan(module_variant: str, forward_compat: bool) -> tuple[str | None, str]:
    """(variant to force or None for native dispatch, skip reason or "")."""
    if not torch.cuda.is_available():
        return None, f"needs a CUDA GPU for the {module_variant} tests; none is visible"
    capability = torch.cuda.get_device_capability()
    name = torch.cuda.get_device_name()
    native = NATIVE_CAPABILITIES[module_variant]
    if capability in native:
        return None, ""
    wanted = " or ".join(f"{a}.{b}" for a, b in sorted(native))
    found = f"found {name} ({capability[0]}.{capability[1]})"
    if module_variant == "sm90" or not forward_compat:
        hint = "" if module_variant == "sm90" else f"; set {FORWARD_COMPAT_ENV}=1 to run the {module_variant} variant on a newer GPU"
        return None, f"needs compute capability {wanted}, {found}{hint}"
    if capability < min(native):
        return None, f"forward-compat needs a GPU newer than {wanted}, {found}"
    return module_variant, ""


@pytest.fixture
def variant(request):
    module_variant = request.module.VARIANT
    forced, reason = gpu_plan(module_variant, forward_compat_requested(request.config))
    if reason:
        pytest.skip(reason)
    import flash_mla

    with flash_mla.forced_variant(forced):
        yield module_variant


def poison_allocator(nbytes: int) -> None:
    """Fill soon-to-be-reused allocator memory with NaN, so unwritten outputs show up."""
    torch.empty(nbytes // 4 + 1, dtype=torch.float32, device="cuda").fill_(float("nan"))


def run_decode(inputs, api: str = "tensors", deterministic: bool | None = None):
    import flash_mla

    b, s_q, h_q, _ = inputs.q.shape
    h_kv = inputs.k_cache.shape[2]
    if api == "tensors":
        meta, splits = flash_mla.get_mla_metadata(inputs.cache_seqlens, s_q * h_q // h_kv, h_kv,
                                                  deterministic=deterministic)
    else:
        meta, splits = flash_mla.get_mla_metadata(deterministic=deterministic)
    poison_allocator(2 * inputs.q.numel() * 4)
    return flash_mla.flash_mla_with_kvcache(inputs.q, inputs.k_cache, inputs.block_table, inputs.cache_seqlens, 512,
                                            meta, splits, softmax_scale=inputs.softmax_scale, causal=inputs.causal)


def skip_unless_gpu_memory(need: int, what: str) -> None:
    """Skips the test where the GPU has less than `need` bytes (and 1 GiB to spare) free for `what`."""
    free, _ = torch.cuda.mem_get_info()
    if free < need + 2**30:
        pytest.skip(f"needs {need / 2**30:.1f} GiB of GPU memory for {what}, {free / 2**30:.1f} GiB free")


def check_case(case: DecodeCase, api: str = "tensors") -> None:
    inputs = make_inputs(case, "cuda")
    out, lse = run_decode(inputs, api)
    torch.cuda.synchronize()
    result = compare(out, lse, *reference_decode(inputs, rounding_scale=True))
    assert not result.failures, f"{case.label()}: " + "; ".join(result.failures)


# ---- the slow ones first ------------------------------------------------------------------
def _compile_case():
    import flash_mla

    inputs = make_inputs(DecodeCase(3, 800, 16, 2, varlen=True, seed=31), "cuda")
    meta, splits = flash_mla.get_mla_metadata(inputs.cache_seqlens, 32, 1)
    return inputs, meta, splits


# opcheck and torch.compile are the slowest tests (seconds of tracing each, next to milliseconds for a
# decode case), and most of their cost is a process's first trace (dynamo and inductor imports): under
# xdist they share one group, so one worker pays it while the others take the decode cases.
@pytest.mark.gpu
@pytest.mark.xdist_group("tracing")
def test_opcheck(variant):
    import flash_mla
    from flash_mla import ops

    inputs, meta, splits = _compile_case()
    decode_variant = flash_mla.targets.select_variant(inputs.q.device)
    args = (inputs.q, inputs.k_cache, inputs.block_table, inputs.cache_seqlens, meta, splits, inputs.softmax_scale,
            True, 0, 0)
    torch.library.opcheck(ops.op(decode_variant, "decode"), args,
                          test_utils=("test_schema", "test_faketensor", "test_aot_dispatch_static"))


@pytest.mark.gpu
@pytest.mark.xdist_group("tracing")
def test_torch_compile(variant):
    import flash_mla

    inputs, meta, splits = _compile_case()

    def step(q):
        return flash_mla.flash_mla_with_kvcache(q, inputs.k_cache, inputs.block_table, inputs.cache_seqlens, 512,
                                                meta, splits, causal=True)

    out, lse = torch.compile(step)(inputs.q)
    result = compare(out, lse, *reference_decode(inputs))
    assert not result.failures, result.failures


# ---- the parametrized grid ------------------------------------------------------------------
def _quick_cases() -> list[DecodeCase]:
    cases = []
    for h_q in (1, 3, 9, 16, 63, 64, 126, 128):  # one KV head: the fast path
        for s_q in (1, 2):
            cases.append(DecodeCase(4, 700, h_q, s_q, varlen=True))
    for h_q, h_kv, s_q in ((16, 2, 1), (24, 3, 2), (64, 8, 1), (128, 8, 2)):  # upstream's 2, 3, 8 KV heads
        cases.append(DecodeCase(3, 500, h_q, s_q, h_kv=h_kv, varlen=True))
    for s_q in range(1, 9):
        for causal in (True, False):
            cases.append(DecodeCase(3, 333, 16, s_q, causal=causal))
    for page in (16, 32, 64):
        cases.append(DecodeCase(5, 1000, 16, 2, page_block_size=page, varlen=True))
        cases.append(DecodeCase(2, 300, 128, 1, page_block_size=page, causal=False))
    cases += [
        DecodeCase(8, 200, 16, 1, varlen=True, zero_lengths=3),
        DecodeCase(8, 200, 64, 2, varlen=True, zero_lengths=8),  # every sequence empty
        DecodeCase(6, 3, 16, 4),  # shorter than s_q: some causal rows see no token
        DecodeCase(2, 8192, 16, 1),  # few long sequences: many splits each
        DecodeCase(1, 16384, 128, 2),
        DecodeCase(32, 4096, 64, 2, varlen=True),
        DecodeCase(132, 129, 16, 1, varlen=True, zero_lengths=20),  # more sequences than SM parts
        # More than 64 query rows a KV head (sm90: the tile-pair schedule): a partial third m_block
        # and an empty sequence; page 16 with 256 causal rows.
        DecodeCase(3, 500, 48, 3, varlen=True, zero_lengths=1),
        DecodeCase(2, 400, 13, 5, causal=False),  # 65 rows: the first group past 64, one row in its second m_block
        DecodeCase(2, 400, 43, 3, causal=False),  # 129 rows: one row in its last m_block
        DecodeCase(2, 300, 64, 4, page_block_size=16),
        # s_q at MAX_SEQLEN_Q (16): the widest causal mask, which the tile-pair kernel assumes stays
        # within a piece's last two tiles; 256 and 144 rows a KV head.
        DecodeCase(3, 777, 16, 16, varlen=True),
        DecodeCase(2, 1500, 9, 16),
    ]
    return cases


def _full_cases() -> list[DecodeCase]:
    """Every h_q x s_q x causal x page size x fixed/varlen combination of issue #3's lists with one KV
    head, then each (h_q, h_kv) pair upstream-style grouped-query shapes give, over s_q and causal.
    Three sequences of up to 389 tokens: many splits each on a big GPU, so the combine is always in play."""
    cases = []
    for h_q in (1, 3, 9, 16, 63, 64, 126, 128):
        for s_q in range(1, 9):
            for causal in (True, False):
                for page in (16, 32, 64):
                    for varlen in (False, True):
                        cases.append(DecodeCase(3, 389 if varlen else 257, h_q, s_q, causal=causal, varlen=varlen,
                                                page_block_size=page, zero_lengths=int(varlen and s_q == 3)))
    for h_q, h_kv in ((3, 3), (9, 3), (16, 2), (16, 8), (63, 3), (64, 2), (64, 8), (126, 2), (126, 3), (128, 2), (128, 8)):
        for s_q in (1, 2, 5, 8):
            for causal in (True, False):
                cases.append(DecodeCase(3, 389, h_q, s_q, h_kv=h_kv, causal=causal, varlen=True))
    return cases


def selected_grid() -> str:
    grid = os.environ.get(GRID_ENV, "quick") or "quick"
    if grid not in GRIDS:
        raise pytest.UsageError(f"{GRID_ENV}={grid!r}: expected one of {', '.join(GRIDS)}")
    return grid


def _cases() -> list[DecodeCase]:
    cases = _quick_cases() + (_full_cases() if selected_grid() == "full" else [])
    labels = [c.label() for c in cases]
    assert len(set(labels)) == len(labels), "two grid cases share a test id"
    return cases


CASES = _cases()
# The largest cases take a whole device's worth of memory traffic: one xdist worker runs them all.
CASE_PARAMS = [pytest.param(c, marks=pytest.mark.whole_gpu) if c.batch * c.seqlen_k * c.h_q >= 2**21 else c for c in CASES]


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", list(DTYPES), ids=list(DTYPES))
@pytest.mark.parametrize("case", CASE_PARAMS, ids=[c.label()[:-5] for c in CASES])
def test_decode_matches_reference(variant, case, dtype):
    case.dtype = DTYPES[dtype]
    case.seed = zlib.crc32(case.label().encode()) % 10_000
    check_case(case)


WIDE_TILE_CASES = [c for c in CASES if c.s_q * c.h_q // c.h_kv > 32]


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", list(DTYPES), ids=list(DTYPES))
@pytest.mark.parametrize("case", WIDE_TILE_CASES, ids=[c.label()[:-5] for c in WIDE_TILE_CASES])
def test_wide_tile_matches_reference(variant, case, dtype):
    """The sm80 module's tile for GPUs with 227 KB per block (64-token stages; sm100 parts run it
    natively, an H100 in forward-compat mode only when asked, as here): the 64+ row cases."""
    from flash_mla import ops, targets

    if variant != "sm80":
        pytest.skip("only the sm80 module has a tile for 227 KB per block")
    device_smem = torch.cuda.get_device_properties(torch.cuda.current_device()).shared_memory_per_block_optin
    if device_smem < 227 * 1024:
        pytest.skip(f"needs 227 KB of shared memory per block, this GPU offers {device_smem // 1024} KB")
    case.dtype = DTYPES[dtype]
    case.seed = zlib.crc32(case.label().encode()) % 10_000 + 1
    with targets.forced_smem_per_block(device_smem):
        plan = ops.launch_plan("sm80", case.s_q * case.h_q // case.h_kv, torch.cuda.current_device(), device_smem)
        assert (plan.block_m, plan.block_n) == (64, 64), plan
        check_case(case)


@pytest.mark.gpu
def test_gpu_assignment(variant):
    """Under pytest-xdist each worker sees exactly its own GPU (tests/conftest.py pins it)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    pinned = os.environ.get("FLASH_MLA_TEST_GPUS")
    pci = getattr(torch.cuda.get_device_properties(0), "pci_bus_id", "?")
    print(f"{worker}: CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '(all)')} "
          f"device={torch.cuda.get_device_name()} pci={pci}")
    if worker != "main" and pinned:
        assert torch.cuda.device_count() == 1


@pytest.mark.gpu
@pytest.mark.parametrize("page", [16, 64])
def test_kv_cache_view_with_gaps_between_blocks(variant, page):
    """k_cache may be a strided view (here every other block of a bigger pool): the kernels must use
    its block stride, not assume dense blocks (the Hopper kernel's TMA descriptor takes all 3 strides)."""
    inputs = make_inputs(DecodeCase(3, 450, 32, 2, h_kv=2, page_block_size=page, varlen=True, seed=41), "cuda")
    pool = torch.full((2 * inputs.k_cache.shape[0], *inputs.k_cache.shape[1:]), float("nan"),
                      dtype=inputs.k_cache.dtype, device="cuda")
    pool[::2] = inputs.k_cache
    strided = type(inputs)(inputs.q, pool[::2], inputs.block_table, inputs.cache_seqlens, inputs.softmax_scale,
                           inputs.causal)
    out, lse = run_decode(strided)
    result = compare(out, lse, *reference_decode(inputs, rounding_scale=True))
    assert not result.failures, result.failures


@pytest.mark.gpu
@pytest.mark.whole_gpu
@pytest.mark.parametrize("h_q, s_q", [(16, 1), (128, 2)])
def test_kv_cache_blocks_past_4_gib(variant, h_q, s_q):
    """The used blocks lie more than 2^31 elements (4 GiB of bf16) past k_cache's base, as in a serving
    engine's big cache pool: every offset into it overflows 32 bits, so index arithmetic done in int32
    anywhere (cp.async sources, TMA coordinates, strides) reads the NaN-filled blocks below, or faults.
    Skips where the GPU has too little free memory."""
    inputs = make_inputs(DecodeCase(3, 450, h_q, s_q, varlen=True, seed=61), "cuda")
    used = inputs.k_cache.shape[0]
    block_elems = inputs.k_cache[0].numel()
    below = 2**31 // block_elems + 1
    need = (below + used) * block_elems * inputs.k_cache.element_size()
    skip_unless_gpu_memory(need, "the cache pool")
    pool = torch.full((below + used, *inputs.k_cache.shape[1:]), float("nan"), dtype=inputs.k_cache.dtype,
                      device="cuda")
    pool[below:] = inputs.k_cache
    table = inputs.block_table.clone()
    table[table != INVALID_BLOCK_ID] += below
    moved = type(inputs)(inputs.q, pool, table, inputs.cache_seqlens, inputs.softmax_scale, inputs.causal)
    out, lse = run_decode(moved)
    del moved, pool
    result = compare(out, lse, *reference_decode(inputs, rounding_scale=True))
    assert not result.failures, result.failures


@pytest.mark.gpu
@pytest.mark.whole_gpu
def test_batch_past_the_grid_y_limit(variant):
    """More sequences than a CUDA grid's y dimension holds (65535): the split combine's grid put the batch
    there and failed to launch. In the deterministic mode (splits every 4096 tokens) two long sequences, one
    each side of the limit, split in three; the short ones (1-64 tokens) share one block, so the cache stays
    small; one sequence is empty. Two KV heads of 8 query rows make two row groups a sequence in the combine.
    Sequences on both sides of the limit are checked against the reference."""
    b, page, h_kv, h_q, long_len = 65536 + 8, 64, 2, 16, 10000
    gen = torch.Generator().manual_seed(71)
    lens = torch.randint(1, page + 1, (b,), generator=gen, dtype=torch.int32)
    long_rows, empty_row = [70, b - 3], b - 1
    long_blocks = -(-long_len // page)
    lens[long_rows] = long_len
    lens[empty_row] = 0
    num_blocks = 1 + len(long_rows) * long_blocks  # block 0: every short sequence's
    table = torch.full((b, long_blocks), INVALID_BLOCK_ID, dtype=torch.int32)
    table[:, 0] = 0
    table[empty_row, 0] = INVALID_BLOCK_ID
    ids = torch.randperm(num_blocks - 1, generator=gen).to(torch.int32) + 1
    for k, row in enumerate(long_rows):
        table[row] = ids[k * long_blocks:(k + 1) * long_blocks]
    need = b * h_q * HEAD_DIM_QK * 2 * 10  # q, out, the poisoned pool, the partials: ~10x q
    skip_unless_gpu_memory(need, f"{b} sequences")
    device_gen = torch.Generator(device="cuda").manual_seed(71)
    k_cache = torch.randn(num_blocks, page, h_kv, HEAD_DIM_QK, generator=device_gen, device="cuda").to(torch.bfloat16)
    tail = long_len - (long_blocks - 1) * page  # NaN past each long sequence's end
    for row in long_rows:
        k_cache[int(table[row, -1]), tail:] = float("nan")
    q = torch.randn(b, 1, h_q, HEAD_DIM_QK, generator=device_gen, device="cuda").to(torch.bfloat16)
    inputs = DecodeInputs(q, k_cache, table.cuda(), lens.cuda(), HEAD_DIM_QK**-0.5, True)
    out, lse = run_decode(inputs, deterministic=True)
    checked = [0, 1, long_rows[0], 65534, 65535, 65536, long_rows[1], b - 2, empty_row]
    index = torch.tensor(checked, device="cuda")
    subset = DecodeInputs(q[index], k_cache, inputs.block_table[index], inputs.cache_seqlens[index],
                          inputs.softmax_scale, True)
    result = compare(out[index], lse[index], *reference_decode(subset, rounding_scale=True))
    assert not result.failures, result.failures


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", list(DTYPES), ids=list(DTYPES))
@pytest.mark.parametrize("h_q, s_q", [(16, 1), (128, 2)])
def test_scores_growing_along_the_sequence(variant, h_q, s_q, dtype):
    """Keys scaled up along each sequence (x1 to x8) so that a row's maximum keeps rising, by far more
    than the kernels' lazy-rescale margin (2^8 in P), tile after tile: every path that moves the
    reference maximum and rescales O and the row sums runs many times within one sequence. (In fp16,
    a kernel that never moved it would overflow P: the maxima grow by ~2^30.)"""
    inputs = make_inputs(DecodeCase(4, 3000, h_q, s_q, varlen=True, dtype=DTYPES[dtype], seed=51), "cuda")
    page = inputs.k_cache.shape[1]
    table = inputs.block_table.cpu()
    for i, length in enumerate(inputs.cache_seqlens.tolist()):
        for n in range((length + page - 1) // page):
            tokens = torch.arange(n * page, (n + 1) * page, device="cuda", dtype=torch.float32)
            factor = 1 + 7 * tokens / max(length, 1)
            block = int(table[i, n])
            inputs.k_cache[block] = (inputs.k_cache[block].float() * factor[:, None, None]).to(inputs.k_cache.dtype)
    out, lse = run_decode(inputs)
    result = compare(out, lse, *reference_decode(inputs, rounding_scale=True))
    assert not result.failures, result.failures


@pytest.mark.gpu
def test_repeated_runs_are_bitwise_identical(variant):
    """Same inputs, same schedule: any difference between runs would be a race."""
    inputs = make_inputs(DecodeCase(8, 200, 64, 2, varlen=True, zero_lengths=2, seed=5), "cuda")
    first_out, first_lse = run_decode(inputs)
    for _ in range(5):
        out, lse = run_decode(inputs)
        assert torch.equal(out, first_out) and torch.equal(lse, first_lse)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", list(DTYPES))
def test_sched_meta_object_api(variant, dtype):
    """Upstream's current form: get_mla_metadata() -> (FlashMLASchedMeta, None), filled on first use."""
    check_case(DecodeCase(5, 900, 64, 2, varlen=True, zero_lengths=1, dtype=DTYPES[dtype], seed=7), api="object")


@pytest.mark.gpu
@pytest.mark.parametrize("deterministic", [False, True])
def test_scheduler_metadata_matches_reference(variant, deterministic):
    """The device's scheduler (csrc/smxx/scheduler_metadata.cu) against its Python mirror: zero lengths,
    short and long sequences, 128 query rows (two or more m_blocks, so fewer parts than SMs)."""
    from scheduler_reference import SCHEDULE_BLOCK_TOKENS, schedule

    import flash_mla
    from flash_mla import interface, ops, targets

    assert ops.SCHEDULE_BLOCK_TOKENS == SCHEDULE_BLOCK_TOKENS  # the mirror's block is the library's

    gen = torch.Generator().manual_seed(41 + deterministic)
    lengths = torch.randint(0, 20000, (150,), generator=gen)
    lengths[::7] = 0
    lengths[3::11] = torch.randint(1, 130, (len(lengths[3::11]),), generator=gen)
    cache_seqlens = lengths.to(torch.int32).cuda()
    meta, splits = flash_mla.get_mla_metadata(cache_seqlens, 128, 1, deterministic=deterministic)
    metadata = meta.tile_scheduler_metadata if deterministic else meta
    device = torch.cuda.current_device()
    fixed_cost = interface.schedule_fixed_cost_blocks(variant, 128, device)
    plan = ops.launch_plan(variant, 128, device, targets.smem_per_block(variant, device))
    rows, prefix = schedule(lengths.tolist(), metadata.shape[0], fixed_cost,
                            chunk_blocks=interface._chunk_blocks(deterministic),
                            no_split_slack_blocks=plan.schedule_no_split_slack_blocks)
    expected = [[r.begin_batch, r.begin_block, r.end_batch, r.end_block, r.begin_split] for r in rows]
    assert metadata[:, :5].tolist() == expected
    assert splits.tolist() == prefix


@pytest.mark.gpu
def test_scheduler_keeps_equal_sequences_whole_within_the_slack(variant):
    """Equal sequences a little short of two whole ones a part: the mean payload cuts them; where the kernel's
    launch plan gives the scheduler a slack of one fixed cost (sm90), it takes them whole instead, and where it
    gives none (sm8x), it cuts them. The device's scheduler does either as its mirror does."""
    from scheduler_reference import SCHEDULE_BLOCK_TOKENS, schedule

    import flash_mla
    from flash_mla import interface, ops, targets

    device = torch.cuda.current_device()
    rows_per_kv = 128
    smem = targets.smem_per_block(variant, device)
    parts = ops.num_sm_parts(variant, rows_per_kv, 1, device, smem)
    fixed_cost = interface.schedule_fixed_cost_blocks(variant, rows_per_kv, device)
    slack = ops.launch_plan(variant, rows_per_kv, device, smem).schedule_no_split_slack_blocks
    if parts < 5 or fixed_cost < 4 or slack not in (0, fixed_cost):
        pytest.skip(f"{parts} parts at a fixed cost of {fixed_cost} and a slack of {slack}: no such batch")
    # 2 * parts - 4 sequences of b blocks: the mean splits where 4 (b + c) / parts > c, one cost up does not
    # where it is <= 2 c; b + c = 3 c parts / 8 is between (with the rounding, from 5 parts and a cost of 4).
    blocks = -(-3 * fixed_cost * parts // 8) - fixed_cost
    lengths = [blocks * SCHEDULE_BLOCK_TOKENS] * (2 * parts - 4)
    meta, splits = flash_mla.get_mla_metadata(torch.tensor(lengths, dtype=torch.int32, device="cuda"), rows_per_kv, 1)
    rows, prefix = schedule(lengths, parts, fixed_cost, no_split_slack_blocks=slack)
    assert (prefix[-1] == len(lengths)) == (slack > 0)  # whole with the slack, cut without
    assert meta[:, :5].tolist() == [[r.begin_batch, r.begin_block, r.end_batch, r.end_block, r.begin_split] for r in rows]
    assert splits.tolist() == prefix


@pytest.mark.gpu
def test_metadata_reuse_across_layers(variant):
    """One metadata object serves every layer of a step."""
    import flash_mla

    inputs = make_inputs(DecodeCase(4, 1500, 16, 1, varlen=True, seed=3), "cuda")
    meta, _ = flash_mla.get_mla_metadata()
    for _ in range(3):  # same lengths and block table, fresh q and cache values per layer
        inputs.q.normal_()
        poisoned = inputs.k_cache.isnan()
        inputs.k_cache.normal_()
        inputs.k_cache[poisoned] = float("nan")
        out, lse = flash_mla.flash_mla_with_kvcache(inputs.q, inputs.k_cache, inputs.block_table, inputs.cache_seqlens,
                                                    512, meta, None, causal=True)
        result = compare(out, lse, *reference_decode(inputs))
        assert not result.failures, result.failures


@pytest.mark.gpu
@pytest.mark.parametrize("h_q", [16, 128])  # sm90: the column split, then the tile pairs (pieces reuse Q)
def test_deterministic_mode_is_batch_invariant(variant, h_q):
    """With deterministic=True a sequence's output is bitwise the same whatever its neighbours."""
    target = DecodeCase(1, 9000, h_q, 1, seed=11)
    inputs = make_inputs(target, "cuda")
    alone, _ = run_decode(inputs, deterministic=True)
    crowd = make_inputs(DecodeCase(40, 3000, h_q, 1, varlen=True, seed=12), "cuda")
    # Put the target sequence first in a bigger batch that shares its cache.
    q = torch.cat([inputs.q, crowd.q])
    offset = inputs.k_cache.shape[0]
    k_cache = torch.cat([inputs.k_cache, crowd.k_cache])
    width = max(inputs.block_table.shape[1], crowd.block_table.shape[1])
    table = torch.full((41, width), 2147480000, dtype=torch.int32, device="cuda")
    table[:1, : inputs.block_table.shape[1]] = inputs.block_table
    crowd_table = crowd.block_table.clone()
    crowd_table[crowd_table != 2147480000] += offset
    table[1:, : crowd.block_table.shape[1]] = crowd_table
    lens = torch.cat([inputs.cache_seqlens, crowd.cache_seqlens])
    batched = type(inputs)(q, k_cache, table, lens, inputs.softmax_scale, True)
    together, together_lse = run_decode(batched, deterministic=True)
    assert torch.equal(alone[0], together[0])
    result = compare(together, together_lse, *reference_decode(batched))
    assert not result.failures, result.failures


@pytest.mark.gpu
def test_cuda_graph_capture_and_replay(variant):
    import flash_mla

    case = DecodeCase(8, 2000, 64, 2, varlen=True, seed=21)
    inputs = make_inputs(case, "cuda")
    s_q, h_q = inputs.q.shape[1], inputs.q.shape[2]
    run_decode(inputs)  # load the module and warm up outside the capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        meta, splits = flash_mla.get_mla_metadata(inputs.cache_seqlens, s_q * h_q, 1)
        out, lse = flash_mla.flash_mla_with_kvcache(inputs.q, inputs.k_cache, inputs.block_table,
                                                    inputs.cache_seqlens, 512, meta, splits, causal=True)
    fresh = make_inputs(DecodeCase(8, 2000, 64, 2, varlen=True, seed=22), "cuda")
    inputs.q.copy_(fresh.q)  # new queries and lengths, same buffers
    inputs.cache_seqlens.copy_(torch.minimum(fresh.cache_seqlens, inputs.cache_seqlens))
    graph.replay()
    torch.cuda.synchronize()
    result = compare(out, lse, *reference_decode(inputs))
    assert not result.failures, result.failures


# ---- script mode ----------------------------------------------------------------------------
# b=128 (fewer on small GPUs), causal, page 64: the grid issue #3 reports.
BENCH_GRID = [(s_k, h_q, s_q) for s_k in (4096, 8192) for h_q in (16, 64, 128) for s_q in (1, 2)]


def main(module_variant: str, argv: list[str] | None = None) -> int:
    from timing import copy_bandwidth_gbs, time_cuda_ms

    parser = argparse.ArgumentParser(description=f"flash-mla {module_variant} decode: accuracy and speed table")
    parser.add_argument("--dtype", choices=list(DTYPES), default="bf16")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--varlen", action="store_true", help="lengths uniform in [s_k/2, s_k]")
    parser.add_argument("--forward-compat", action="store_true",
                        help=f"run the {module_variant} variant on a newer GPU (also {FORWARD_COMPAT_ENV}=1)")
    args = parser.parse_args(argv)
    forced, reason = gpu_plan(module_variant, args.forward_compat or forward_compat_requested())
    if reason:
        print(f"skipped: {reason}")
        return 0
    import flash_mla

    dtype = DTYPES[args.dtype]
    bandwidth = copy_bandwidth_gbs()
    print(f"{torch.cuda.get_device_name()}: copy bandwidth {bandwidth:.0f} GB/s; variant {module_variant}"
          f"{' (forward-compat)' if forced else ''}; {args.dtype}")
    print(f"{'config':<44} {'max abs':>9} {'rel err':>9} {'lse err':>9} {'ms':>8} {'TFLOP/s':>8} {'GB/s':>7} {'%copy':>6}")
    free = torch.cuda.mem_get_info()[0]
    status = 0
    with flash_mla.forced_variant(forced) if forced else contextlib.nullcontext():
        for seqlen_k, h_q, s_q in BENCH_GRID:
            batch = args.batch
            while batch > 1 and batch * seqlen_k * 576 * 2 * 3 > free:  # consumer GPUs: fewer sequences
                batch //= 2
            case = DecodeCase(batch, seqlen_k, h_q, s_q, varlen=args.varlen, dtype=dtype, seed=seqlen_k + h_q + s_q)
            inputs = make_inputs(case, "cuda")
            meta, splits = flash_mla.get_mla_metadata(inputs.cache_seqlens, s_q * h_q, 1)

            def run(inputs=inputs, meta=meta, splits=splits):
                return flash_mla.flash_mla_with_kvcache(inputs.q, inputs.k_cache, inputs.block_table,
                                                        inputs.cache_seqlens, 512, meta, splits, causal=True)

            out, lse = run()
            result = compare(out, lse, *reference_decode(inputs))
            ms = time_cuda_ms(run)
            flops, nbytes = decode_flops_and_bytes(inputs)
            gbs = nbytes / ms / 1e6
            mark = "" if not result.failures else "  FAIL: " + "; ".join(result.failures)
            status |= bool(result.failures)
            print(f"{case.label():<44} {result.max_abs:>9.2e} {result.rel_l2:>9.2e} {result.lse_max_abs:>9.2e} "
                  f"{ms:>8.3f} {flops / ms / 1e9:>8.1f} {gbs:>7.0f} {100 * gbs / bandwidth:>5.1f}%{mark}")
            del inputs, out, lse
    return status


def script(module_variant: str) -> None:
    sys.exit(main(module_variant))
