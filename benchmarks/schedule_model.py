"""Predict how the tile scheduler's fixed cost a sequence moves a decode call's critical path, before a
device call measures it (benchmarks/NOTES.md, runs 153-155 and session 18's plan).

    python benchmarks/schedule_model.py --configs 4096:16:1,4096:128:2 --costs 0,1,2,4,6 [--draws 30]

For each config (s_k:h_q:s_q, b=128, h_kv=1, as the benchmark grid) and each fixed cost, the scheduler's
Python mirror (tests/scheduler_reference.py) lays out the parts, and each part's time is modelled in
schedule blocks (64 tokens): its blocks plus a piece cost a piece it walks. The slowest part is the
kernel's critical path. Printed: that makespan for the fixed lengths, for the benchmark's own varlen draw
(uniform in [s_k/2, s_k], seed 1234, as bench_decode.py and profile_kernels.py draw it), and its mean over
--draws other draws; and the extra split slots (fp32 partials the combine reads). The model leaves the
split's cost out, and the piece costs are fits: a tile-pair piece ~6 blocks at 128 rows and ~4.3 at 256
(run 153), a column-split piece ~0.5-1 (run 155's slope over fixed costs 4-8 on 4096/16/1 varlen).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from scheduler_reference import part_pieces, schedule  # noqa: E402

BATCH = 128
BLOCK_M = 64  # the sm90 kernels' rows a CTA


def default_piece_blocks(rows: int) -> float:
    """A piece's cost in schedule blocks by query rows a KV head (the fits named in the module's doc)."""
    if rows <= BLOCK_M:
        return 1.0
    return 6.0 if rows <= 2 * BLOCK_M else 4.3


def num_parts(rows: int, sm_count: int, ctas_per_sm: int = 1) -> int:
    """flash_mla.ops.num_sm_parts for h_kv = 1: one CTA column a part, ceil(rows / 64) CTAs a column."""
    return max(1, sm_count * ctas_per_sm // -(-rows // BLOCK_M))


def makespan(seqlens: list[int], parts: int, fixed_cost: int, piece_blocks: float) -> tuple[float, int]:
    """(the slowest part's blocks plus its pieces' cost, split slots beyond one a sequence)."""
    rows, prefix = schedule(seqlens, parts, fixed_cost)
    times = [sum(piece_blocks + end - first for _, first, end in part_pieces(row, seqlens)) for row in rows]
    return max(times), prefix[-1] - len(seqlens)


def varlen_draw(seqlen_k: int, rng: random.Random) -> list[int]:
    return [rng.randint(seqlen_k // 2, seqlen_k) for _ in range(BATCH)]


def benchmark_draw(seqlen_k: int) -> list[int]:
    """The varlen lengths the benchmark and profile_kernels.py time (tests/mla_reference.py, seed 1234)."""
    import torch
    from mla_reference import DecodeCase, make_seqlens

    case = DecodeCase(BATCH, seqlen_k, 16, 1, varlen=True, seed=1234)
    return make_seqlens(case, torch.Generator().manual_seed(case.seed)).tolist()


def model_rows(config: str, costs: list[int], draws: int, sm_count: int, piece_blocks: float | None,
               with_benchmark_draw: bool = True) -> list[str]:
    seqlen_k, h_q, s_q = (int(x) for x in config.split(":"))
    rows = h_q * s_q
    piece = default_piece_blocks(rows) if piece_blocks is None else piece_blocks
    parts = num_parts(rows, sm_count)
    fixed = [makespan([seqlen_k] * BATCH, parts, c, piece) for c in costs]
    bench_lengths = benchmark_draw(seqlen_k) if with_benchmark_draw else None
    bench = [makespan(bench_lengths, parts, c, piece) for c in costs] if bench_lengths is not None else None
    means = [statistics.mean(makespan(varlen_draw(seqlen_k, random.Random(seed)), parts, c, piece)[0]
                             for seed in range(draws)) for c in costs]
    lines = [f"{config} ({parts} parts, a piece {piece:g} blocks): critical part in blocks, / cost {costs[0]}'s"]
    for k, cost in enumerate(costs):
        cells = [f"fixed {fixed[k][0]:6.1f} ({fixed[k][0] / fixed[0][0]:.3f}, +{fixed[k][1]} splits)"]
        if bench is not None:
            cells.append(f"varlen draw {bench[k][0]:6.1f} ({bench[k][0] / bench[0][0]:.3f}, +{bench[k][1]})")
        cells.append(f"{draws} draws {means[k]:6.1f} ({means[k] / means[0]:.3f})")
        lines.append(f"  cost {cost}: " + "  ".join(cells))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="4096:16:1,8192:16:1,4096:128:1,4096:128:2")
    parser.add_argument("--costs", default="4,0,1,2,3,5,6")
    parser.add_argument("--draws", type=int, default=30)
    parser.add_argument("--sm-count", type=int, default=132, help="the GPU's SMs (H100 SXM: 132)")
    parser.add_argument("--piece-blocks", type=float, default=None, help="a piece's cost (default: by rows)")
    args = parser.parse_args()
    costs = [int(c) for c in args.costs.split(",")]
    for config in args.configs.split(","):
        print("\n".join(model_rows(config, costs, args.draws, args.sm_count, args.piece_blocks)))


if __name__ == "__main__":
    main()
