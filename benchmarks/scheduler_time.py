"""The tile scheduler's own GPU time (csrc/smxx/scheduler_metadata.cu, what get_mla_metadata launches once a
decoding step), by batch size and length pattern, with each schedule's split count and a checksum of its metadata
(to compare two builds' schedules line for line).

    python benchmarks/scheduler_time.py [--batches 128,4096,20000] [--rows 128] [--label main]

Equal lengths (8192 tokens) and varied ones (uniform in [4096, 8192], seeded); the kernel time is the torch
profiler's median over --calls calls (benchmarks/NOTES.md run 234: 18 us at 128 sequences, 241 us at 4096).
"""

from __future__ import annotations

import argparse
import statistics


def parse_batches(parser: argparse.ArgumentParser, text: str) -> list[int]:
    try:
        batches = [int(b) for b in text.split(",") if b]
    except ValueError:
        parser.error(f"--batches: expected comma-separated positive ints, got {text!r}")
    if not batches or min(batches) < 1:
        parser.error(f"--batches: expected comma-separated positive ints, got {text!r}")
    return batches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="128,4096,20000", help="sequences a call, comma-separated")
    parser.add_argument("--rows", type=int, default=128, help="query rows a KV head (h_q * s_q / h_kv)")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--label", default="", help="a name for the build, printed on every line")
    args = parser.parse_args()
    batches = parse_batches(parser, args.batches)
    if args.rows < 1 or args.calls < 1:
        parser.error("--rows and --calls: expected at least 1")

    import torch
    from torch.profiler import ProfilerActivity, profile

    import flash_mla

    gen = torch.Generator().manual_seed(0)
    for batch in batches:
        for kind in ("equal", "varied"):
            lengths = torch.full((batch,), 8192) if kind == "equal" else torch.randint(4096, 8193, (batch,), generator=gen)
            lengths = lengths.to(torch.int32).cuda()
            for _ in range(3):
                flash_mla.get_mla_metadata(lengths, args.rows, 1)
            torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                for _ in range(args.calls):
                    flash_mla.get_mla_metadata(lengths, args.rows, 1)
                torch.cuda.synchronize()
            times = [e.device_time_total for e in prof.events() if "scheduler_metadata" in e.name]
            metadata, splits = flash_mla.get_mla_metadata(lengths, args.rows, 1)
            checksum = int((metadata.to(torch.int64) * torch.arange(1, metadata.numel() + 1, device="cuda").view_as(metadata)).sum())
            print(f"{args.label:24s} batch {batch:6d} {kind:6s}: scheduler kernel {statistics.median(times):7.1f} us, "
                  f"splits {int(splits[-1]) - batch}, metadata checksum {checksum}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
