"""Where a column-split grid's time goes, from `sm90-column-split-grid-timeline.patch`'s output.

    python benchmarks/profile_kernels.py --configs 4096:16:1 [--varlen] --launch-only > cs.txt   # a build with the patch
    python benchmarks/experiments/grid_timeline.py cs.txt [--launches 3]

Every CTA prints one `CS` line a launch: its start (t0, %globaltimer ns, one clock for every SM), and from there
the producer's first and last tile issue (p0, plast), and for each of its first three pieces k the piece's start
(sk), Q ready (qk), first tile landed (fk), loop end (lk), end (ek) and tiles (nk), and its exit. The last
launch's lines give the grid's span, how late the CTAs start and leave, each piece's phases, and the time a CTA
holds no tile: before its first tile lands, between a piece's loop end and the next piece's first tile, and
after it leaves while others still run.
"""

from __future__ import annotations

import statistics

import stamp_lines  # benchmarks/experiments/, beside this file


def spread(values: list[float]) -> str:
    values = sorted(values)
    return f"{values[0]:7.2f} {statistics.median(values):7.2f} {values[-1]:7.2f}"


def table(rows: list[dict[str, int]]) -> list[str]:
    if not rows:
        return ["no CS lines"]
    start = min(row["t0"] for row in rows)
    end = max(row["t0"] + row["exit"] for row in rows)
    span = (end - start) / 1000
    us = 1 / 1000
    lines = [f"{len(rows)} CTAs, span {span:.1f} us (first start to last exit)",
             f"{'(us)':<36}{'min':>7} {'median':>7} {'max':>7}",
             f"{'start after the first CTA':<36}" + spread([(row["t0"] - start) * us for row in rows]),
             f"{'producer first issue':<36}" + spread([row["p0"] * us for row in rows]),
             f"{'first tile landed':<36}" + spread([row["f0"] * us for row in rows]),
             f"{'producer last issue':<36}" + spread([row["plast"] * us for row in rows]),
             f"{'exit after the first CTA start':<36}" + spread([(row["t0"] + row["exit"] - start) * us for row in rows]),
             f"{'waiting for the last CTA':<36}" + spread([(end - row["t0"] - row["exit"]) * us for row in rows])]
    for k in range(3):
        group = [row for row in rows if row["pieces"] > k]
        if not group:
            break
        lines.append(f"piece {k} ({len(group)} CTAs, tiles {min(r[f'n{k}'] for r in group)}-{max(r[f'n{k}'] for r in group)}):")
        lines.append(f"{'  Q ready after its start':<36}" + spread([(r[f"q{k}"] - r[f"s{k}"]) * us for r in group]))
        lines.append(f"{'  first tile after Q':<36}" + spread([(r[f"f{k}"] - r[f"q{k}"]) * us for r in group]))
        lines.append(f"{'  a tile (loop / tiles)':<36}" + spread([(r[f"l{k}"] - r[f"f{k}"]) * us / max(1, r[f"n{k}"])
                                                                    for r in group]))
        lines.append(f"{'  epilogue':<36}" + spread([(r[f"e{k}"] - r[f"l{k}"]) * us for r in group]))
    idle = []
    for row in rows:
        held = 0
        for k in range(min(3, row["pieces"])):
            held += row[f"l{k}"] - row[f"f{k}"]
        idle.append(span - held * us)
    lines.append(f"{'no tile in hand (span - loops)':<36}" + spread(idle) +
                 f"   (median {100 * statistics.median(idle) / span:.1f}% of the span)")
    return lines


if __name__ == "__main__":
    stamp_lines.main(__doc__, "CS", table)
