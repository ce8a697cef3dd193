"""The table of benchmarks/device_session.sh's `abncu` step: each build's decode-kernel durations under Nsight
Compute (clocks locked, caches flushed before each launch), from `ncu --csv --metrics gpu__time_duration.sum`
output, and the tree's time over each other build's.

    python benchmarks/ncu_ab_table.py "/tmp/out/ncu_ab_{name}_{i}.csv" 2 4096:16:1,4096:128:2 new main [upstream]
        [--fold-combine]

The pattern names one ncu run's output by build (`{name}`) and round (`{i}`, 1..ROUNDS); every run timed the
same calls of each config in turn (profile_kernels.py --launch-only: 3 a config), so the k-th share of a run's
durations belongs to the k-th config. With --fold-combine a kernel whose name holds "combine" is one call's
split combine (`NCU_AB_WITH_COMBINE=1`): its time is added to the decode launch before it (a build without a
combine kernel just has none). The first build is the tree. Under locked clocks a build's launches of one
config spread by ~1% (runs 148-149), against 15-30% between processes in the benchmark on a noisy device:
this is the A/B for changes of a few tenths of a percent.
"""

from __future__ import annotations

import csv
import statistics
import sys

_TO_US = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3}


def durations_us(lines: list[str], fold_combine: bool = False) -> list[float]:
    """Every gpu__time_duration.sum in ncu's CSV (other lines of the run's output are skipped), in us; with
    fold_combine a combine kernel's added to the launch before it."""
    values: list[float] = []
    for r in csv.DictReader(line for line in lines if line.startswith('"')):
        if r.get("Metric Name") != "gpu__time_duration.sum":
            continue
        us = float(r["Metric Value"].replace(",", "")) * _TO_US[r["Metric Unit"]]
        if fold_combine and "combine" in r["Kernel Name"] and values:
            values[-1] += us
        else:
            values.append(us)
    return values


def per_config(pattern: str, rounds: int, name: str, configs: list[str], fold_combine: bool = False) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {c: [] for c in configs}
    for i in range(1, rounds + 1):
        try:
            with open(pattern.format(name=name, i=i)) as f:
                values = durations_us(f.readlines(), fold_combine)
        except FileNotFoundError:
            continue
        if len(values) % len(configs):
            raise ValueError(f"{pattern.format(name=name, i=i)}: {len(values)} calls for {len(configs)} configs")
        per = len(values) // len(configs)
        for k, config in enumerate(configs):
            times[config] += values[k * per:(k + 1) * per]
    return times


def table(pattern: str, rounds: int, configs: list[str], names: list[str], fold_combine: bool = False) -> list[str]:
    times = {n: per_config(pattern, rounds, n, configs, fold_combine) for n in names}
    med = {n: {c: statistics.median(v) for c, v in t.items() if v} for n, t in times.items()}
    lines = ["config      " + "".join(f"{n[:12]:>22}" for n in names) + "   us: median [min-max]"]
    for c in configs:
        cells = [f"{med[n][c]:7.1f} [{min(times[n][c]):.1f}-{max(times[n][c]):.1f}]" if c in med[n] else "-"
                 for n in names]
        lines.append(f"{c:11} " + "".join(f"{x:>22}" for x in cells))
    tree = names[0]
    for other in names[1:]:
        ratios = [med[tree][c] / med[other][c] for c in configs if c in med[tree] and c in med[other]]
        lines.append(f"{tree}/{other}: " + " ".join(f"{r:.4f}" for r in ratios))
    return lines


def main(argv: list[str]) -> int:
    fold_combine = "--fold-combine" in argv
    argv = [a for a in argv if a != "--fold-combine"]
    if len(argv) < 5:
        usage = next(line.strip() for line in __doc__.splitlines() if "python benchmarks/" in line)
        print(f"usage: {usage}", file=sys.stderr)
        return 2
    pattern, rounds, configs, names = argv[1], int(argv[2]), argv[3].split(","), argv[4:]
    print("\n".join(table(pattern, rounds, configs, names, fold_combine)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
