"""flash-mla decode speed on the standard grid, as a share of the roofline measured in the same run,
beside the peers when they are installed.

    python benchmarks/bench_decode.py [--variants sm80,sm86,sm89] [--dtype bf16] \
        [--peers-dir .peers --peers upstream_bf16,flashinfer_fa2_bf16] [--quick]

Grid and method as ../shared/anchors.md: b=128, h_kv=1, page 64, causal, s_k in {4096, 8192} fixed or
varlen (uniform in [s_k/2, s_k], one seeded draw), h_q in {16, 64, 128}, s_q in {1, 2}; median of 50
launches after a 256 MiB L2 flush, row by row with every implementation in turn (--rounds N: N passes,
each row's fastest kept); metadata computed outside the timed region. One difference from anchors.md:
a ~0.5 ms spin kernel sits between the flush and each timed launch, so the timed region holds GPU time
only (a call's host path longer than the flush made whole rows 10-100% slow at random, run 186;
--no-hide-launch restores anchors.md's method, --host-us reports the host time a call). A variant other than
the GPU's native one runs through flash_mla.forced_variant (forward-compat); `VARIANT@BYTES` (e.g.
sm80@232448) also plans its tiles for BYTES of shared memory per block (the sm80 module's 227 KB tile on
an H100), and `VARIANT/pPAGE` (e.g. sm90/p16) runs it on a cache of PAGE-token blocks (16, 32 or 64; default
64, the grid's): `--variants sm90,sm90/p32,sm90/p16` compares the page sizes; `VARIANT/cBLOCKS` (e.g.
sm90/c8) makes its metadata with the scheduler's fixed cost at BLOCKS 64-token blocks (FLASH_MLA_SCHEDULE_FIXED_COST),
so that one run compares settings row by row. Peers come from the prebuilt
harness (bench_anchors.make_impl) and see the same inputs.

--at-size adds two references to every row, timed the same way: `read_at_size` reads the row's bytes (a
max over a buffer of that size) and `copy_at_size` copies half of them to the other half. The copy
bandwidth (2 GiB, no flush) is the roofline every row's % is quoted against; these show what the
device's own streaming kernels reach on the row's bytes in this harness (launch, ramp-up and tail, and
the write-backs the L2 flush leaves). --l2-flush read flushes by reading instead of zeroing (see
tests/timing.py); anchors.md's method is the default, `write`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from mla_reference import DTYPES, HEAD_DIM_QK, HEAD_DIM_V, DecodeCase, compare, decode_flops_and_bytes, make_inputs, reference_decode  # noqa: E402
from timing import L2_FLUSH_MODES, copy_bandwidth_gbs, matmul_tflops, time_cuda_ms  # noqa: E402

BATCH = 128


def grid(quick: bool, heads: str = ""):
    """The grid's rows (s_k, varlen, h_q, s_q); `heads` ("128:2,64:2") keeps only those h_q:s_q."""
    keep = {tuple(int(x) for x in pair.split(":")) for pair in heads.split(",") if pair}
    rows = []
    for seqlen_k in (4096, 8192):
        for varlen in (False, True):
            for h_q in (16, 64, 128):
                for s_q in (1, 2):
                    if quick and (varlen or seqlen_k == 4096):
                        continue
                    if keep and (h_q, s_q) not in keep:
                        continue
                    rows.append((seqlen_k, varlen, h_q, s_q))
    return rows


def parse_configs(parser: argparse.ArgumentParser, text: str, option: str = "--configs") -> list[tuple[int, int, int]]:
    """`option` ("s_k:h_q:s_q[,...]") as int triples; a malformed one stops the parser (exit 2) naming it."""
    try:
        configs = [tuple(int(x) for x in c.split(":")) for c in text.split(",") if c]
        if not configs or any(len(c) != 3 for c in configs):
            raise ValueError
    except ValueError:
        parser.error(f"{option}: expected s_k:h_q:s_q[,...], got {text!r}")
    return configs


PAGE_SIZES = (16, 32, 64)


def parse_variant(spec: str) -> tuple[str, int | None, int, int | None]:
    """`VARIANT[@BYTES][/pPAGE][/cBLOCKS]` as (variant, shared memory per block or None, page block size,
    the scheduler's fixed cost in 64-token blocks or None for the kernel's own)."""
    rest, cost_sep, cost = spec.partition("/c")
    rest, page_sep, page = rest.partition("/p")
    variant, smem_sep, smem = rest.partition("@")
    if (not variant or (smem_sep and not smem.isdigit()) or (page_sep and (not page.isdigit() or int(page) not in PAGE_SIZES))
            or (cost_sep and not cost.isdigit())):
        raise ValueError(f"expected VARIANT[@BYTES][/pPAGE][/cBLOCKS] with PAGE in {PAGE_SIZES}, got {spec!r}")
    return variant, int(smem) if smem else None, int(page) if page else 64, int(cost) if cost else None


