"""Model a dynamic tail for the split-KV schedule before building one (benchmarks/NOTES.md, run 192).

    python benchmarks/tail_pool_model.py [--configs 4096:16:1,8192:16:1,4096:128:1] [--trials 50]

Today each SM part walks a static share (tests/scheduler_reference.py), and the kernel ends with its slowest
part. Run 174 timed why shares end apart: a column-split CTA streams a tile in 2.88-3.12 us depending on its SM
(+-5%, stable within a launch, run 175), every piece boundary costs it ~5 us, and fixed-length grids leave 4 of
132 SMs idle. A pool would hold back the batch's last sequences (a fraction of the tiles), cut into chunks of a
few tiles, each with its split slot fixed in advance, and every part would take chunks from it once its static
share is done (an atomic counter a call). This prints, for each pool fraction and chunk size, the modelled
kernel time over today's, mean over --trials draws of the SMs' rates: a part's time is its start, then per
piece its tiles at its SM's rate plus the boundary, then per chunk the same plus --split-us (a chunk's fp32
partials and its share of the combine).
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from schedule_model import BATCH, benchmark_draw, num_parts  # noqa: E402
from scheduler_reference import num_blocks, part_pieces, schedule  # noqa: E402

# Run 174 (4096/16/1, column split) and run 190 (piece sweep): us a tile at the mean SM rate, us a piece.
COLUMN_SPLIT = {"tile_us": 3.03, "piece_us": 5.0, "fixed_cost": 4}
TILE_PAIRS = {"tile_us": 1.74, "piece_us": 11.7, "fixed_cost": 6}


def split_pool(seqlens: list[int], fraction: float, chunk_tiles: int) -> tuple[list[int], list[int]]:
    """(the static sequences, the pool's chunk sizes in tiles): the last sequences of the batch whose tiles add
    up to at most `fraction` of all tiles go to the pool, cut into chunks of chunk_tiles (the last one shorter)."""
    budget = fraction * sum(num_blocks(s) for s in seqlens)
    keep = len(seqlens)
    pooled = 0
    while keep > 0 and pooled + num_blocks(seqlens[keep - 1]) <= budget:
        keep -= 1
        pooled += num_blocks(seqlens[keep])
    chunks = []
    for s in seqlens[keep:]:
        tiles = num_blocks(s)
        chunks += [min(chunk_tiles, tiles - t) for t in range(0, tiles, chunk_tiles)]
    return seqlens[:keep], chunks


def kernel_us(seqlens: list[int], parts: int, rates: list[float], fraction: float, chunk_tiles: int,
              kernel: dict, start_us: float, split_us: float) -> float:
    """The modelled time of one launch: the slowest part's end (module doc). rates[p] scales part p's tiles."""
    static, chunks = split_pool(seqlens, fraction, chunk_tiles)
    ends = [start_us] * parts
    if static:
        rows, _ = schedule(static, parts, kernel["fixed_cost"])
        for p, row in enumerate(rows):
            for _, first, end in part_pieces(row, static):
                ends[p] += (end - first) * kernel["tile_us"] * rates[p] + kernel["piece_us"]
    free = [(end, p) for p, end in enumerate(ends)]
    heapq.heapify(free)
    for tiles in chunks:  # the part that is free first takes the next chunk
        end, p = heapq.heappop(free)
        heapq.heappush(free, (end + tiles * kernel["tile_us"] * rates[p] + kernel["piece_us"] + split_us, p))
    return max(end for end, _ in free)


def model(config: str, fractions: list[float], chunk_sizes: list[int], trials: int, sm_count: int, spread: float,
          start_us: float, split_us: float, varlen: bool) -> list[str]:
    seqlen_k, h_q, s_q = (int(x) for x in config.split(":"))
    rows = h_q * s_q
    kernel = COLUMN_SPLIT if rows <= 64 else TILE_PAIRS
    parts = num_parts(rows, sm_count)
    seqlens = benchmark_draw(seqlen_k) if varlen else [seqlen_k] * BATCH
    rng = random.Random(0)
    draws = [[1 + rng.uniform(-spread, spread) for _ in range(parts)] for _ in range(trials)]
    today = [kernel_us(seqlens, parts, rates, 0.0, 1, kernel, start_us, split_us) for rates in draws]
    lines = [f"{config} {'varlen' if varlen else 'fixed'} ({parts} parts): today {statistics.mean(today):.1f} us; "
             f"with a pool, time / today's (mean of {trials} rate draws)"]
    for fraction in fractions:
        cells = []
        for chunk in chunk_sizes:
            ratios = [kernel_us(seqlens, parts, rates, fraction, chunk, kernel, start_us, split_us) / base
                      for rates, base in zip(draws, today, strict=True)]
            cells.append(f"{chunk} tiles {statistics.mean(ratios):.3f}")
        lines.append(f"  pool {fraction:4.0%}: " + "  ".join(cells))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="4096:16:1,8192:16:1,4096:64:1,4096:128:1")
    parser.add_argument("--fractions", default="0.03,0.06,0.1")
    parser.add_argument("--chunks", default="2,4,8")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--sm-count", type=int, default=132)
    parser.add_argument("--spread", type=float, default=0.05, help="SM rates uniform in 1 +- this (run 175)")
    parser.add_argument("--start-us", type=float, default=7.4, help="until a CTA's first tile is in (run 174)")
    parser.add_argument("--split-us", type=float, default=0.5, help="a chunk's partials and combine share")
    args = parser.parse_args()
    fractions = [float(f) for f in args.fractions.split(",")]
    chunks = [int(c) for c in args.chunks.split(",")]
    for config in args.configs.split(","):
        for varlen in (False, True):
            print("\n".join(model(config, fractions, chunks, args.trials, args.sm_count, args.spread,
                                  args.start_us, args.split_us, varlen)))


if __name__ == "__main__":
    main()
