"""CPU: argument validation and dispatch rules that need no GPU."""

import pytest
import torch

import flash_mla
from flash_mla import targets
from flash_mla.interface import check_decode_args


def make_args(b=2, s_q=1, h_q=16, h_kv=1, page=64, dtype=torch.bfloat16, device="cpu"):
    q = torch.zeros(b, s_q, h_q, 576, dtype=dtype, device=device)
    k_cache = torch.zeros(4, page, h_kv, 576, dtype=dtype, device=device)
    block_table = torch.zeros(b, 2, dtype=torch.int32, device=device)
    seqlens = torch.ones(b, dtype=torch.int32, device=device)
    return q, k_cache, block_table, seqlens


def call(q, k_cache, block_table, seqlens, head_dim_v=512, **kw):
    return flash_mla.flash_mla_with_kvcache(q, k_cache, block_table, seqlens, head_dim_v,
                                            torch.zeros(1, 8, dtype=torch.int32), torch.zeros(q.shape[0] + 1, dtype=torch.int32), **kw)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda a: (a[0].float(), *a[1:]), "q must be"),
        (lambda a: (a[0][..., :512], *a[1:]), "q's head dim must be 576"),
        (lambda a: (a[0], a[1].half(), *a[2:]), "k_cache must have q's dtype"),
        (lambda a: (a[0], a[1][..., :512], *a[2:]), "k_cache's head dim"),
        (lambda a: (a[0], torch.zeros(4, 48, 1, 576, dtype=torch.bfloat16), *a[2:]), "page_block_size"),
        (lambda a: (a[0], torch.zeros(4, 64, 3, 576, dtype=torch.bfloat16), *a[2:]), "multiple of h_kv"),
        (lambda a: (torch.zeros(2, 17, 16, 576, dtype=torch.bfloat16), *a[1:]), "s_q must be <= 16"),
        (lambda a: (torch.zeros(2, 1, 256, 576, dtype=torch.bfloat16), *a[1:]), "h_q must be <= 128"),
        (lambda a: (a[0], a[1], a[2].long(), a[3]), "block_table must be torch.int32"),
        (lambda a: (a[0], a[1], a[2], a[3].long()), "cache_seqlens must be torch.int32"),
        (lambda a: (a[0], a[1], a[2][:1], a[3]), "block_table must have q's batch size"),
        (lambda a: (a[0], a[1], a[2], a[3][:1]), "cache_seqlens must have q's batch size"),
        (lambda a: (a[0].transpose(2, 3).contiguous().transpose(2, 3), *a[1:]), "q must be contiguous in its last"),
        (lambda a: (a[0], a[1], a[2].t().contiguous().t(), a[3]), "block_table must be contiguous"),
        (lambda a: (a[0], a[1], a[2], torch.ones(4, dtype=torch.int32)[::2]), "cache_seqlens must be contiguous"),
    ],
)
def test_bad_arguments_name_the_argument(mutate, match):
    with pytest.raises(ValueError, match=match):
        call(*mutate(make_args()))


def test_head_dim_v_must_be_512():
    with pytest.raises(ValueError, match="head_dim_v must be 512"):
        call(*make_args(), head_dim_v=576)


@pytest.mark.parametrize("scale", [0.0, -0.1, float("nan"), float("inf"), "0.1", True, torch.tensor(0.1)])
def test_softmax_scale_must_be_positive_and_finite(scale):
    with pytest.raises(ValueError, match="softmax_scale must be a finite float > 0"):
        call(*make_args(), softmax_scale=scale)


@pytest.mark.parametrize("scale", [0.5, 1, None])
def test_valid_softmax_scales_pass_validation(scale):
    # (CPU tensors: the next check, the device, is what fails.)
    with pytest.raises(ValueError, match="CUDA tensors"):
        call(*make_args(), softmax_scale=scale)


def test_cpu_tensors_are_rejected_clearly():
    with pytest.raises(ValueError, match="CUDA tensors"):
        call(*make_args())


def test_not_a_tensor():
    q, k, t, s = make_args()
    with pytest.raises(TypeError, match="k_cache must be a torch.Tensor"):
        call(q, "cache", t, s)


@pytest.mark.parametrize("kw", [{"is_fp8_kvcache": True}, {"indices": torch.zeros(1)}, {"attn_sink": torch.zeros(1)}])
def test_unsupported_features_say_so(kw):
    with pytest.raises(NotImplementedError, match="not supported yet"):
        call(*make_args(), **kw)


def test_get_mla_metadata_forms():
    meta, none = flash_mla.get_mla_metadata()
    assert isinstance(meta, flash_mla.FlashMLASchedMeta) and none is None and not meta.have_initialized
    meta, _ = flash_mla.get_mla_metadata(num_heads_per_head_k=16)  # old keyword, no tensors yet
    assert isinstance(meta, flash_mla.FlashMLASchedMeta)
    with pytest.raises(NotImplementedError, match="not supported yet"):
        flash_mla.get_mla_metadata(is_fp8_kvcache=True)
    with pytest.raises(ValueError, match="CUDA tensors"):
        flash_mla.get_mla_metadata(torch.ones(3, dtype=torch.int32), 16, 1)
    with pytest.raises(TypeError, match="needs all three"):
        flash_mla.get_mla_metadata(torch.ones(3, dtype=torch.int32))