def forced_fixed_cost(blocks: int | None):
    """The scheduler's fixed cost forced to `blocks` (FLASH_MLA_SCHEDULE_FIXED_COST) while the metadata is made."""
    from flash_mla.interface import SCHEDULE_FIXED_COST_ENV

    return contextlib.nullcontext() if blocks is None else mock.patch.dict(os.environ, {SCHEDULE_FIXED_COST_ENV: str(blocks)})


def ours(spec: str):
    import flash_mla
    from flash_mla import targets

    variant, smem, page, fixed_cost = parse_variant(spec)
    native = flash_mla.native_variant(torch.cuda.get_device_capability())

    def prepare(inputs):
        s_q, h_q = inputs.q.shape[1], inputs.q.shape[2]

        @contextlib.contextmanager
        def ctx():
            with contextlib.ExitStack() as stack:
                if variant != native:
                    stack.enter_context(flash_mla.forced_variant(variant))
                if smem:
                    stack.enter_context(targets.forced_smem_per_block(smem))
                yield

        with ctx(), forced_fixed_cost(fixed_cost):
            meta, splits = flash_mla.get_mla_metadata(inputs.cache_seqlens, s_q * h_q, 1)

        def call():
            return flash_mla.flash_mla_with_kvcache(inputs.q, inputs.k_cache, inputs.block_table,
                                                    inputs.cache_seqlens, 512, meta, splits, causal=True)

        if variant == native and not smem:
            return call  # no context to enter: the call's host time is the API's alone (--host-us)

        def run():
            with ctx():
                return call()
        return run

    return prepare, page


def peer(name: str, peers_dir: str):
    sys.path.insert(0, peers_dir)
    import bench_anchors

    prepare_peer, page = bench_anchors.make_impl(torch, name, str(Path(peers_dir) / "prebuilt"))

    def prepare(inputs):
        return prepare_peer(inputs.q, inputs.k_cache, inputs.block_table, inputs.cache_seqlens, True)

    return prepare, page


