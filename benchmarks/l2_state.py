"""Each implementation's decode kernel time and call time after each L2 state the benchmark's flush can leave.

    python benchmarks/l2_state.py [--configs 4096:128:1,4096:64:2] [--varlen] [--peers-dir .peers --peers upstream_bf16]

anchors.md's flush zeroes 256 MiB and leaves the L2 full of dirty lines, which the timed launch writes back
while it reads; a reading flush leaves it full of clean ones. For each config (s_k:h_q:s_q, b=128, h_kv=1,
page 64, causal, fixed lengths, or with --varlen the benchmark's varlen draw) and each L2 state
(tests/timing.py's flush modes: `write` zeroes 256 MiB, `read` reads it, `write+read` does both, so the
dirty lines are written back before the call), this times 20
calls with time_cuda_ms (each after the flush and the spin kernel that keeps the host out of the timed
region) under torch.profiler, and prints the decode kernel's mean time over them and the median call. Ours'
combine overlaps its decode kernel (a programmatic dependent launch), so only the call time compares the two
implementations whole. benchmarks/NOTES.md, run 193.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_decode import BATCH, ours, parse_configs, peer  # noqa: E402
from mla_reference import DecodeCase, make_inputs  # noqa: E402
from timing import L2_FLUSH_MODES, time_cuda_ms  # noqa: E402


def decode_kernel_us(prof) -> float | None:
    """Mean device time of the profiled decode kernel (ours' or a peer's; not a combine)."""
    for event in prof.key_averages():
        name = event.key
        if "combine" not in name and ("decode" in name or "mla_kernel" in name or "splitkv" in name):
            return getattr(event, "device_time", None) or event.cuda_time
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="4096:128:1,4096:64:2")
    parser.add_argument("--peers-dir", default=None)
    parser.add_argument("--peers", default="")
    parser.add_argument("--varlen", action="store_true", help="the benchmark's varlen lengths (uniform in [s_k/2, s_k])")
    args = parser.parse_args()
    configs = parse_configs(parser, args.configs)
    if args.peers and not args.peers_dir:
        parser.error("--peers needs --peers-dir")

    import flash_mla

    variant = flash_mla.native_variant(torch.cuda.get_device_capability())
    impls = {"ours": ours(variant)[0]}
    for name in filter(None, args.peers.split(",")):
        impls[name] = peer(name, args.peers_dir)[0]
    print(f"{torch.cuda.get_device_name()}: us, decode kernel (profiler mean of 20 calls) / call (event median of 20)")
    print(f"{'config':>12} {'impl':>14} " + " ".join(f"{mode:>18}" for mode in L2_FLUSH_MODES))
    for seqlen_k, h_q, s_q in configs:
        inputs = make_inputs(DecodeCase(BATCH, seqlen_k, h_q, s_q, varlen=args.varlen, seed=1234), "cuda")
        for name, prepare in impls.items():
            run = prepare(inputs)
            cells = []
            for mode in L2_FLUSH_MODES:
                for _ in range(3):  # warm-up outside the profile: its calls follow no flush
                    run()
                torch.cuda.synchronize()
                with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
                    call = 1000 * time_cuda_ms(run, iters=20, warmup=0, flush_mode=mode)
                kernel = decode_kernel_us(prof)
                cells.append(f"{'-' if kernel is None else f'{kernel:.1f}':>8} / {call:7.1f}")
            label = f"{seqlen_k}/{h_q}/{s_q}" + ("v" if args.varlen else "")
            print(f"{label:>12} {name:>14} " + " ".join(f"{c:>18}" for c in cells), flush=True)
        del inputs
    return 0


if __name__ == "__main__":
    sys.exit(main())
