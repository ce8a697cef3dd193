"""A piece's phases, from `sm90-tile-pairs-piece-timeline.patch`'s output.

    python benchmarks/profile_kernels.py --configs 4096:128:1 [--varlen] --launch-only > tl.txt   # a build with the patch
    python benchmarks/experiments/piece_timeline.py tl.txt [--launches 3]

Threads 0 and 128 (the first of each warpgroup) of the CTAs (0, 0, z), z % 16 == 0, print one `TL` line a piece:
clock64 cycles of its walk (the loop head to the piece in hand), start (its first tiles issued, Q waited for),
first S, loop and epilogue, and the clock at the piece's head, loop end and end (one SM's clock: comparable
between the two threads). The last launch's lines are summarised: each warpgroup's median phases for a CTA's
first piece and for later pieces, and how far apart the two warpgroups end their loops and pieces. With
`sm90-tile-pairs-epilogue-timeline.patch` (the same patch plus `EPI` lines), also the epilogue's steps.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

import stamp_lines  # benchmarks/experiments/, beside this file

PHASES = ("walk", "start", "first_s", "loop", "epi")


def table(rows: list[dict[str, int]]) -> list[str]:
    pieces: dict[int, dict[int, list[dict[str, int]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        pieces[row["z"]][row["tid"]].append(row)
    lines = [f"{'warpgroup':<10}{'pieces':<22}{'n':>4}" + "".join(f"{phase:>9}" for phase in PHASES) + f"{'a tile':>9}"]
    for tid in (0, 128):
        for name, first in (("a CTA's first", True), ("later", False)):
            group = [row for by_tid in pieces.values() for k, row in enumerate(by_tid.get(tid, [])) if (k == 0) == first]
            if not group:
                continue
            per_tile = [row["loop"] / row["tiles"] for row in group if row["tiles"] > 4]
            lines.append(f"{tid // 128:<10}{name:<22}{len(group):>4}" +
                         "".join(f"{statistics.median(row[phase] for row in group):>9.0f}" for phase in PHASES) +
                         (f"{statistics.median(per_tile):>9.0f}" if per_tile else f"{'':>9}"))
    pairs = [(a, b) for by_tid in pieces.values()
             for k, (a, b) in enumerate(zip(by_tid.get(0, []), by_tid.get(128, []), strict=False)) if k > 0]
    if pairs:
        loop_gap = statistics.median(b["loop_end_abs"] - a["loop_end_abs"] for a, b in pairs)
        end_gap = statistics.median(b["end_abs"] - a["end_abs"] for a, b in pairs)
        lines.append(f"later pieces: warpgroup 1 ends its loop {loop_gap:.0f} cycles and its piece {end_gap:.0f} cycles "
                     "after warpgroup 0 (median; negative: before)")
    return lines


EPILOGUE_STEPS = ("sync", "stats", "stage", "bar", "issue", "wait")


def epilogue_table(rows: list[dict[str, int]]) -> list[str]:
    """`sm90-tile-pairs-epilogue-timeline.patch`'s EPI lines: each warpgroup's median cycles of the epilogue's
    steps (the piece barrier, the row statistics, staging O, the fence and warpgroup barrier, issuing the row
    copies, waiting for their reads), final and split pieces apart (a split piece's steps stage..issue are one)."""
    lines = [f"{'warpgroup':<10}{'pieces':<8}{'n':>4}" + "".join(f"{step:>8}" for step in EPILOGUE_STEPS)]
    for tid in (0, 128):
        for name, split in (("final", 0), ("split", 1)):
            group = [row for row in rows if row["tid"] == tid and row["split"] == split]
            if group:
                lines.append(f"{tid // 128:<10}{name:<8}{len(group):>4}" +
                             "".join(f"{statistics.median(row[step] for row in group):>8.0f}" for step in EPILOGUE_STEPS))
    return lines


def both_tables(text: str, launches: int) -> list[str]:
    lines = table(stamp_lines.parse(text, "TL", launches))
    epilogue = stamp_lines.parse(text, "EPI", launches)
    return lines + (["", *epilogue_table(epilogue)] if epilogue else [])


if __name__ == "__main__":
    stamp_lines.main(__doc__, "TL", table, whole=both_tables)
