"""CPU: the shared reference against a direct float64 formula, one query row at a time."""

import math

import pytest
import torch
from mla_reference import HEAD_DIM_V, DecodeCase, compare, make_inputs, reference_decode


def direct_formula(inputs):
    """softmax(q k^T * scale) v, written out per (sequence, query token, head) in float64."""
    q, k_cache, table, lens = inputs.q.double(), inputs.k_cache.double(), inputs.block_table, inputs.cache_seqlens
    b, s_q, h_q, _ = q.shape
    page, h_kv = k_cache.shape[1], k_cache.shape[2]
    out = torch.zeros(b, s_q, h_q, HEAD_DIM_V, dtype=torch.float64)
    lse = torch.full((b, h_q, s_q), math.inf, dtype=torch.float64)
    for i in range(b):
        n = int(lens[i])
        for s in range(s_q):
            visible = n - s_q + s + 1 if inputs.causal else n
            for h in range(h_q):
                if visible <= 0:
                    continue
                keys = torch.stack([k_cache[int(table[i, t // page]), t % page, h // (h_q // h_kv)] for t in range(visible)])
                logits = keys @ q[i, s, h] * inputs.softmax_scale
                m = logits.max()
                w = torch.exp(logits - m)
                out[i, s, h] = (w[:, None] * keys[:, :HEAD_DIM_V]).sum(0) / w.sum()
                lse[i, h, s] = m + torch.log(w.sum())
    return out, lse


@pytest.mark.parametrize(
    "case",
    [
        DecodeCase(3, 40, 4, 2, varlen=True, page_block_size=16, seed=1),
        DecodeCase(2, 33, 6, 3, h_kv=2, causal=False, page_block_size=32, seed=2),
        DecodeCase(4, 20, 2, 4, zero_lengths=1, page_block_size=16, seed=3),  # empty sequence
        DecodeCase(2, 3, 2, 5, page_block_size=16, seed=4),  # rows that see no token
    ],
    ids=lambda c: c.label(),
)
def test_reference_matches_direct_formula(case):
    inputs = make_inputs(case, "cpu")
    ref_out, ref_lse = reference_decode(inputs, torch.float64)
    out, lse = direct_formula(inputs)
    assert torch.equal(torch.isinf(ref_lse), torch.isinf(lse))
    torch.testing.assert_close(ref_out, out, rtol=1e-10, atol=1e-10)
    finite = torch.isfinite(lse)
    torch.testing.assert_close(ref_lse[finite], lse[finite], rtol=1e-10, atol=1e-10)
    assert not torch.isnan(ref_out).any(), "NaN past a sequence's length leaked into the reference"


def test_generator_poisons_cache_past_each_length():
    case = DecodeCase(4, 50, 2, 1, varlen=True, page_block_size=16, zero_lengths=1, seed=5)
    inputs = make_inputs(case, "cpu")
    page = case.page_block_size
    for i, n in enumerate(inputs.cache_seqlens.tolist()):
        blocks = -(-n // page)
        assert (inputs.block_table[i, blocks:] == 2147480000).all()
        if n % page:
            last = int(inputs.block_table[i, blocks - 1])
            assert torch.isnan(inputs.k_cache[last, n % page :]).all()
            assert not torch.isnan(inputs.k_cache[last, : n % page]).any()


def test_compare_catches_errors():
    """The accuracy check itself must be able to fail."""
    inputs = make_inputs(DecodeCase(2, 64, 4, 1, seed=6), "cpu")
    out, lse = reference_decode(inputs)
    assert not compare(out.bfloat16(), lse, out, lse).failures
    bad = out.clone()
    bad[0, 0, 0, 0] += 0.1
    assert compare(bad.bfloat16(), lse, out, lse).failures
    nan = out.clone()
    nan[1, 0, 0, 5] = float("nan")
    assert compare(nan.bfloat16(), lse, out, lse).failures
    shifted = lse.clone()
    shifted[0, 0, 0] += 1e-3
    assert compare(out.bfloat16(), shifted, out, lse).failures
