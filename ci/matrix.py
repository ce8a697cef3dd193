"""Reader of ci/matrix.json, the one definition of the build-and-test matrix.

noxfile.py imports this module; workflows and scripts use its command line:

    python ci/matrix.py github           # key=JSON lines for $GITHUB_OUTPUT (toolkits, targets, ...)
    python ci/matrix.py get default_cuda # one value (archs, torch, base_image, debian_suite, ...; CUDA as 2nd arg)
    python ci/matrix.py docker-args 13.0 # --build-arg list for docker/Dockerfile, shell-quoted (for eval)
    python ci/matrix.py table            # the Markdown table of the README (validate_matrix.py compares)

Everything derived from the JSON (image names, runner labels, test modules, the arch list that
FLASH_MLA_CUDA_ARCHS receives) is derived here and nowhere else.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MATRIX_FILE = ROOT / "ci" / "matrix.json"

# Image names: the toolkit stage (what nox sessions run in) and the runtime stage (what users pull).
DEV_IMAGE = "flash-mla-dev"
RUNTIME_IMAGE = "flash-mla"


# Where a toolkit row's nvcc comes from (the "toolkit" field of ci/matrix.json).
PYPI = "pypi"  # NVIDIA's PyPI wheels (a whole nvcc from CUDA 13 on), on the local Debian base
DEBIAN = "debian"  # Debian's own packages (nvidia-cuda-toolkit, non-free), on the local Debian base
IMAGE = "image"  # an nvidia/cuda:X.Y.Z-devel-<os> base image (/usr/local/cuda): needs an image registry
SOURCES = (PYPI, DEBIAN, IMAGE)


@dataclass(frozen=True)
class Toolkit:
    cuda: str  # "12.8": major.minor of nvcc
    torch: str  # the torch release built for this CUDA (its PyPI wheel's CUDA major.minor matches)
    toolkit: str  # where nvcc comes from: PYPI, DEBIAN or IMAGE
    debian_suite: str | None  # PYPI and DEBIAN: the Debian release of the local base (its Python too)
    base_image: str | None  # IMAGE: the nvidia/cuda devel image; None otherwise

    @property
    def tag(self) -> str:
        return f"cu{self.cuda}"

    @property
    def major(self) -> int:
        return int(self.cuda.split(".")[0])

    @property
    def local_base(self) -> bool:
        """Whether the image starts from the locally debootstrapped Debian (no image registry needed)."""
        return self.toolkit in (PYPI, DEBIAN)

    @property
    def wheels(self) -> list[str]:
        """NVIDIA's PyPI wheels that make this row's CUDA_HOME (docker/install/cuda_home.py); none when the
        toolkit comes from Debian packages or the base image. cuobjdump and nvdisasm (artifact checks; the
        SASS dump needs both) have wheels from 13.2 on only; any of them reads CUDA 12 and 13 cubins."""
        if self.toolkit != PYPI:
            return []
        return [f"cuda-toolkit[nvcc,crt,nvvm,cccl,cudart]=={self.cuda}.*", "nvidia-cuda-cuobjdump", "nvidia-cuda-nvdisasm"]

    @property
    def debian_packages(self) -> list[str]:
        """Debian packages that bring this row's toolkit (docker/install/toolkit.sh links them into
        /usr/local/cuda): nvcc, its g++ and cuobjdump, with the CUDA headers and libraries as dependencies.
        The version glob makes apt fail, rather than install another CUDA, if the suite moves on."""
        if self.toolkit != DEBIAN:
            return []
        return [f"nvidia-cuda-toolkit={self.cuda}.*"]

    def describe(self, local_base: str) -> str:
        """Where the toolkit comes from, for the README's table."""
        if self.toolkit == IMAGE:
            return f"`{self.base_image}`"
        what = "PyPI wheels" if self.toolkit == PYPI else "Debian's `nvidia-cuda-toolkit`"
        return f"{what} on `{local_base}:{self.debian_suite}`"

    def dev_image(self) -> str:
        return f"{DEV_IMAGE}:{self.tag}"

    def runtime_image(self) -> str:
        return f"{RUNTIME_IMAGE}:{self.tag}"


@dataclass(frozen=True)
class Target:
    sm: str  # "sm86": session suffix, runner label, test module suffix
    arch: str  # "86" or "90a": one FLASH_MLA_CUDA_ARCHS entry
    cc: tuple[int, int]  # the compute capability whose GPU runs the module for real
    gpu: str  # example GPUs, for messages
    min_cuda: str  # oldest nvcc that compiles this arch

    @property
    def test_module(self) -> str:
        return f"tests/test_flash_mla_{self.sm}.py"

    @property
    def session(self) -> str:
        return f"test-{self.sm}"


