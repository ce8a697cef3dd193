"""Check ci/matrix.json: its shape, its internal consistency, and that nothing else restates it.

    python ci/validate_matrix.py            offline checks (nox -s lint and CI run these)
    python ci/validate_matrix.py --online   also ask the package index which CUDA each torch pin is built for

Exit status 1 with one line per problem.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import matrix as ci_matrix  # noqa: E402

ROOT = ci_matrix.ROOT
CUDA_RE = re.compile(r"^\d+\.\d+$")
TORCH_RE = re.compile(r"^\d+\.\d+\.\d+$")
ARCH_RE = re.compile(r"^(\d+)[af]?$")
# CUDA 12 wheels of nvidia-cuda-nvcc-cu12 hold ptxas only: a whole nvcc comes from PyPI from CUDA 13 on.
FIRST_PYPI_NVCC_MAJOR = 13
# The CUDA toolkit (nvidia-cuda-toolkit, non-free) each Debian release ships: a "debian" row names one of
# these suites and its CUDA. trixie: 12.4.131~12.4.1-2; bookworm: 11.8.89~11.8.0-5~deb12u1.
DEBIAN_CUDA = {"bookworm": "11.8", "trixie": "12.4"}
# Suites a local base may be debootstrapped from (docker/bootstrap_base.sh), with their Python (the venv's,
# so --online resolves torch for it: torch 2.6.0 is the oldest pin here with cp313 wheels).
DEBIAN_SUITES = {"bookworm": "3.11", "trixie": "3.13"}
# The README's copy of the matrix sits between these markers and must equal `python ci/matrix.py table`.
TABLE_BEGIN, TABLE_END = "<!-- matrix-table -->", "<!-- /matrix-table -->"


def check_shape(raw: dict) -> list[str]:
    problems = []
    for key, kind in (("default_cuda", str), ("local_base", str), ("runner_labels", list)):
        if not isinstance(raw.get(key), kind):
            problems.append(f"{key}: missing or not a {kind.__name__}")
    for key, fields in (
        ("toolkits", {"cuda", "torch", "toolkit", "debian_suite", "base_image"}),
        ("targets", {"sm", "arch", "cc", "gpu", "min_cuda"}),
    ):
        rows = raw.get(key)
        if not isinstance(rows, list) or not rows:
            problems.append(f"{key}: missing or empty")
            continue
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or set(row) != fields:
                problems.append(f"{key}[{i}]: fields must be exactly {sorted(fields)}")
    return problems


def check_rows(m: ci_matrix.Matrix) -> list[str]:
    problems = []
    cudas = [tk.cuda for tk in m.toolkits]
    if len(set(cudas)) != len(cudas):
        problems.append(f"toolkits: CUDA versions repeat: {cudas}")
    if m.default_cuda not in cudas:
        problems.append(f"default_cuda {m.default_cuda} is not a toolkit row")
    for tk in m.toolkits:
        where = f"toolkit {tk.cuda}"
        if not CUDA_RE.match(tk.cuda):
            problems.append(f"{where}: cuda must be MAJOR.MINOR")
            continue
        if not TORCH_RE.match(tk.torch):
            problems.append(f"{where}: torch must be an exact release X.Y.Z, not {tk.torch!r}")
        problems += check_source(tk, where)
    labels = set(m.runner_labels)
    sms = [t.sm for t in m.targets]
    if len(set(sms)) != len(sms):
        problems.append(f"targets: names repeat: {sms}")
    for t in m.targets:
        where = f"target {t.sm}"
        arch = ARCH_RE.match(t.arch)
        cc_digits = f"{t.cc[0]}{t.cc[1]}" if len(t.cc) == 2 else "?"
        if t.sm != f"sm{cc_digits}":
            problems.append(f"{where}: name must be sm<cc>, here sm{cc_digits}")
        if not arch or arch.group(1) != cc_digits:
            problems.append(f"{where}: arch {t.arch!r} does not match cc {list(t.cc)}")
        if not CUDA_RE.match(t.min_cuda):
            problems.append(f"{where}: min_cuda must be MAJOR.MINOR")
        elif t.arch not in m.archs(m.default_cuda).split(";"):
            problems.append(f"{where}: the default toolkit {m.default_cuda} cannot compile it (min_cuda {t.min_cuda})")
        if t.sm in labels:
            problems.append(f"{where}: its label is already a common runner label")
        if (ROOT / "tests").is_dir() and not (ROOT / t.test_module).exists():
            problems.append(f"{where}: {t.test_module} is missing (every target needs its test module)")
    return problems


def check_source(tk: ci_matrix.Toolkit, where: str) -> list[str]:
    """The toolkit field and the fields it needs: a suite for a local base, an image for "image"."""
    if tk.toolkit not in ci_matrix.SOURCES:
        return [f"{where}: toolkit must be one of {', '.join(ci_matrix.SOURCES)}, not {tk.toolkit!r}"]
    problems = []
    if tk.toolkit == ci_matrix.IMAGE:
        if tk.debian_suite is not None:
            problems.append(f"{where}: debian_suite must be null when the toolkit comes from base_image")
        if not (tk.base_image or "").startswith(f"nvidia/cuda:{tk.cuda}.") or "-devel-" not in tk.base_image:
            problems.append(f"{where}: base_image {tk.base_image!r} should be nvidia/cuda:{tk.cuda}.x-devel-<os>")
        return problems
    if tk.base_image is not None:
        problems.append(f"{where}: base_image must be null for toolkit {tk.toolkit!r} (the base is local Debian)")
    if tk.debian_suite not in DEBIAN_SUITES:
        problems.append(f"{where}: debian_suite must be one of {', '.join(DEBIAN_SUITES)}, not {tk.debian_suite!r}")
    if tk.toolkit == ci_matrix.PYPI and tk.major < FIRST_PYPI_NVCC_MAJOR:
        problems.append(f"{where}: PyPI has no whole CUDA {tk.major} nvcc; use toolkit debian (a suite that ships it) or image")
    if tk.toolkit == ci_matrix.DEBIAN and DEBIAN_CUDA.get(tk.debian_suite or "") != tk.cuda:
        ships = ", ".join(f"{suite}: {cuda}" for suite, cuda in DEBIAN_CUDA.items())
        problems.append(f"{where}: Debian {tk.debian_suite} does not ship CUDA {tk.cuda} (nvidia-cuda-toolkit: {ships})")
    return problems


def check_not_restated(m: ci_matrix.Matrix) -> list[str]:
    """Workflows read the matrix through ci/matrix.py; a toolkit or torch version written in one is a copy."""
    problems = []
    needles = {tk.cuda for tk in m.toolkits} | {tk.torch for tk in m.toolkits} | {f"cu{tk.cuda}" for tk in m.toolkits}
    for wf in sorted((ROOT / ".github" / "workflows").glob("*.y*ml")):
        for n, line in enumerate(wf.read_text().splitlines(), 1):
            for needle in needles:
                if re.search(rf"(?<![\w.]){re.escape(needle)}(?![\w.])", line):
                    problems.append(f"{wf.relative_to(ROOT)}:{n}: {needle!r} restates ci/matrix.json")
    for doc in (ROOT / "README.md",):
        text = doc.read_text() if doc.exists() else ""
        if TABLE_BEGIN in text and TABLE_END in text:
            shown = text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip()
            if shown != ci_matrix.table(m):
                problems.append(f"{doc.relative_to(ROOT)}: the matrix table is stale: paste `python ci/matrix.py table`")
    setup = ROOT / "setup.py"
    if setup.exists():
        found = re.search(r'DEFAULT_ARCHS\s*=\s*"([^"]+)"', setup.read_text())
        if found and found.group(1) != m.archs(m.default_cuda):
            problems.append(f"setup.py DEFAULT_ARCHS {found.group(1)!r} differs from the matrix's {m.archs(m.default_cuda)!r}")
    return problems


def torch_cuda_online(torch: str, python: str | None = None) -> str | None:
    """The CUDA major.minor that torch==X's Linux wheel (for that Python) on the configured index depends on."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps", "-q"]
        cmd += ["--only-binary=:all:", "--target", tmp]
        cmd += [f"--python-version={python}"] if python else []
        cmd += [f"--platform={p}_x86_64" for p in ("manylinux_2_28", "manylinux2014", "manylinux1")]
        cmd += ["--report", str(report), f"torch=={torch}"]
        if subprocess.run(cmd, capture_output=True).returncode != 0 or not report.exists():
            return None
        meta = json.loads(report.read_text())["install"][0]["metadata"]
    for req in meta.get("requires_dist", []):
        found = re.match(r"(nvidia-cuda-runtime-cu\d+|cuda-toolkit\S*)\s*\(?==\s*(\d+\.\d+)", req)
        if found:
            return found.group(2)
    return None


