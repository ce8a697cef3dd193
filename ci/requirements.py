"""Requirements named in pyproject.toml, so images and nox sessions never restate them.

    python ci/requirements.py [--pyproject FILE] build test   # one requirement a line

build: [build-system] requires, less torch (each toolkit pins its own torch in ci/matrix.json);
test: [project.optional-dependencies] test.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip vendors a TOML reader
    from pip._vendor import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _name(req: str) -> str:
    return re.split(r"[\s<>=!~\[;@]", req, maxsplit=1)[0].lower().replace("_", "-")


def requirements(group: str, pyproject: Path = PYPROJECT) -> list[str]:
    data = tomllib.loads(pyproject.read_text())
    if group == "build":
        reqs = data["build-system"]["requires"]
    elif group == "test":
        reqs = data["project"].get("optional-dependencies", {}).get("test", [])
    else:
        raise ValueError(f"unknown group {group!r}")
    return [r for r in reqs if _name(r) != "torch"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pyproject", type=Path, default=PYPROJECT)
    ap.add_argument("groups", nargs="+", choices=["build", "test"])
    args = ap.parse_args()
    for group in args.groups:
        print("\n".join(requirements(group, args.pyproject)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
