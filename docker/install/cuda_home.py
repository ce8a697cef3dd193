"""Assemble a CUDA_HOME (bin/, include/, lib/, lib64, nvvm/) from NVIDIA's CUDA wheels in site-packages.

    python cuda_home.py PREFIX [--site SITE_PACKAGES]

The wheels spread a toolkit over site-packages/nvidia/<component>/ (CUDA 13: mostly nvidia/cu13/);
torch's extension builder wants one folder. Programs are copied, since nvcc finds cicc, headers and
libdevice relative to its own real path; headers and libraries are linked. Later components never
replace a file an earlier one provided (the folder holding nvcc goes first).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sysconfig
from pathlib import Path

COPIED = ("bin", "nvvm")  # executables and what nvcc.profile locates next to them
LINKED = ("include", "lib")


def components(site: Path) -> list[Path]:
    root = site / "nvidia"
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith("__")]
    return sorted(found, key=lambda p: (not (p / "bin" / "nvcc").exists(), p.name))


def merge(component: Path, prefix: Path) -> int:
    added = 0
    for sub in COPIED + LINKED:
        top = component / sub
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            rel = Path(dirpath).relative_to(component)
            (prefix / rel).mkdir(parents=True, exist_ok=True)
            for name in filenames:
                if name == "__init__.py":
                    continue
                src, dst = Path(dirpath) / name, prefix / rel / name
                if dst.exists() or dst.is_symlink():
                    continue
                if sub in COPIED:
                    shutil.copy2(src, dst)
                else:
                    dst.symlink_to(src)
                added += 1
    return added


def finish(prefix: Path) -> None:
    lib = prefix / "lib"
    lib.mkdir(exist_ok=True)
    # Linkers want libfoo.so; the wheels ship libfoo.so.N only.
    for versioned in sorted(lib.glob("lib*.so.*")):
        plain = lib / (versioned.name.split(".so.")[0] + ".so")
        if not plain.exists():
            plain.symlink_to(versioned.name)
    for alias, target in ((prefix / "lib64", "lib"),):
        if not alias.exists():
            alias.symlink_to(target)
    # nvcc.profile looks under targets/<arch>-linux/{include,lib} as well.
    targets = prefix / "targets" / f"{os.uname().machine}-linux"
    targets.mkdir(parents=True, exist_ok=True)
    for sub in LINKED:
        if not (targets / sub).exists():
            (targets / sub).symlink_to(Path("../..") / sub)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prefix", type=Path)
    ap.add_argument("--site", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    args = ap.parse_args()
    args.prefix.mkdir(parents=True, exist_ok=True)
    for component in components(args.site):
        n = merge(component, args.prefix)
        print(f"cuda_home: {component.name}: {n} files")
    finish(args.prefix)
    if not (args.prefix / "bin" / "nvcc").exists():
        raise SystemExit(f"cuda_home: no nvcc among the wheels in {args.site / 'nvidia'}")


if __name__ == "__main__":
    main()