def test_check_decode_args_accepts_valid_strided_inputs():
    q, k, t, s = make_args(b=3, s_q=2, h_q=32, h_kv=2, page=32)
    check_decode_args(q[:, :, ::2], k, t, s, 512)  # every other head: a strided view is fine


@pytest.mark.parametrize(
    "capability, variant",
    [((8, 0), "sm80"), ((8, 6), "sm86"), ((8, 7), "sm86"), ((8, 9), "sm89"), ((9, 0), "sm90"),
     ((10, 0), "sm80"), ((12, 0), "sm86")],
)
def test_native_variant_by_compute_capability(capability, variant):
    assert targets.native_variant(capability) == variant


def test_pre_ampere_is_unsupported():
    with pytest.raises(targets.UnsupportedDeviceError, match="8.0 or newer"):
        targets.native_variant((7, 5))


def test_forced_variant_rejects_unknown_names():
    with pytest.raises(ValueError, match="variant must be one of"):
        with flash_mla.forced_variant("sm70"):
            pass


def test_import_needs_no_gpu():
    assert flash_mla.__version__


@pytest.fixture
def fake_device(monkeypatch):
    """CUDA device 0 as an H100 (9.0, 227 KB per block) or a B200 (10.0, 227 KB), for targets' rules."""
    def install(capability, smem=232448):
        monkeypatch.setitem(targets._device_facts_cache, 0, (capability, smem))
    monkeypatch.delenv(targets.SMEM_PER_BLOCK_ENV, raising=False)
    return install


def test_forward_compat_plans_for_the_target_budget(fake_device):
    fake_device((9, 0))
    assert targets.smem_per_block("sm80", 0) == 163 * 1024  # the A100's tiles on an H100
    assert targets.smem_per_block("sm86", 0) == 99 * 1024
    assert targets.smem_per_block("sm90", 0) == 232448      # native: the device's


def test_native_sm80_on_a_227_kb_gpu_plans_for_the_device(fake_device):
    fake_device((10, 0))
    assert targets.smem_per_block("sm80", 0) == 232448


def test_forced_smem_per_block_is_capped_by_the_device(fake_device, monkeypatch):
    fake_device((9, 0))
    with targets.forced_smem_per_block(232448):
        assert targets.smem_per_block("sm80", 0) == 232448
    with targets.forced_smem_per_block(10**9):
        assert targets.smem_per_block("sm80", 0) == 232448
    monkeypatch.setenv(targets.SMEM_PER_BLOCK_ENV, "100000")
    assert targets.smem_per_block("sm80", 0) == 100000
    monkeypatch.setenv(targets.SMEM_PER_BLOCK_ENV, "lots")
    with pytest.raises(ValueError, match="FLASH_MLA_SMEM_PER_BLOCK must be a number of bytes"):
        targets.smem_per_block("sm80", 0)


def test_max_seqlen_q_matches_the_kernels_limit():
    """The Hopper tile-pair kernel leaves the causal mask out of all but a piece's last two tiles,
    which holds while s_q <= kMaxSeqlenQ (csrc/common/decode_params.h): Python's limit must be it."""
    import re
    from pathlib import Path

    from flash_mla.interface import MAX_SEQLEN_Q

    header = (Path(__file__).resolve().parents[1] / "csrc" / "common" / "decode_params.h").read_text()
    match = re.search(r"constexpr int kMaxSeqlenQ = (\d+);", header)
    assert match, "kMaxSeqlenQ not found in decode_params.h"
    assert int(match.group(1)) == MAX_SEQLEN_Q


def test_schedule_fixed_cost_follows_the_plan_unless_forced(monkeypatch):
    from flash_mla import interface, ops

    plan = ops.LaunchPlan(64, 64, 8, 2, 1 << 16, 1, schedule_fixed_cost_blocks=6)
    monkeypatch.setattr(ops, "launch_plan", lambda variant, rows, device, smem: plan)
    monkeypatch.delenv(interface.SCHEDULE_FIXED_COST_ENV, raising=False)
    assert interface.schedule_fixed_cost_blocks("sm90", 128, 0, smem=1) == 6
    monkeypatch.setenv(interface.SCHEDULE_FIXED_COST_ENV, "5")
    assert interface.schedule_fixed_cost_blocks("sm90", 128, 0, smem=1) == 5
    for bad, match in [("five", "must be a whole number"), ("-1", r"must be in \[0, 1024\]")]:
        monkeypatch.setenv(interface.SCHEDULE_FIXED_COST_ENV, bad)
        with pytest.raises(ValueError, match=f"FLASH_MLA_SCHEDULE_FIXED_COST {match}"):
            interface.schedule_fixed_cost_blocks("sm90", 128, 0, smem=1)
