"""Calls of one implementation, each after an L2 flush, for a profiler to pick a kernel from: two warm-up calls,
then --calls times (flush, spin kernel, call), as the benchmark times them (tests/timing.py).

    ncu --cache-control none --clock-control none --replay-mode application --kernel-name regex:combine_splits \\
        --launch-skip 2 --launch-count 2 --metrics gpu__time_duration.sum,dram__bytes_read.sum \\
        python benchmarks/flushed_calls.py --config 4096:64:1 --varlen [--impl upstream_bf16 --peers-dir .peers]

With `--cache-control none` the profiled kernel meets the L2 as the flush and the kernels before it in the same
call left it: how a combine kernel runs right after its decode kernel (benchmarks/NOTES.md, runs 194, 201,
204, 211-218). --impl is `ours` (this machine's native variant, or --variant) or a peer of the anchors
harness (upstream_bf16, ...; needs --peers-dir). The config is s_k:h_q:s_q, b=128, h_kv=1, page 64, causal,
the benchmark's lengths (fixed, or with --varlen its seeded draw).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from bench_decode import BATCH, ours, parse_configs, peer  # noqa: E402
from mla_reference import DecodeCase, make_inputs  # noqa: E402
from timing import HIDE_LAUNCH_CYCLES, L2_FLUSH_MODES, l2_flush  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", default="ours", help="ours, or a peer of the anchors harness (needs --peers-dir)")
    parser.add_argument("--variant", default=None, help="ours: VARIANT[@BYTES][/pPAGE][/cBLOCKS] (default: the GPU's own)")
    parser.add_argument("--peers-dir", default=None)
    parser.add_argument("--mode", default="write", choices=L2_FLUSH_MODES, help="the L2 flush (timing.l2_flush)")
    parser.add_argument("--config", default="4096:128:1", help="s_k:h_q:s_q")
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--varlen", action="store_true", help="the benchmark's varlen lengths")
    args = parser.parse_args()
    configs = parse_configs(parser, args.config, "--config")
    if len(configs) != 1:
        parser.error(f"--config: expected one s_k:h_q:s_q, got {args.config!r}")
    (seqlen_k, h_q, s_q), = configs
    if args.impl != "ours" and not args.peers_dir:
        parser.error("--impl: a peer needs --peers-dir")
    if args.calls < 1:
        parser.error(f"--calls: expected at least 1, got {args.calls}")

    if args.impl == "ours":
        import flash_mla

        prepare = ours(args.variant or flash_mla.native_variant(torch.cuda.get_device_capability()))[0]
    else:
        prepare = peer(args.impl, args.peers_dir)[0]
    run = prepare(make_inputs(DecodeCase(BATCH, seqlen_k, h_q, s_q, varlen=args.varlen, seed=1234), "cuda"))
    flush = l2_flush(args.mode)
    for _ in range(2):
        run()
    torch.cuda.synchronize()
    for _ in range(args.calls):
        flush()
        torch.cuda._sleep(HIDE_LAUNCH_CYCLES)
        run()
    torch.cuda.synchronize()
    return 0


if __name__ == "__main__":
    sys.exit(main())
