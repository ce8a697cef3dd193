"""The A/B table of benchmarks/device_session.sh's `ab` and `abi` steps: each build's bench_decode.py
JSON runs, each row's fastest time per build, and the tree's time over each baseline's.

    python benchmarks/ab_table.py "/tmp/abi/{name}.{i}.json" 3 new ab_base [ab_other ...]

The pattern names one run's JSON file by build (`{name}`) and round (`{i}`, 1..REPEAT); the first build is
the tree ("new"), the others its baselines. The "spread" column is the tree's slowest round over its
fastest: how far one round alone could have misled on that row.
"""

from __future__ import annotations

import json
import math
import sys

Key = tuple  # (impl, s_k, varlen, h_q, s_q)


def row_key(row: dict) -> Key:
    return (row["impl"], row["s_k"], row["varlen"], row["h_q"], row["s_q"])


def load_rounds(pattern: str, name: str, repeat: int) -> dict[Key, list[float]]:
    """Every round's ms of each row of build `name`."""
    times: dict[Key, list[float]] = {}
    for i in range(1, repeat + 1):
        with open(pattern.format(name=name, i=i)) as f:
            for row in json.load(f)["rows"]:
                times.setdefault(row_key(row), []).append(row["ms"])
    return times


def table(pattern: str, repeat: int, names: list[str]) -> list[str]:
    rounds = {n: load_rounds(pattern, n, repeat) for n in names}
    best = {n: {k: min(v) for k, v in t.items()} for n, t in rounds.items()}
    tree, baselines = names[0], names[1:]
    lines = ["  impl        s_k   lens  h_q s_q   new ms (spread) " +
             " ".join(f"{n[:10]:>10} new/{n[:6]:<6}" for n in baselines)]
    logs: dict[str, list[float]] = {n: [] for n in baselines}
    for k, ms in best[tree].items():
        spread = max(rounds[tree][k]) / ms
        cells = []
        for n in baselines:
            base = best[n].get(k)
            if base:
                logs[n].append(math.log(ms / base))
                cells.append(f"{base:10.3f} {ms / base:10.3f}")
        lines.append(f"  {k[0]:<10} {k[1]:>5} {'varlen' if k[2] else 'fixed':>6} {k[3]:>4} {k[4]:>3} {ms:8.3f} "
                     f"({spread:5.3f}) " + " ".join(cells))
    for n in baselines:
        if logs[n]:
            lines.append(f"time new / {n}: geomean {math.exp(sum(logs[n]) / len(logs[n])):.3f}, "
                         f"min {math.exp(min(logs[n])):.3f}, max {math.exp(max(logs[n])):.3f}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    print("\n".join(table(argv[1], int(argv[2]), argv[3:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
