"""What the diagnostic patches print: one line a CTA or piece, `PREFIX key=value ...` with integer values, once a
launch. Shared by m_block_drift.py, piece_timeline.py, grid_timeline.py and sm_rates.py."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def fields(line: str) -> dict[str, int]:
    """One printed line's `key=value` fields after its prefix word."""
    return {key: int(value) for key, value in (field.split("=") for field in line.split()[1:])}


def parse_launches(text: str, prefix: str, launches: int) -> list[list[dict[str, int]]]:
    """Each launch's `prefix` lines as dicts (each launch prints the same number of lines)."""
    rows = [fields(line) for line in text.splitlines() if line.startswith(prefix + " ")]
    per_launch = len(rows) // launches
    return [rows[len(rows) - (launches - k) * per_launch:len(rows) - (launches - k - 1) * per_launch]
            for k in range(launches)]


def parse(text: str, prefix: str, launches: int) -> list[dict[str, int]]:
    """The last launch's `prefix` lines as dicts."""
    return parse_launches(text, prefix, launches)[-1]


def main(doc: str, prefix: str, table: Callable[[list[dict[str, int]]], list[str]],
         whole: Callable[[str, int], list[str]] | None = None) -> None:
    """The command line of a diagnostic's table: a file of the patched build's output, and its launches.
    `whole(text, launches)`, where given, makes the tables from the whole file instead."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--launches", type=int, default=3, help="launches in the file (profile_kernels.py --launch-only: 3)")
    args = parser.parse_args()
    with open(args.path) as f:
        text = f.read()
    print("\n".join(whole(text, args.launches) if whole else table(parse(text, prefix, args.launches))))
