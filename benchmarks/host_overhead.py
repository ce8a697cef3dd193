"""Host time of one decode call, broken down: what the CPU spends before the GPU has the call's kernels.

    python benchmarks/host_overhead.py [--configs 4096:16:1,8192:128:2] [--peers-dir .peers --peers upstream_bf16]

A call whose host path outlasts the work queued before it leaves the GPU idle: in eager decoding at small
batches, and inside bench_decode's timed region when it outlasts the L2 flush (runs 184-186 in
benchmarks/NOTES.md; bench_decode.py times GPU time only, unless --no-hide-launch). CUDA graphs replay none
of it. For each config (s_k:h_q:s_q, b=128, h_kv=1, page 64, causal) this prints the median and
90th-percentile microseconds, with the GPU idle before each call, of:
  api          flash_mla.flash_mla_with_kvcache (checks, metadata object, dispatch, the op);
  checks       its Python argument checks alone (flash_mla.interface.check_decode_args);
  op           the registered torch op alone (torch.ops.flash_mla.<variant>_decode: the dispatcher, the C++
               checks, the output and split buffers, the TMA descriptors and both launches);
and each peer's call as the anchors' harness makes it (a pybind function, no Python checks).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_decode import BATCH, DTYPES, host_us, parse_configs, peer  # noqa: E402
from mla_reference import DecodeCase, make_inputs  # noqa: E402


def calls_of(inputs, variant: str) -> dict:
    """The three calls of ours that host_overhead times (the module's doc) on `inputs`."""
    import flash_mla
    from flash_mla import interface, ops, targets

    q, k, table, lens = inputs.q, inputs.k_cache, inputs.block_table, inputs.cache_seqlens
    meta, splits = flash_mla.get_mla_metadata(lens, q.shape[1] * q.shape[2], 1)
    decode_op = ops.op(variant, "decode")
    smem = targets.smem_per_block(variant, targets.device_index(q.device))
    return {
        "api": lambda: flash_mla.flash_mla_with_kvcache(q, k, table, lens, 512, meta, splits, causal=True),
        "checks": lambda: interface.check_decode_args(q, k, table, lens, 512),
        "op": lambda: decode_op(q, k, table, lens, meta, splits, q.shape[-1] ** -0.5, True, 0, smem),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="4096:16:1,4096:128:2")
    parser.add_argument("--dtype", choices=list(DTYPES), default="bf16")
    parser.add_argument("--peers-dir", default=None)
    parser.add_argument("--peers", default="")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    configs = parse_configs(parser, args.configs)
    if args.peers and not args.peers_dir:
        parser.error("--peers needs --peers-dir")

    import flash_mla

    dtype = DTYPES[args.dtype]
    variant = flash_mla.native_variant(torch.cuda.get_device_capability())
    peers = {name: peer(name, args.peers_dir)[0] for name in filter(None, args.peers.split(","))}
    print(f"{torch.cuda.get_device_name()}, variant {variant}: host us a call, median / p90 of {args.calls}")
    names = ["api", "checks", "op", *peers]
    print(f"{'s_k':>5} {'h_q':>4} {'s_q':>3} " + " ".join(f"{n:>16}" for n in names))
    for seqlen_k, h_q, s_q in configs:
        inputs = make_inputs(DecodeCase(BATCH, seqlen_k, h_q, s_q, dtype=dtype, seed=1), "cuda")
        calls = calls_of(inputs, variant)
        for name, prepare in peers.items():
            calls[name] = prepare(inputs)
        cells = [host_us(calls[n], args.calls) for n in names]
        print(f"{seqlen_k:>5} {h_q:>4} {s_q:>3} " + " ".join(f"{m:7.1f} / {p:6.1f}" for m, p in cells))
        del inputs, calls
    return 0


if __name__ == "__main__":
    sys.exit(main())
