"""Are a column-split grid's slow SMs always the same? From `sm90-column-split-grid-timeline.patch`'s `CS` lines.

    python benchmarks/profile_kernels.py --configs 4096:16:1 --launch-only > a.txt   # a build with the patch; repeat
    python benchmarks/experiments/sm_rates.py a.txt b.txt ...

Each file holds 3 launches. For every launch, each SM's microseconds a tile over its CTA's first piece (CTAs with
one piece of more than 8 tiles); then the rank correlation of those rates between the first launch and every
other one (1: the same SMs are slow each time), and the slowest and fastest SMs by their mean.
"""

from __future__ import annotations

import statistics
import sys

import stamp_lines  # benchmarks/experiments/, beside this file


def launch_rates(text: str, launches: int = 3) -> list[dict[int, float]]:
    """Each launch's {SM: us a tile}."""
    return [{row["sm"]: (row["l0"] - row["f0"]) / row["n0"] / 1000 for row in rows if row["pieces"] == 1 and row["n0"] > 8}
            for rows in stamp_lines.parse_launches(text, "CS", launches)]


def rank_correlation(a: dict[int, float], b: dict[int, float]) -> float:
    """Spearman's rank correlation over the SMs both launches used (no ties expected)."""
    common = sorted(set(a) & set(b))
    n = len(common)
    rank_a = {sm: i for i, sm in enumerate(sorted(common, key=a.get))}
    rank_b = {sm: i for i, sm in enumerate(sorted(common, key=b.get))}
    return 1 - 6 * sum((rank_a[sm] - rank_b[sm]) ** 2 for sm in common) / (n * (n * n - 1))


def table(runs: list[dict[int, float]]) -> list[str]:
    common = set.intersection(*(set(run) for run in runs))
    lines = [f"{len(runs)} launches, {len(common)} SMs in all"]
    lines += [f"launch 0 vs {i}: rank correlation of us a tile {rank_correlation(runs[0], run):.2f}"
              for i, run in enumerate(runs[1:], 1)]
    mean = {sm: statistics.mean(run[sm] for run in runs) for sm in common}
    order = sorted(common, key=lambda sm: -mean[sm])
    lines.append("slowest SMs (mean us a tile): " + " ".join(f"{sm}:{mean[sm]:.3f}" for sm in order[:10]))
    lines.append("fastest SMs: " + " ".join(f"{sm}:{mean[sm]:.3f}" for sm in order[-10:]))
    values = sorted(mean.values())
    lines.append(f"means: min {values[0]:.3f}, median {statistics.median(values):.3f}, max {values[-1]:.3f}")
    return lines


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    runs = [rates for path in sys.argv[1:] for rates in launch_rates(open(path).read())]
    print("\n".join(table(runs)))