@dataclass(frozen=True)
class Matrix:
    default_cuda: str
    local_base: str  # repository of the debootstrapped Debian images; the tag is the row's debian_suite
    runner_labels: tuple[str, ...]
    toolkits: tuple[Toolkit, ...]
    targets: tuple[Target, ...]

    def toolkit(self, cuda: str | None = None) -> Toolkit:
        cuda = cuda or self.default_cuda
        for tk in self.toolkits:
            if tk.cuda == cuda:
                return tk
        raise KeyError(f"CUDA {cuda!r} is not in ci/matrix.json (have: {', '.join(self.cudas)})")

    @property
    def cudas(self) -> list[str]:
        return [tk.cuda for tk in self.toolkits]

    def target(self, sm: str) -> Target:
        for t in self.targets:
            if t.sm == sm:
                return t
        raise KeyError(f"target {sm!r} is not in ci/matrix.json")

    def archs(self, cuda: str | None = None) -> str:
        """FLASH_MLA_CUDA_ARCHS for a toolkit: every target that toolkit can compile."""
        tk = self.toolkit(cuda)
        return ";".join(t.arch for t in self.targets if version_tuple(t.min_cuda) <= version_tuple(tk.cuda))

    def runs_on(self, target: Target) -> list[str]:
        return [*self.runner_labels, target.sm]

    def local_base_image(self, tk: Toolkit) -> str | None:
        """The debootstrapped image a row starts from (docker/bootstrap_base.sh makes it), or None."""
        return f"{self.local_base}:{tk.debian_suite}" if tk.local_base else None

    def base_image(self, tk: Toolkit) -> str:
        return self.local_base_image(tk) or tk.base_image or ""

    def runtime_base_image(self, tk: Toolkit) -> str:
        # nvidia/cuda tags come as -devel- (toolkit) and -base- (CUDA runtime only) of one release and OS,
        # so the runtime stage gets the same Python as the stage that built the wheel.
        if tk.toolkit == IMAGE and tk.base_image:
            return tk.base_image.replace("-devel-", "-base-")
        return self.base_image(tk)

    def docker_build_args(self, tk: Toolkit) -> dict[str, str]:
        return {
            "BASE_IMAGE": self.base_image(tk),
            "RUNTIME_IMAGE": self.runtime_base_image(tk),
            "CUDA_VERSION": tk.cuda,
            "TORCH_VERSION": tk.torch,
            "CUDA_WHEELS": " ".join(tk.wheels),
            "CUDA_PACKAGES": " ".join(tk.debian_packages),
            "FLASH_MLA_CUDA_ARCHS": self.archs(tk.cuda),
        }


def version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def load(path: Path = MATRIX_FILE) -> Matrix:
    raw = json.loads(path.read_text())
    return Matrix(
        default_cuda=raw["default_cuda"],
        local_base=raw["local_base"],
        runner_labels=tuple(raw["runner_labels"]),
        toolkits=tuple(Toolkit(**tk) for tk in raw["toolkits"]),
        targets=tuple(Target(**{**t, "cc": tuple(t["cc"])}) for t in raw["targets"]),
    )


def github_outputs(m: Matrix) -> dict[str, object]:
    """What workflows read with fromJSON(needs.matrix.outputs.<key>)."""
    toolkits = [
        {
            "cuda": tk.cuda,
            "torch": tk.torch,
            "tag": tk.tag,
            "image": tk.runtime_image(),
            "dev_image": tk.dev_image(),
            "default": tk.cuda == m.default_cuda,
            "toolkit": tk.toolkit,
            "local_base": tk.local_base,
            "debian_suite": tk.debian_suite or "",
        }
        for tk in m.toolkits
    ]
    targets = [{"sm": t.sm, "session": t.session, "runs-on": m.runs_on(t)} for t in m.targets]
    # GPU jobs: every target under every toolkit that can compile it.
    gpu_jobs = [
        {"cuda": tk.cuda, "tag": tk.tag, "sm": t.sm, "session": t.session, "runs-on": m.runs_on(t)}
        for tk in m.toolkits
        for t in m.targets
        if t.arch in m.archs(tk.cuda).split(";")
    ]
    return {
        "default_cuda": m.default_cuda,
        "toolkits": toolkits,
        "targets": targets,
        "gpu_jobs": gpu_jobs,
        "gpu_jobs_default": [job for job in gpu_jobs if job["cuda"] == m.default_cuda],
    }


def table(m: Matrix) -> str:
    """The README's matrix table: one row per toolkit, one column per target."""
    head = ["CUDA", "torch", "toolkit from", *(f"{t.sm} ({t.arch})" for t in m.targets)]
    rows = []
    for tk in m.toolkits:
        archs = m.archs(tk.cuda).split(";")
        source = tk.describe(m.local_base)
        cuda = f"**{tk.cuda}** (default)" if tk.cuda == m.default_cuda else tk.cuda
        rows.append([cuda, tk.torch, source, *("yes" if t.arch in archs else "-" for t in m.targets)])
    labels = ", ".join(f"`{x}`" for x in m.runner_labels)
    rows.append(["runner labels", "", labels + " +", *(f"`{t.sm}`" for t in m.targets)])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    m = load()
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    cmd, args = argv[0], argv[1:]
    if cmd == "github":
        for key, value in github_outputs(m).items():
            print(f"{key}={value if isinstance(value, str) else json.dumps(value, separators=(',', ':'))}")
    elif cmd == "get":
        key = args[0]
        cuda = args[1] if len(args) > 1 else None
        tk = m.toolkit(cuda)
        values = {
            "default_cuda": m.default_cuda,
            "cudas": " ".join(m.cudas),
            "torch": tk.torch,
            "archs": m.archs(tk.cuda),
            "dev_image": tk.dev_image(),
            "runtime_image": tk.runtime_image(),
            "toolkit": tk.toolkit,
            "base_image": m.base_image(tk),
            "local_base_image": m.local_base_image(tk) or "",  # empty: the row needs no debootstrapped base
            "debian_suite": tk.debian_suite or "",
            "sessions": " ".join(t.session for t in m.targets),
        }
        print(values[key])
    elif cmd == "table":
        print(table(m))
    elif cmd == "docker-args":
        tk = m.toolkit(args[0] if args else None)
        print(shlex.join(f"--build-arg={k}={v}" for k, v in m.docker_build_args(tk).items()))
    else:
        print(f"unknown command {cmd!r}\n{__doc__}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
