"""Where a kernel's warps wait, from Nsight Compute's source page (SASS with warp-stall samples).

    python benchmarks/ncu_hotspots.py hot_ours90_8192_128_2_sass.csv.gz [more.csv.gz] [--top 25] [--context 0]

The files come from `STEPS=hotspots bash benchmarks/device_session.sh` (ncu --page source --csv
--print-source sass, gzipped). For each file it prints the stall reasons' shares of all samples, the
samples by opcode (HGMMA, BAR, SYNCS, LDS, ...), and the instructions with the most samples with their
two largest reasons, so two kernels' profiles can be read side by side.
"""

from __future__ import annotations

import argparse
import collections
import csv
import gzip
import io
import re


def read_rows(path: str) -> tuple[str, list[dict]]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        text = f.read()
    lines = text.splitlines()
    kernel = next(csv.reader([lines[0]]))[1] if lines and lines[0].startswith('"Kernel Name"') else "?"
    body = "\n".join(lines[1:] if kernel != "?" else lines)
    return kernel, list(csv.DictReader(io.StringIO(body)))


def opcode(source: str) -> str:
    words = source.split()
    if words and words[0].startswith("@"):
        words = words[1:]
    return words[0].split(".")[0] if words else "?"


def number(value: str) -> float:
    try:
        return float(value.replace(",", ""))
    except ValueError:
        return 0.0


def report(path: str, top: int, context: int) -> None:
    kernel, rows = read_rows(path)
    reasons = [k for k in rows[0] if re.fullmatch(r"stall_\w+", k)]
    total = sum(number(r["Warp Stall Sampling (All Samples)"]) for r in rows)
    issued = sum(number(r["Instructions Executed"]) for r in rows)
    print(f"== {path}\n   {kernel[:150]}\n   {len(rows)} instructions, {total:.0f} samples, "
          f"{issued:.0f} warp instructions executed")
    by_reason = {k: sum(number(r[k]) for r in rows) for k in reasons}
    print("   stall reasons (% of samples): " + ", ".join(
        f"{k[6:]} {100 * v / total:.1f}" for k, v in sorted(by_reason.items(), key=lambda kv: -kv[1]) if v / total >= 0.005))
    by_op = collections.Counter()
    for r in rows:
        by_op[opcode(r["Source"])] += number(r["Warp Stall Sampling (All Samples)"])
    print("   samples by opcode (%): " + ", ".join(
        f"{op} {100 * v / total:.1f}" for op, v in by_op.most_common(14)))
    ranked = sorted(range(len(rows)), key=lambda i: -number(rows[i]["Warp Stall Sampling (All Samples)"]))
    print(f"   top {top} instructions (index: samples %, executed, top reasons):")
    for i in ranked[:top]:
        r = rows[i]
        samples = number(r["Warp Stall Sampling (All Samples)"])
        top_reasons = sorted(((number(r[k]), k[6:]) for k in reasons), reverse=True)[:2]
        why = ", ".join(f"{name} {100 * v / samples:.0f}%" for v, name in top_reasons if v)
        for j in range(max(0, i - context), i):
            print(f"      {j:5d}                                   {rows[j]['Source'].strip()[:90]}")
        print(f"   {i:5d}: {100 * samples / total:5.2f}% {number(r['Instructions Executed']):>9.0f}  "
              f"{r['Source'].strip()[:70]:<70}  {why}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--context", type=int, default=0, help="instructions to show before each hotspot")
    args = parser.parse_args()
    for path in args.files:
        report(path, args.top, args.context)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
