"""Two kernels' launches side by side from Nsight Compute's text output (one launch each): every scalar
metric with the ratio, then the executed instructions by opcode with the difference.

    python benchmarks/ncu_mix_table.py /tmp/out/ncumix_ours.txt /tmp/out/ncumix_upstream.txt [--top 30]

The files come from `STEPS=ncumix bash benchmarks/device_session.sh` (ncu --metrics ...,
sass__inst_executed_per_opcode --print-metric-instances details). Run 157 read it this way: ours executes a
quarter fewer instructions than upstream at 4096/128/1 but moves a third more L2 sectors.
"""

from __future__ import annotations

import argparse
import re

_SCALAR = re.compile(r"^\s+([a-z0-9_]+__[A-Za-z0-9_.]+)\s+(?:\S+\s+)?([\d,.]+)\s*$")
_OPCODE = re.compile(r"([A-Z][A-Z0-9_]*): ([\d,]+)")
_PER_OPCODE = "sass__inst_executed_per_opcode"


def parse(text: str) -> tuple[dict[str, float], dict[str, int]]:
    """(scalar metrics by name, executed instructions by opcode) of the first launch in `text`."""
    scalars: dict[str, float] = {}
    for line in text.splitlines():
        match = _SCALAR.match(line)
        if match and match.group(1) not in scalars:
            scalars[match.group(1)] = float(match.group(2).replace(",", ""))
    opcodes: dict[str, int] = {}
    start = text.find(_PER_OPCODE)
    if start >= 0:
        instances = text[text.index("(", start) + 1:text.index(")", start)]
        for name, count in _OPCODE.findall(" ".join(instances.split())):
            opcodes[name] = int(count.replace(",", ""))
    return scalars, opcodes


def table(first: str, second: str, names: tuple[str, str] = ("ours", "upstream"), top: int = 30) -> list[str]:
    (a_scalars, a_ops), (b_scalars, b_ops) = parse(first), parse(second)
    lines = [f"{'metric':<52}{names[0]:>16}{names[1]:>16}   ratio"]
    for metric in sorted(set(a_scalars) | set(b_scalars)):
        a, b = a_scalars.get(metric), b_scalars.get(metric)
        ratio = f"{a / b:7.3f}" if a is not None and b else "      -"
        lines.append(f"{metric:<52}{a if a is not None else float('nan'):>16,.2f}"
                     f"{b if b is not None else float('nan'):>16,.2f}   {ratio}")
    if a_ops or b_ops:
        lines.append(f"executed instructions: {sum(a_ops.values()):,} / {sum(b_ops.values()):,}; "
                     f"the {top} opcodes that differ most:")
        lines.append(f"{'opcode':<12}{names[0]:>14}{names[1]:>14}{'difference':>14}")
        for op in sorted(set(a_ops) | set(b_ops), key=lambda o: -abs(a_ops.get(o, 0) - b_ops.get(o, 0)))[:top]:
            a, b = a_ops.get(op, 0), b_ops.get(op, 0)
            lines.append(f"{op:<12}{a:>14,}{b:>14,}{a - b:>+14,}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--names", default="ours,upstream")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    with open(args.first) as f, open(args.second) as g:
        print("\n".join(table(f.read(), g.read(), tuple(args.names.split(",")), args.top)))


if __name__ == "__main__":
    main()
