"""Where one flash_mla_with_kvcache call spends its GPU time, kernel by kernel (torch.profiler).

    python benchmarks/profile_kernels.py [--variant sm90] [--configs 8192:16:1,8192:64:1,8192:128:2]
        [--batch 128] [--varlen] [--peers-dir .peers --upstream-kernels]
    python benchmarks/profile_kernels.py --piece-sweep 524288 --configs 0:128:2,0:64:2 [--peers-dir .peers]
    python benchmarks/profile_kernels.py --graph-chain 16 --configs 4096:16:1,4096:128:2 [--peers-dir .peers]
    python benchmarks/profile_kernels.py --power 2 --configs 4096:128:1,4096:16:1 [--peers-dir .peers]
    ncu ... python benchmarks/profile_kernels.py --configs 8192:64:2 --launch-only [--peer flashinfer_fa2_bf16
        --peers-dir .peers]

Each config is s_k:h_q:s_q (b=128, h_kv=1, page 64, causal, bf16 by default). Prints, per config,
the mean microseconds of each kernel over --iters calls (the decode kernel, the split combine, and
anything else the call launches), so the cost of the split partials can be read beside the main
kernel's.

--piece-sweep TOKENS times the decode kernel alone on b x s_k = TOKENS for b in --sweep-batches (each
config's s_k is ignored), fixed lengths, and splits its time into a cost per piece and one per tile
(benchmarks/piece_cost.py), beside upstream's with --peers-dir.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from mla_reference import DecodeCase, make_inputs  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default=None, help="forced variant (default: the GPU's native one)")
    parser.add_argument("--configs", default="8192:16:1,8192:64:1,8192:128:2")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--varlen", action="store_true")
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--host", action="store_true",
                        help="also the host time of one call (tiny inputs, no sync), beside upstream's with --peers-dir")
    parser.add_argument("--peers-dir", default=None)
    parser.add_argument("--graph-gap", action="store_true",
                        help="also each config's event-timed call (as the benchmarks time it) eager and as a CUDA "
                        "graph replay, beside upstream's with --peers-dir: the difference is host time before the "
                        "first launch plus the gaps between kernels")
    parser.add_argument("--graph-chain", type=int, default=0, metavar="CALLS",
                        help="only the ms a call of CALLS back-to-back calls captured in one CUDA graph (no L2 "
                        "flush, as a model's layers run), beside upstream's with --peers-dir")
    parser.add_argument("--power", type=float, default=0, metavar="SECONDS",
                        help="only each implementation's calls back-to-back for SECONDS, with and without the "
                        "benchmark's L2 flush: us a call, the SM clock and board power (nvidia-smi, every 20 ms) "
                        "and the energy a call, beside upstream's with --peers-dir")
    parser.add_argument("--upstream-kernels", action="store_true",
                        help="with --peers-dir: also upstream FlashMLA's kernels on the same inputs")
    parser.add_argument("--launch-only", action="store_true",
                        help="only run each config a few times, no profiler (for `ncu ... profile_kernels.py`)")
    parser.add_argument("--peer", default=None,
                        help="with --launch-only and --peers-dir: run this peer (bench_anchors name) instead of ours")
    parser.add_argument("--piece-sweep", type=int, default=0, metavar="TOKENS",
                        help="per-piece and per-tile cost of the decode kernel from b x s_k = TOKENS")
    parser.add_argument("--sweep-batches", default="256,128,64,32")
    args = parser.parse_args()
    if args.upstream_kernels and not args.peers_dir:
        parser.error("--upstream-kernels needs --peers-dir")
    if args.peer and not (args.launch_only and args.peers_dir):
        parser.error("--peer needs --launch-only and --peers-dir")
    if not args.peer:  # a peer runs without our package built (run 123's upstream ncu had none)
        import flash_mla

    def ctx():  # a fresh context each time: forced_variant's can be entered once
        return flash_mla.forced_variant(args.variant) if args.variant else contextlib.nullcontext()

    if args.piece_sweep:
        piece_sweep(ctx, args)
        return 0
    if args.graph_chain:
        graph_chain(ctx, args.configs, args.batch, args.varlen, args.peers_dir, args.graph_chain)
        return 0
    if args.power:
        power_draw(ctx, args.configs, args.batch, args.varlen, args.peers_dir, args.power)
        return 0
    print(f"{torch.cuda.get_device_name()}, variant {args.variant or 'native'}, b={args.batch}, "
          f"{'varlen' if args.varlen else 'fixed'} lengths")
    for config in args.configs.split(","):
        seqlen_k, h_q, s_q = (int(x) for x in config.split(":"))
        case = DecodeCase(args.batch, seqlen_k, h_q, s_q, varlen=args.varlen, seed=1234)
        inputs = make_inputs(case, "cuda")
        if args.peer:  # the same inputs through a peer, for ncu to profile side by side with ours
            sys.path.insert(0, args.peers_dir)
            import bench_anchors

            prepare, _ = bench_anchors.make_impl(torch, args.peer, str(Path(args.peers_dir) / "prebuilt"))
            run_peer = prepare(inputs.q, inputs.k_cache, inputs.block_table, inputs.cache_seqlens, True)
            for _ in range(3):
                run_peer()
            torch.cuda.synchronize()
            continue
        with ctx():
            meta, splits = flash_mla.get_mla_metadata(inputs.cache_seqlens, s_q * h_q, 1)

            def run(inputs=inputs, meta=meta, splits=splits):
                return flash_mla.flash_mla_with_kvcache(inputs.q, inputs.k_cache, inputs.block_table,
                                                        inputs.cache_seqlens, 512, meta, splits, causal=True)

            for _ in range(3):
                run()
            torch.cuda.synchronize()
            if args.launch_only:
                continue
        print(f"s_k={seqlen_k} h_q={h_q} s_q={s_q}: split slots {int(splits[-1].item()) if splits is not None else '?'}"
              f" for {args.batch} sequences")
        runs = {"ours": run}
        if args.upstream_kernels:
            runs["upstream"] = ours_and_upstream(ctx, inputs, args.peers_dir)["upstream"]
        for name, call in runs.items():
            for kernel, us in sorted(kernel_spans(ctx, call, args.iters).items(), key=lambda item: -item[1]):
                print(f"  {name:<8} {us:9.1f} us  {kernel[:100]}")
    if args.host:
        host_overhead(ctx, args.peers_dir)
    if args.graph_gap:
        eager_vs_graph(ctx, args.configs, args.batch, args.varlen, args.peers_dir)
    return 0


def kernel_spans(ctx, call, iters: int) -> dict[str, float]:
    """Mean microseconds a call of each kernel the call launches, under torch.profiler. A one-element kernel
    (listed too) runs before each call: our decode grid is a programmatic dependent launch that waits
    (griddepcontrol.wait) for the grid before it, and back to back that was the previous call's combine, whose
    time then counted as the decode kernel's (run 162: 4096/128/1 read 427 us where the whole call takes 265).
    The combine, launched the same way behind the decode grid, still spans its wait for it."""
    separator = torch.zeros(1, device="cuda")
    with ctx():
        for _ in range(3):
            call()
        torch.cuda.synchronize()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            for _ in range(iters):
                separator.add_(1)
                call()
            torch.cuda.synchronize()
    totals: dict[str, float] = collections.defaultdict(float)
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            totals[event.name] += event.time_range.elapsed_us() / iters
    return dict(totals)


def decode_kernel_us(ctx, call, iters: int) -> float:
    """Mean microseconds of the call's split-KV decode kernel (ours and upstream's both have "splitkv" in
    their names; kernel_spans)."""
    return sum(us for name, us in kernel_spans(ctx, call, iters).items() if "splitkv" in name)


def piece_sweep(ctx, args) -> None:
    import piece_cost

    import flash_mla

    batches = [int(b) for b in args.sweep_batches.split(",")]
    print(f"{torch.cuda.get_device_name()}, variant {args.variant or 'native'}: decode kernel us, "
          f"b x s_k = {args.piece_sweep} tokens, fixed lengths")
    for config in args.configs.split(","):
        _, h_q, s_q = (int(x) for x in config.split(":"))
        points: dict[str, list] = collections.defaultdict(list)
        tiles_per_part = 0.0
        for batch in batches:
            inputs = make_inputs(DecodeCase(batch, args.piece_sweep // batch, h_q, s_q, seed=1234), "cuda")
            with ctx():
                meta, _ = flash_mla.get_mla_metadata(inputs.cache_seqlens, s_q * h_q, 1)
            rows = meta.tolist()
            pieces = piece_cost.pieces_per_part(rows)
            tiles_per_part = args.piece_sweep / 64 / sum(1 for row in rows if row[2] >= row[0])
            line = f"  {h_q}/{s_q} b={batch:<4} s_k={args.piece_sweep // batch:<6} pieces/part {pieces:5.2f}"
            for name, call in ours_and_upstream(ctx, inputs, args.peers_dir).items():
                us = decode_kernel_us(ctx, call, args.iters)
                points[name].append((pieces, us))  # (upstream's scheduler splits the same way as ours)
                line += f"  {name} {us:7.1f}"
            print(line)
        for name, pts in points.items():
            per_piece, at_zero = piece_cost.fit_piece_cost(pts)
            print(f"  {h_q}/{s_q} {name:<8}: {per_piece:5.1f} us a piece; {at_zero:6.1f} us at zero pieces = "
                  f"{at_zero / tiles_per_part:.3f} us a tile ({tiles_per_part:.0f} tiles a part)")


def ours_and_upstream(ctx, inputs, peers_dir: str | None) -> dict:
    """One call on `inputs` each: flash_mla (metadata computed once, in `ctx`), and with --peers-dir
    upstream FlashMLA through the prebuilt harness."""
    import flash_mla

    s_q, h_q = inputs.q.shape[1], inputs.q.shape[2]
    with ctx():
        meta, splits = flash_mla.get_mla_metadata(inputs.cache_seqlens, s_q * h_q, 1)

    def ours():
        return flash_mla.flash_mla_with_kvcache(inputs.q, inputs.k_cache, inputs.block_table, inputs.cache_seqlens,
                                                512, meta, splits, causal=True)

    runs = {"ours": ours}
    if peers_dir:
        sys.path.insert(0, peers_dir)
        import bench_anchors

        prepare, _ = bench_anchors.make_impl(torch, "upstream_bf16", str(Path(peers_dir) / "prebuilt"))
        runs["upstream"] = prepare(inputs.q, inputs.k_cache, inputs.block_table, inputs.cache_seqlens, True)
    return runs


def eager_vs_graph(ctx, configs: str, batch: int, varlen: bool, peers_dir: str | None) -> None:
    """Median ms of one L2-flushed, event-timed call (tests/timing.py, the benchmarks' method), called
    eagerly and replayed from a CUDA graph. A graph replay starts the first kernel right away and chains
    the kernels without host work, so eager - graph is what the host adds to a timed call."""
    from timing import time_cuda_ms

    print(f"event-timed call, eager vs CUDA graph replay (b={batch}, {'varlen' if varlen else 'fixed'}), ms")
    for config in configs.split(","):
        seqlen_k, h_q, s_q = (int(x) for x in config.split(":"))
        inputs = make_inputs(DecodeCase(batch, seqlen_k, h_q, s_q, varlen=varlen, seed=1234), "cuda")
        runs = ours_and_upstream(ctx, inputs, peers_dir)
        for name, run in runs.items():
            with ctx():
                eager = time_cuda_ms(run, hide_launch=False)  # the host's part is what this measures
                try:
                    for _ in range(3):
                        run()
                    torch.cuda.synchronize()
                    graph = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(graph):
                        run()
                    replay = time_cuda_ms(graph.replay, hide_launch=False)
                    del graph
                except RuntimeError as error:  # a peer that cannot be captured
                    print(f"  {config} {name}: graph capture failed: {str(error)[:80]}")
                    continue
            print(f"  {config:>10} {name:<9} eager {eager:7.4f}  graph {replay:7.4f}  eager - graph "
                  f"{(eager - replay) * 1e3:6.1f} us")


def graph_chain(ctx, configs: str, batch: int, varlen: bool, peers_dir: str | None, calls: int) -> None:
    """Median ms a call of `calls` back-to-back calls in one CUDA graph, 15 replays: no flush and no host
    work between the calls, so each call's kernels meet the previous call's as in a model's layers (where
    programmatic dependent launches overlap one call's start with the last one's end)."""
    import statistics

    print(f"CUDA graph of {calls} back-to-back calls (b={batch}, {'varlen' if varlen else 'fixed'}), ms a call")
    for config in configs.split(","):
        seqlen_k, h_q, s_q = (int(x) for x in config.split(":"))
        inputs = make_inputs(DecodeCase(batch, seqlen_k, h_q, s_q, varlen=varlen, seed=1234), "cuda")
        for name, run in ours_and_upstream(ctx, inputs, peers_dir).items():
            with ctx():
                for _ in range(3):
                    run()
                torch.cuda.synchronize()
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    for _ in range(calls):
                        run()
                times = []
                for _ in range(15):
                    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    start.record()
                    graph.replay()
                    stop.record()
                    stop.synchronize()
                    times.append(start.elapsed_time(stop) / calls)
                del graph
            print(f"  {config:>10} {name:<9} {statistics.median(times):.4f}")


def power_draw(ctx, configs: str, batch: int, varlen: bool, peers_dir: str | None, seconds: float) -> None:
    """Each implementation's calls back to back for `seconds`, after the benchmarks' 256 MiB L2 flush or
    without one, as the benchmark runs them: there the card's power cap sets the SM clock (run 156: an H100
    at ~650 W ran the 128-row rows at 1.45-1.8 GHz, not the 1.98 boost), and a kernel's cycles a call move
    with it (ours ~12% more at the cap than at ncu's locked clock, upstream's ~3%: run 157). Prints us a
    call, the median SM clock and board power nvidia-smi sampled, and their product a call."""
    import statistics
    import subprocess
    import threading
    import time

    def sample(stop: threading.Event, samples: list) -> None:
        query = ["nvidia-smi", "--query-gpu=clocks.sm,power.draw", "--format=csv,noheader,nounits", "-lms", "20"]
        with subprocess.Popen(query, stdout=subprocess.PIPE, text=True) as smi:
            while not stop.is_set():
                fields = smi.stdout.readline().split(",")
                if len(fields) == 2:
                    samples.append((float(fields[0]), float(fields[1])))
            smi.terminate()

    flush = torch.empty(256 * 1024**2, dtype=torch.uint8, device="cuda")
    print(f"calls back to back for {seconds} s each (b={batch}, {'varlen' if varlen else 'fixed'})")
    for config in configs.split(","):
        seqlen_k, h_q, s_q = (int(x) for x in config.split(":"))
        inputs = make_inputs(DecodeCase(batch, seqlen_k, h_q, s_q, varlen=varlen, seed=1234), "cuda")
        runs = ours_and_upstream(ctx, inputs, peers_dir)
        for with_flush in (True, False):
            for name, run in runs.items():
                with ctx():
                    for _ in range(20):
                        run()
                    torch.cuda.synchronize()
                    samples: list = []
                    stop = threading.Event()
                    sampler = threading.Thread(target=sample, args=(stop, samples))
                    sampler.start()
                    time.sleep(0.3)  # nvidia-smi's start, then the card settles under load
                    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    calls, began = 0, time.time()
                    start.record()
                    while time.time() - began < seconds:
                        for _ in range(20):
                            if with_flush:
                                flush.zero_()
                            run()
                        calls += 20
                        torch.cuda.synchronize()
                    end.record()
                    end.synchronize()
                    stop.set()
                    sampler.join()
                us = start.elapsed_time(end) / calls * 1e3  # the flush's time included where it ran
                settled = samples[len(samples) // 10:] or [(float("nan"), float("nan"))]
                clock = statistics.median(c for c, _ in settled)
                watts = statistics.median(w for _, w in settled)
                print(f"  {config:>10} {'flushed' if with_flush else 'no flush':<8} {name:<9} {us:7.1f} us a call  "
                      f"SM {clock:5.0f} MHz  {watts:4.0f} W  {watts * us * 1e-3:6.1f} mJ a call")


def host_overhead(ctx, peers_dir: str | None, calls: int = 2000) -> None:
    """Microseconds of CPU time one call takes to validate and enqueue its kernels, on a case whose GPU
    time is negligible: what an eager (non-CUDA-graph) caller pays, and what an L2-flushed benchmark
    sees as idle GPU time when it exceeds the flush."""
    import time

    runs = ours_and_upstream(ctx, make_inputs(DecodeCase(4, 256, 16, 1, seed=1), "cuda"), peers_dir)
    for name, run in runs.items():
        with ctx():
            for _ in range(50):
                run()
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(calls):
                run()
            host = (time.perf_counter() - start) / calls * 1e6
            torch.cuda.synchronize()
        print(f"host time per call, {name}: {host:.1f} us")


if __name__ == "__main__":
    sys.exit(main())