def at_size(kind: str, rows):
    """A reference that streams the row's bytes instead of decoding (--at-size): "read" or "copy". Its
    buffers are allocated once, for the grid's largest row, and each row takes views of them: a buffer a row
    made the caching allocator free and map memory around the other implementations' timed calls (run 181:
    ours at 2x on two varlen rows of that process, never alone). `rows` are the grid's (s_k, varlen, h_q, s_q)."""
    # 16-bit words of the largest row: its cached tokens (at most b x s_k), Q and out (decode_flops_and_bytes)
    largest = max(BATCH * (s_k * HEAD_DIM_QK + s_q * h_q * (HEAD_DIM_QK + HEAD_DIM_V)) for s_k, _, h_q, s_q in rows) * 2 // 8
    source = torch.ones(largest, dtype=torch.int64, device="cuda")
    target = torch.empty(largest // 2, dtype=torch.int64, device="cuda") if kind == "copy" else None

    def prepare(inputs):
        _, nbytes = decode_flops_and_bytes(inputs)
        words = int(nbytes) // 8
        if words > largest:
            raise ValueError(f"at_size: a row of {nbytes:.0f} bytes is larger than the grid's largest ({8 * largest})")
        if kind == "read":
            return source[:words].max
        half, other = source[: words // 2], target[: words // 2]
        return lambda: other.copy_(half)

    return prepare, 64


REFERENCES = ("read_at_size", "copy_at_size")


def host_us(run, calls: int, warmup: int = 5) -> tuple[float, float]:
    """Median and 90th percentile of the microseconds the host spends in `run` (from the call to its
    return), each call made with the GPU idle. If it exceeds the L2 flush's ~90 us, --no-hide-launch times
    the excess too (benchmarks/host_overhead.py breaks ours down)."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(calls):
        torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        times.append(1e6 * (time.perf_counter() - start))
    torch.cuda.synchronize()
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default="sm80,sm86,sm89")
    parser.add_argument("--dtype", choices=list(DTYPES), default="bf16")
    parser.add_argument("--peers-dir", default=None)
    parser.add_argument("--peers", default="")
    parser.add_argument("--quick", action="store_true", help="only the s_k=8192 fixed-length rows")
    parser.add_argument("--heads", default="", help="only these h_q:s_q rows, e.g. 128:2,64:2")
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1, help="time every row this many times, keep the fastest")
    parser.add_argument("--json", default=None, help="write all numbers here")
    parser.add_argument("--at-size", action="store_true",
                        help="also time a read and a copy of each row's bytes (read_at_size, copy_at_size)")
    parser.add_argument("--l2-flush", choices=L2_FLUSH_MODES, default="write",
                        help="how the L2 is flushed before each launch (default: write, anchors.md's)")
    parser.add_argument("--no-hide-launch", dest="hide_launch", action="store_false",
                        help="start each timed region right after the L2 flush, as anchors.md does (default: a "
                        "~0.5 ms spin kernel first, so that no call's host path falls inside it; run 186)")
    parser.add_argument("--host-us", action="store_true",
                        help="also report each implementation's host time a call (microseconds from the call "
                        "to its return, GPU idle, median and 90th percentile of --iters calls)")
    parser.add_argument("--order", default="",
                        help="comma-separated implementation names to put first in every row, in this order "
                        "(e.g. upstream_bf16,ours_sm90); the rounds then rotate from there")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time each implementation this many times in a row (one after the other, each a median "
                        "of --iters launches) and keep the fastest; rows whose repeats differ by >5%% are listed")
    parser.add_argument("--no-rotate", dest="rotate", action="store_false",
                        help="every round in the same order (default: round r starts each row with implementation r)")
    args = parser.parse_args()

    dtype = DTYPES[args.dtype]
    for spec in filter(None, args.variants.split(",")):
        try:
            parse_variant(spec)
        except ValueError as error:
            parser.error(f"--variants: {error}")
    impls = {f"ours_{v}": (lambda v=v: ours(v)) for v in args.variants.split(",") if v}
    for name in filter(None, args.peers.split(",")):
        impls[name] = lambda name=name: peer(name, args.peers_dir)
    if args.at_size:
        rows = grid(args.quick, args.heads)
        impls["read_at_size"] = lambda: at_size("read", rows)
        impls["copy_at_size"] = lambda: at_size("copy", rows)

    first = [name for name in args.order.split(",") if name]
    unknown = [name for name in first if name not in impls]
    if unknown:
        parser.error(f"--order: unknown implementation(s) {', '.join(unknown)}; expected among {', '.join(impls)}")
    impls = {name: impls[name] for name in first + [n for n in impls if n not in first]}
    if args.repeat < 1:
        parser.error(f"--repeat: expected at least 1, got {args.repeat}")

    bandwidth = copy_bandwidth_gbs()
    tflops_peak = matmul_tflops(dtype=dtype)
    print(f"{torch.cuda.get_device_name()}: copy {bandwidth:.0f} GB/s, {args.dtype} matmul {tflops_peak:.0f} TFLOP/s",
          flush=True)
    ready = {}
    for impl_name, make in impls.items():
        try:
            ready[impl_name] = make()
        except Exception as error:  # a missing peer must not stop the others
            print(f"{impl_name}: unavailable ({error})", flush=True)

    # Row by row, every implementation in turn on the same inputs, --rounds times, each row's fastest
    # time kept: the card's drift (5-10% between calls and within one, run 89) then falls on all alike.
    results = {}
    for round_idx in range(args.rounds):
        for seqlen_k, varlen, h_q, s_q in grid(args.quick, args.heads):
            inputs_by_page = {}
            # Each round starts the row with the next implementation, so that over --rounds >= len(impls)
            # every one takes every place in the row. (Run 129 found no effect of the place on an H100; the
            # scatter is between processes, run 130: compare implementations within one call.)
            order = list(ready.items())
            shift = round_idx % len(order) if args.rotate else 0
            # Every implementation is prepared and checked first (the float32 reference once per row and page
            # size), then all are timed in the same order, so that no timing follows the reference's work directly.
            # (It did not remove run 184's sporadic slow rows in single-round processes: run 185.)
            prepared, reference = {}, {}
            for impl_name, (prepare, page) in order[shift:] + order[:shift]:
                key = (impl_name, seqlen_k, varlen, h_q, s_q)
                if round_idx > 0 and key not in results:
                    continue  # failed in the first round
                case = DecodeCase(BATCH, seqlen_k, h_q, s_q, varlen=varlen, page_block_size=page, dtype=dtype, seed=1234)
                if page not in inputs_by_page:
                    inputs_by_page[page] = make_inputs(case, "cuda")
                inputs = inputs_by_page[page]
                check = None
                try:
                    run = prepare(inputs)
                    if round_idx == 0 and impl_name not in REFERENCES:
                        if page not in reference:
                            reference[page] = reference_decode(inputs)
                        out, lse = run()
                        check = compare(out, lse, *reference[page])
                        del out, lse
                except Exception as error:
                    print(f"{impl_name} {case.label()}: failed ({error})", flush=True)
                    continue
                prepared[impl_name] = (key, inputs, run, check)
            del reference
            for impl_name, (key, inputs, run, check) in prepared.items():
                try:
                    repeats = [time_cuda_ms(run, iters=args.iters, flush_mode=args.l2_flush,
                                            hide_launch=args.hide_launch) for _ in range(args.repeat)]
                    ms = min(repeats)
                    host = host_us(run, args.iters) if args.host_us else None
                except Exception as error:
                    print(f"{impl_name} {key}: failed ({error})", flush=True)
                    continue
                if round_idx == 0:
                    flops, nbytes = decode_flops_and_bytes(inputs)
                    results[key] = {"ms": ms, "flops": flops, "nbytes": nbytes,
                                    "max_abs": check.max_abs if check else None,
                                    "ok": not check.failures if check else True, "ms_rounds": [ms],
                                    "ms_repeats": [repeats], "host_us": host}
                else:
                    results[key]["ms_rounds"].append(ms)
                    results[key]["ms_repeats"].append(repeats)
                    results[key]["ms"] = min(results[key]["ms"], ms)
                    if host:
                        results[key]["host_us"] = [min(a, b) for a, b in zip(results[key]["host_us"], host, strict=True)]
            del prepared
            del inputs_by_page
        print(f"round {round_idx + 1} of {args.rounds}: done", flush=True)
    for r in results.values():
        flops, nbytes = r.pop("flops"), r.pop("nbytes")
        r.update(tflops=flops / r["ms"] / 1e9, gbs=nbytes / r["ms"] / 1e6, pct_copy=100 * nbytes / r["ms"] / 1e6 / bandwidth)

    names = list(dict.fromkeys(k[0] for k in results))
    print(f"\nms (% of copy bandwidth {bandwidth:.0f} GB/s | TFLOP/s); 'x' = accuracy check failed; "
          f"L2 flushed by {args.l2_flush}")
    print(f"{'s_k':>5} {'lens':>6} {'h_q':>4} {'s_q':>3} " + " ".join(f"{n:>22}" for n in names))
    for seqlen_k, varlen, h_q, s_q in grid(args.quick, args.heads):
        cells = []
        for n in names:
            r = results.get((n, seqlen_k, varlen, h_q, s_q))
            if r is None:
                cells.append(f"{'-':>22}")
                continue
            extra = f"{r['pct_copy']:.0f}%" if h_q * s_q <= 64 or n in REFERENCES else f"{r['tflops']:.0f}T"
            cells.append(f"{r['ms']:7.3f} ({extra:>5}){'x' if not r['ok'] else ' ':>1}".rjust(22))
        print(f"{seqlen_k:>5} {'varlen' if varlen else 'fixed':>6} {h_q:>4} {s_q:>3} " + " ".join(cells))
    if len(names) > 1:
        for n in names[1:]:
            # A reference is compared on the memory-bound rows only, where streaming the bytes is the bound.
            rows = [k for k in grid(args.quick, args.heads) if n not in REFERENCES or k[2] * k[3] <= 64]
            ratios = [results[(names[0], *k)]["ms"] / results[(n, *k)]["ms"]
                      for k in rows if (names[0], *k) in results and (n, *k) in results]
            if ratios:
                geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
                scope = " (memory-bound rows)" if n in REFERENCES else ""
                print(f"time {names[0]} / {n}{scope}: geomean {geo:.3f}, min {min(ratios):.3f}, max {max(ratios):.3f}")
    if args.host_us:
        print("\nhost time a call, us (median / 90th percentile of the call's return, GPU idle before each)")
        print(f"{'s_k':>5} {'lens':>6} {'h_q':>4} {'s_q':>3} " + " ".join(f"{n:>22}" for n in names))
        for row in grid(args.quick, args.heads):
            cells = [results.get((n, *row), {}).get("host_us") for n in names]
            print(f"{row[0]:>5} {'varlen' if row[1] else 'fixed':>6} {row[2]:>4} {row[3]:>3} " + " ".join(
                f"{'-':>22}" if c is None else f"{c[0]:.0f} / {c[1]:.0f}".rjust(22) for c in cells))
    if args.repeat > 1:
        uneven = [(k, r["ms_repeats"]) for k, r in results.items()
                  if any(max(reps) > 1.05 * min(reps) for reps in r["ms_repeats"])]
        print(f"rows whose --repeat timings differ by >5%: {len(uneven)} of {len(results)}")
        for (impl_name, *row), reps in uneven:
            print(f"  {impl_name} {row}: " + "; ".join(" ".join(f"{ms:.3f}" for ms in r) for r in reps))
    if args.json:
        Path(args.json).write_text(json.dumps({"device": torch.cuda.get_device_name(), "copy_gbs": bandwidth,
                                               "l2_flush": args.l2_flush, "hide_launch": args.hide_launch,
                                               "matmul_tflops": tflops_peak,
                                               "rows": [dict(zip(("impl", "s_k", "varlen", "h_q", "s_q"), k, strict=True), **v)
                                                        for k, v in results.items()]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
