"""Reference MLA decode and the test-data generator shared by every test module and benchmark.

The reference upcasts to float32 (or float64) and follows FlashMLA's conventions: query token i of
s_q sees cache positions < len - s_q + i + 1 when causal; a row that sees no token gives out 0 and
lse +inf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

HEAD_DIM_QK = 576
HEAD_DIM_V = 512
INVALID_BLOCK_ID = 2147480000  # what upstream's tests put in block-table entries past a sequence
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}  # the input dtypes by their command-line names


@dataclass
class DecodeCase:
    batch: int
    seqlen_k: int
    h_q: int
    s_q: int = 1
    h_kv: int = 1
    causal: bool = True
    varlen: bool = False
    page_block_size: int = 64
    zero_lengths: int = 0  # how many sequences get length 0
    dtype: torch.dtype = torch.bfloat16
    seed: int = 0

    def label(self) -> str:
        dtype = next(name for name, d in DTYPES.items() if d == self.dtype)
        parts = [f"b{self.batch}", f"sk{self.seqlen_k}", f"hq{self.h_q}", f"sq{self.s_q}"]
        if self.h_kv != 1:
            parts.append(f"hkv{self.h_kv}")
        parts += [f"p{self.page_block_size}", "causal" if self.causal else "full"]
        if self.varlen:
            parts.append("varlen")
        if self.zero_lengths:
            parts.append(f"zeros{self.zero_lengths}")
        return "-".join(parts + [dtype])


@dataclass
class DecodeInputs:
    q: torch.Tensor  # (b, s_q, h_q, 576)
    k_cache: torch.Tensor  # (num_blocks, page, h_kv, 576)
    block_table: torch.Tensor  # (b, max_blocks) int32
    cache_seqlens: torch.Tensor  # (b,) int32
    softmax_scale: float
    causal: bool


def make_seqlens(case: DecodeCase, generator: torch.Generator) -> torch.Tensor:
    if case.varlen:
        low = max(1, case.seqlen_k // 2)
        lens = torch.randint(low, case.seqlen_k + 1, (case.batch,), generator=generator)
    else:
        lens = torch.full((case.batch,), case.seqlen_k)
    if case.zero_lengths:
        zero_idx = torch.randperm(case.batch, generator=generator)[: case.zero_lengths]
        lens[zero_idx] = 0
    return lens.to(torch.int32)


def make_inputs(case: DecodeCase, device: str | torch.device) -> DecodeInputs:
    """Fresh random inputs: shuffled block table, invalid ids past each sequence's blocks, NaN in
    every cache slot past each sequence's length (and in unused blocks)."""
    gen = torch.Generator().manual_seed(case.seed)
    lens = make_seqlens(case, gen)
    page = case.page_block_size
    blocks_per_seq = [(int(n) + page - 1) // page for n in lens]
    max_blocks = max(1, max(blocks_per_seq), (case.seqlen_k + page - 1) // page)
    num_blocks = sum(blocks_per_seq) + 2  # two spare blocks nobody may read
    perm = torch.randperm(num_blocks, generator=gen).to(torch.int32)
    block_table = torch.full((case.batch, max_blocks), INVALID_BLOCK_ID, dtype=torch.int32)
    valid = torch.zeros(num_blocks, page, dtype=torch.bool)
    cursor = 0
    for i, n in enumerate(blocks_per_seq):
        ids = perm[cursor : cursor + n]
        cursor += n
        block_table[i, :n] = ids
        if n:
            valid[ids[:-1].long()] = True
            valid[int(ids[-1]), : int(lens[i]) - (n - 1) * page] = True
    # The big tensors are drawn on the target device (fast on a GPU), from a seeded generator there.
    device_gen = torch.Generator(device=device).manual_seed(case.seed)
    k_cache = torch.randn(num_blocks, page, case.h_kv, HEAD_DIM_QK, generator=device_gen, device=device).to(case.dtype)
    k_cache[~valid.to(device)] = float("nan")
    q = torch.randn(case.batch, case.s_q, case.h_q, HEAD_DIM_QK, generator=device_gen, device=device).to(case.dtype)
    return DecodeInputs(
        q=q,
        k_cache=k_cache,
        block_table=block_table.to(device),
        cache_seqlens=lens.to(device),
        softmax_scale=HEAD_DIM_QK**-0.5,
        causal=case.causal,
    )


def reference_decode(inputs: DecodeInputs, dtype: torch.dtype = torch.float32, rounding_scale: bool = False):
    """out (b, s_q, h_q, 512) and lse (b, h_q, s_q), computed in `dtype` with batched matmuls.

    With rounding_scale, also returns sqrt(sum_j (p_j v_j)^2) per output element (p the softmax
    weights): the scale of the error that rounding P to 16 bits before the P V product must cause,
    which dominates for rows that attend to only a few tokens (see compare)."""
    q, k_cache, table, lens = inputs.q, inputs.k_cache, inputs.block_table, inputs.cache_seqlens
    b, s_q, h_q, _ = q.shape
    page, h_kv = k_cache.shape[1], k_cache.shape[2]
    out = torch.zeros(b, s_q, h_q, HEAD_DIM_V, dtype=dtype, device=q.device)
    lse = torch.full((b, h_q, s_q), math.inf, dtype=dtype, device=q.device)
    scale = torch.zeros_like(out) if rounding_scale else None
    for i, n in enumerate(lens.tolist()):
        if n == 0:
            continue
        blocks = table[i, : (n + page - 1) // page].long()
        kv = k_cache[blocks].reshape(-1, h_kv, HEAD_DIM_QK)[:n].to(dtype)  # (n, h_kv, 576)
        kv = kv.repeat_interleave(h_q // h_kv, dim=1).transpose(0, 1)  # (h_q, n, 576)
        qi = q[i].to(dtype).transpose(0, 1)  # (h_q, s_q, 576)
        scores = torch.matmul(qi, kv.transpose(1, 2)) * inputs.softmax_scale  # (h_q, s_q, n)
        if inputs.causal:
            visible = torch.arange(n, device=q.device)[None, :] <= (n - s_q + torch.arange(s_q, device=q.device))[:, None]
            scores = scores.masked_fill(~visible[None], -math.inf)
        row_lse = torch.logsumexp(scores, dim=-1)  # (h_q, s_q); -inf where nothing is visible
        seen = torch.isfinite(row_lse)
        probs = torch.exp(scores - torch.where(seen, row_lse, 0.0)[..., None])
        oi = torch.matmul(probs, kv[..., :HEAD_DIM_V])  # (h_q, s_q, 512)
        out[i] = torch.where(seen[..., None], oi, 0.0).transpose(0, 1)
        lse[i] = torch.where(seen, row_lse, math.inf)
        if scale is not None:
            spread = torch.matmul(probs * probs, kv[..., :HEAD_DIM_V] * kv[..., :HEAD_DIM_V]).sqrt()
            scale[i] = torch.where(seen[..., None], spread, 0.0).transpose(0, 1)
    return (out, lse, scale) if rounding_scale else (out, lse)


def decode_flops_and_bytes(inputs: DecodeInputs) -> tuple[float, float]:
    """FLOPs and the fewest bytes moved, as ../shared/anchors.md counts them."""
    b, s_q, h_q, _ = inputs.q.shape
    total = float(inputs.cache_seqlens.sum())
    elem = inputs.q.element_size()
    h_kv = inputs.k_cache.shape[2]
    flops = 2.0 * total * s_q * h_q * (HEAD_DIM_QK + HEAD_DIM_V)
    nbytes = total * h_kv * HEAD_DIM_QK * elem + b * s_q * h_q * (HEAD_DIM_QK + HEAD_DIM_V) * elem
    return flops, nbytes


@dataclass
class Comparison:
    max_abs: float
    rel_l2: float  # ||out - ref|| / ||ref||
    cos_diff: float
    lse_max_abs: float
    failures: list[str]


ROUNDING_UNIT = {torch.bfloat16: 2.0**-8, torch.float16: 2.0**-11}


def compare(out: torch.Tensor, lse: torch.Tensor, ref_out: torch.Tensor, ref_lse: torch.Tensor,
            rounding_scale: torch.Tensor | None = None) -> Comparison:
    """FlashMLA's accuracy bar: against the float32 reference rounded to the output dtype, each output
    element within abs 8e-4 or rel 2/128, cosine difference < 5e-6; lse within abs 1e-6 or rel
    8/65536; inf and NaN in exactly the same places.

    With rounding_scale (reference_decode's third output) an element may also differ by up to
    4 u sqrt(sum_j (p_j v_j)^2), u the unit roundoff of the 16-bit P: the error that any kernel
    feeding the tensor cores 16-bit probabilities must make. For a row that sees thousands of tokens
    this is below 8e-4 and upstream's bar holds unchanged; for a causal row that sees 1-3 tokens of
    opposite sign it is what bf16 P allows."""
    failures = []
    ref_rounded = ref_out.to(out.dtype).float()
    got = out.float()
    for name, a, r in (("out", got, ref_rounded), ("lse", lse.float(), ref_lse.float())):
        if not torch.equal(torch.isnan(a), torch.isnan(r)):
            failures.append(f"{name}: NaN in {int(torch.isnan(a).sum())} places, reference {int(torch.isnan(r).sum())}")
        for sign in (1, -1):
            if not torch.equal(a == sign * math.inf, r == sign * math.inf):
                failures.append(f"{name}: {'+' if sign > 0 else '-'}inf positions differ")
    finite = torch.isfinite(got) & torch.isfinite(ref_rounded)
    diff = (got - ref_rounded).abs()
    bad = finite & (diff > 8e-4) & (diff > (2 / 128) * ref_rounded.abs())
    if rounding_scale is not None:
        bad &= diff > 4 * ROUNDING_UNIT[out.dtype] * rounding_scale.float()
    if bad.any():
        worst = torch.where(bad, diff, 0.0).flatten().argmax()
        where = tuple(int(i) for i in torch.unravel_index(worst, got.shape))
        failures.append(f"out: {int(bad.sum())} elements outside abs 8e-4 / rel 2/128 (max abs {float(diff[finite].max()):.3g}; "
                        f"worst at {where}: got {float(got[where]):.6g}, reference {float(ref_out[where]):.6g})")
    a64, r64 = got[finite].double(), ref_rounded[finite].double()
    denom = (a64 * a64).sum() + (r64 * r64).sum()
    cos_diff = float(1 - 2 * (a64 * r64).sum() / denom) if denom > 0 else 0.0
    if cos_diff >= 5e-6:
        failures.append(f"out: cosine difference {cos_diff:.3g} >= 5e-6")
    lse_f, ref_lse_f = lse.float(), ref_lse.float()
    lse_finite = torch.isfinite(lse_f) & torch.isfinite(ref_lse_f)
    lse_diff = (lse_f - ref_lse_f).abs()
    lse_bad = lse_finite & (lse_diff > 1e-6) & (lse_diff > (8 / 65536) * ref_lse_f.abs())
    if lse_bad.any():
        failures.append(f"lse: {int(lse_bad.sum())} entries outside abs 1e-6 / rel 8/65536")
    max_abs = float(diff[finite].max()) if finite.any() else 0.0
    # relative error as a norm ratio: an element-wise maximum divides by references near zero
    rel_l2 = float((a64 - r64).norm() / r64.norm().clamp_min(1e-30)) if finite.any() else 0.0
    lse_max_abs = float(lse_diff[lse_finite].max()) if lse_finite.any() else 0.0
    return Comparison(max_abs, rel_l2, cos_diff, lse_max_abs, failures)
