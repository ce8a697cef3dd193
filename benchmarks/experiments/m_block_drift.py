"""How far apart a part's m_block CTAs run: the table of `sm90-tile-pairs-m-block-drift.patch`'s output.

    python benchmarks/profile_kernels.py --configs 4096:128:1 --launch-only > drift.txt   # on a build with the patch
    python benchmarks/experiments/m_block_drift.py drift.txt [--launches 3]

Each CTA (0..1, 0, z) with z % 4 == 0 prints one `DRIFT` line a launch: its first piece's start (%globaltimer,
ns, one clock for every SM) and the time from there to the start of pair steps 0, 4, .., 28 and to the piece's
end. The last launch's lines are compared, m_block 1 against m_block 0 of the same part (run 159: within
0-64 ns at every step, so the two CTAs ask for each tile together).
"""

from __future__ import annotations

import statistics
from collections import defaultdict

import stamp_lines  # benchmarks/experiments/, beside this file

STAMPS = ("p0", "p4", "p8", "p12", "p16", "p20", "p24", "p28", "end")


def table(rows: list[dict[str, int]]) -> list[str]:
    by_part: dict[int, dict[int, dict[str, int]]] = defaultdict(dict)
    for row in rows:
        by_part[row["z"]][row["m"]] = row
    pairs = [(ctas[0], ctas[1]) for ctas in by_part.values() if 0 in ctas and 1 in ctas and ctas[0]["tiles"] == ctas[1]["tiles"]]
    lines = [f"{len(pairs)} parts with both m_blocks; first pieces of {sorted({a['tiles'] for a, _ in pairs})} tiles",
             f"{'stamp':>6} {'median |m1 - m0| ns':>20} {'p90':>8} {'max':>8} {'m1 later':>9} {'m0 since start us':>18}"]
    for stamp in STAMPS:
        diffs = [(b["t0"] + b[stamp]) - (a["t0"] + a[stamp]) for a, b in pairs]
        if not diffs:
            continue
        gaps = sorted(abs(d) for d in diffs)
        since = statistics.median(a[stamp] for a, _ in pairs) / 1000
        lines.append(f"{stamp:>6} {statistics.median(gaps):>20.0f} {gaps[int(0.9 * (len(gaps) - 1))]:>8} {gaps[-1]:>8} "
                     f"{sum(d > 0 for d in diffs) / len(diffs):>9.2f} {since:>18.1f}")
    return lines


if __name__ == "__main__":
    stamp_lines.main(__doc__, "DRIFT", table)