def check_online(m: ci_matrix.Matrix) -> list[str]:
    problems = []
    for tk in m.toolkits:
        python = DEBIAN_SUITES.get(tk.debian_suite or "") if tk.local_base else None
        cuda = torch_cuda_online(tk.torch, python)
        if cuda is None:
            for_python = f" for Python {python}" if python else ""
            problems.append(f"toolkit {tk.cuda}: could not resolve torch=={tk.torch}{for_python} or its CUDA dependency")
        elif cuda != tk.cuda:
            problems.append(f"toolkit {tk.cuda}: torch {tk.torch} on the index is built for CUDA {cuda}")
        else:
            print(f"toolkit {tk.cuda}: torch {tk.torch} is built for CUDA {cuda}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--online", action="store_true", help="resolve each torch pin on the package index")
    args = ap.parse_args()
    raw = json.loads(ci_matrix.MATRIX_FILE.read_text())
    problems = check_shape(raw)
    if not problems:
        m = ci_matrix.load()
        problems = check_rows(m) + check_not_restated(m)
        if args.online:
            problems += check_online(m)
    for p in problems:
        print(f"ci/matrix.json: {p}", file=sys.stderr)
    if not problems:
        print(f"ci/matrix.json: ok ({len(raw['toolkits'])} toolkits x {len(raw['targets'])} targets)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
