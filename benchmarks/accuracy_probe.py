"""The error of this build's decode against the float32 reference (the tests'), per config and dtype, to compare builds.

    python benchmarks/accuracy_probe.py [--configs 4096:64:1,4096:128:2] [--varlen] [--dtypes bf16,fp16]
        [--variant sm90] [--seeds 3]

The tests say whether a build is within FlashMLA's bar; this says where inside it, so a change to the arithmetic
(e.g. 16-bit split partials, benchmarks/NOTES.md run 238) can be put beside the tree's error. Each config is
s_k:h_q:s_q (b=128 by default, h_kv=1, page 64, causal; --varlen draws lengths in [s_k/2, s_k]). Prints, per
config and dtype, the worst over --seeds inputs of: max abs error, the norm ratio ||out - ref|| / ||ref||, the
cosine difference, the lse's max abs error, and the split count (how many output rows went through the combine).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from bench_decode import parse_configs  # noqa: E402
from mla_reference import DTYPES, DecodeCase, compare, make_inputs, reference_decode  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="4096:64:1,4096:64:2,4096:128:2,8192:16:1")
    parser.add_argument("--varlen", action="store_true")
    parser.add_argument("--dtypes", default="bf16,fp16")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--variant", default=None, help="force a variant (e.g. sm80 on an H100, forward-compat)")
    args = parser.parse_args()
    configs = parse_configs(parser, args.configs)
    dtypes = [d for d in args.dtypes.split(",") if d]
    if not dtypes or any(d not in DTYPES for d in dtypes):
        parser.error(f"--dtypes: expected a comma list of {sorted(DTYPES)}, got {args.dtypes!r}")
    if args.seeds < 1 or args.batch < 1:
        parser.error(f"--seeds and --batch: expected at least 1, got {args.seeds} and {args.batch}")
    if not torch.cuda.is_available():
        print("skipped: no CUDA GPU")
        return 0
    import flash_mla

    forced = flash_mla.forced_variant(args.variant) if args.variant else contextlib.nullcontext()
    print(f"{'config':<22} {'dtype':>5} {'splits':>6} {'max abs':>9} {'rel l2':>9} {'cos diff':>9} {'lse err':>9}")
    status = 0
    with forced:
        for seqlen_k, h_q, s_q in configs:
            for name in dtypes:
                worst = [0.0, 0.0, 0.0, 0.0]
                splits = 0
                for seed in range(args.seeds):
                    case = DecodeCase(args.batch, seqlen_k, h_q, s_q, varlen=args.varlen, dtype=DTYPES[name], seed=seed)
                    inputs = make_inputs(case, "cuda")
                    meta, num_splits = flash_mla.get_mla_metadata(inputs.cache_seqlens, s_q * h_q, 1)
                    out, lse = flash_mla.flash_mla_with_kvcache(inputs.q, inputs.k_cache, inputs.block_table,
                                                                inputs.cache_seqlens, 512, meta, num_splits, causal=True)
                    result = compare(out, lse, *reference_decode(inputs))
                    status |= bool(result.failures)
                    counts = num_splits.diff()
                    splits = max(splits, int((counts > 1).sum()))
                    worst = [max(w, v) for w, v in zip(worst, (result.max_abs, result.rel_l2, result.cos_diff,
                                                                 result.lse_max_abs))]
                label = f"{seqlen_k}/{h_q}/{s_q}{'v' if args.varlen else ''}"
                print(f"{label:<22} {name:>5} {splits:>6} {worst[0]:>9.2e} {worst[1]:>9.2e} {worst[2]:>9.2e} {worst[3]:>9.2e}")
    return status


if __name__ == "__main__":
    sys.exit(main())
