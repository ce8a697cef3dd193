"""The tile-pair grid's timeline after each L2 flush mode, from `sm90-tile-pairs-light-timeline.patch`.

    FLASH_MLA_LIGHT_DUMP=1 python benchmarks/experiments/flush_timeline.py --run --config 4096:128:1 > tp.txt  # patched build
    python benchmarks/experiments/flush_timeline.py tp.txt

--run times nothing: it makes ours' sm90 decode call on the config (b=128, page 64, causal, fixed lengths), then
calls it `--calls` times after each flush mode in turn (zeroing, reading, zeroing, reading; tests/timing.py's
flush and spin kernel first, as the benchmark does), and prints `MARK mode i` after each call. The patched build
prints one `TPS` line a CTA after each decode grid: %globaltimer (ns, one clock for every SM) at its entry, once
the preceding grid is done (ready), at the end of each piece (p0..p3, slot batch_idx % 4; a slot outside the
CTA's entry..end is a stale one from an earlier launch) and at its end. The table gives, for each call, in us
from the first CTA's `ready`: the latest ready, the first piece's end (median and latest CTA), the CTAs' ends
(median and latest: the span), and the medians of each flush mode's calls. Run 205 (benchmarks/NOTES.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import stamp_lines  # benchmarks/experiments/, beside this file


def parse_calls(text: str) -> list[tuple[str, list[dict[str, int]]]]:
    """Each call's flush mode and TPS lines (the lines before its `MARK mode i`)."""
    calls, current = [], []
    for line in text.splitlines():
        if line.startswith("TPS "):
            current.append(stamp_lines.fields(line))
        elif line.startswith("MARK "):
            calls.append((line.split()[1], current))
            current = []
    return calls


def call_row(rows: list[dict[str, int]]) -> tuple[float, ...]:
    """us from the first ready: latest ready, first piece end (median, latest), end (median, latest)."""
    t0 = min(row["ready"] for row in rows)
    first_ends = []
    for row in rows:
        ends = sorted(row[f"p{k}"] for k in range(4) if row["ready"] <= row[f"p{k}"] <= row["end"])
        if ends:
            first_ends.append(ends[0] - t0)
    ends = [row["end"] - t0 for row in rows]
    first_ends = first_ends or [0]
    ns = (max(row["ready"] for row in rows) - t0, statistics.median(first_ends), max(first_ends),
          statistics.median(ends), max(ends))
    return tuple(value / 1e3 for value in ns)


def table(text: str) -> list[str]:
    lines = ["mode   ctas  ready (latest)  first piece end (median, latest)  end (median, latest = span)"]
    per_mode: dict[str, list[tuple[float, ...]]] = {}
    for mode, rows in parse_calls(text):
        if mode == "warmup" or not rows:
            continue
        row = call_row(rows)
        per_mode.setdefault(mode, []).append(row)
        lines.append(f"{mode:6} {len(rows):4d} {row[0]:14.1f} {row[1]:17.1f} {row[2]:8.1f} {row[3]:19.1f} {row[4]:8.1f}")
    for mode, rows in per_mode.items():
        medians = [statistics.median(row[i] for row in rows) for i in range(5)]
        lines.append(f"median {mode}: " + " ".join(f"{value:.1f}" for value in medians))
    return lines


def run(config: str, calls: int) -> None:
    import torch

    root = Path(__file__).resolve().parents[2]
    sys.path[:0] = [str(root / "tests"), str(root / "benchmarks")]
    import bench_decode
    from mla_reference import DecodeCase, make_inputs
    from timing import HIDE_LAUNCH_CYCLES, l2_flush

    s_k, h_q, s_q = map(int, config.split(":"))
    call = bench_decode.ours("sm90")[0](make_inputs(DecodeCase(128, s_k, h_q, s_q, seed=1234), "cuda"))
    for _ in range(2):
        call()
    torch.cuda.synchronize()
    print("MARK warmup 0", flush=True)
    for mode in ("write", "read", "write", "read"):
        flush = l2_flush(mode)
        for i in range(calls):
            flush()
            torch.cuda._sleep(HIDE_LAUNCH_CYCLES)
            call()
            torch.cuda.synchronize()  # the dump kernel's printf lines come out here, before the mark
            print(f"MARK {mode} {i}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="a file of --run's output")
    parser.add_argument("--run", action="store_true", help="run the calls on the GPU (a build with the patch)")
    parser.add_argument("--config", default="4096:128:1", help="s_k:h_q:s_q")
    parser.add_argument("--calls", type=int, default=4, help="calls after each flush mode, each round")
    args = parser.parse_args()
    if args.run:
        run(args.config, args.calls)
    elif args.path:
        with open(args.path) as f:
            print("\n".join(table(f.read())))
    else:
        parser.error("give a file of --run's output, or --run")


if __name__ == "__main__":
    main()
