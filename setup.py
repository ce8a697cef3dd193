"""Build of flash-mla's CUDA extension modules.

One extension module per kernel target, each compiled with its own -gencode list, so a target's
kernels are compiled only for the GPUs that run them:

    flash_mla._sm80   Ampere-class kernels, A100 tiles (163 KB shared memory). SASS sm_80 + PTX
                      compute_80 (run by sm100 and later through the driver's JIT); also SASS for
                      sm_90 when 90a is requested (the H100 runs it in the forward-compat mode), and for
                      sm_100 when 100 is requested.
    flash_mla._sm86   Ampere-class kernels, 99 KB tiles: SASS sm_86 (+ sm_120 when requested) and PTX
                      compute_86, which the driver JIT-compiles for sm120 and newer consumer GPUs.
    flash_mla._sm89   Ampere-class kernels, 99 KB tiles: SASS sm_89 + PTX compute_89.
    flash_mla._sm90   the Hopper kernel (wgmma, TMA, warp specialization): SASS sm_90a only (the
                      "a" features run on compute capability 9.0 alone; no PTX).

FLASH_MLA_CUDA_ARCHS (default "80;86;89;90a") picks the targets. MAX_JOBS caps the compile jobs
in all (the modules build side by side, each with its share), NVCC_THREADS is passed to nvcc.
CUTLASS/CuTe headers come from the nvidia-cutlass wheel (a build requirement).
"""

import copy
import math
import os
import sys
from pathlib import Path

from setuptools import find_packages, setup
from torch.utils.cpp_extension import BuildExtension, CUDAExtension

ROOT = Path(__file__).resolve().parent
ARCHS_ENV = "FLASH_MLA_CUDA_ARCHS"
DEFAULT_ARCHS = "80;86;89;90a"
SUPPORTED_ARCHS = ("80", "86", "89", "90a", "100", "120")


def requested_archs() -> list[str]:
    raw = os.environ.get(ARCHS_ENV, DEFAULT_ARCHS)
    archs = [a.strip().removeprefix("sm_").removeprefix("sm") for a in raw.replace(",", ";").replace(" ", ";").split(";")]
    archs = [a for a in archs if a]
    unknown = sorted(set(archs) - set(SUPPORTED_ARCHS))
    if unknown or not archs:
        sys.exit(f"{ARCHS_ENV}={raw!r}: unknown target(s) {unknown}; choose from {';'.join(SUPPORTED_ARCHS)}")
    return archs


def cutlass_include() -> str:
    try:
        import cutlass_library
    except ImportError:
        sys.exit("flash-mla needs the nvidia-cutlass wheel for CUTLASS/CuTe headers: pip install nvidia-cutlass==4.2.0.0")
    include = Path(cutlass_library.__file__).resolve().parent / "source" / "include"
    if not (include / "cute" / "tensor.hpp").is_file():
        sys.exit(f"nvidia-cutlass is installed but has no CuTe headers under {include}")
    return str(include)


def gencode(virtual: str, real: str) -> str:
    return f"-gencode=arch=compute_{virtual},code={real}"


# target -> (module, the archs that run it natively, PTX to embed, extra SASS per requested arch)
SM8X_TARGETS = {
    "sm80": ("kSm80", "80", {"90a": "sm_90", "100": "sm_100"}),
    "sm86": ("kSm86", "86", {"120": "sm_120"}),
    "sm89": ("kSm89", "89", {}),
}


def common_nvcc_flags() -> list[str]:
    flags = ["-O3", "--expt-relaxed-constexpr", "-lineinfo", f"--threads={os.environ.get('NVCC_THREADS', '2')}"]
    if os.environ.get("FLASH_MLA_PTXAS_VERBOSE") == "1":
        flags.append("--resource-usage")
    return flags


SHARED_SOURCES = ["csrc/smxx/scheduler_metadata.cu", "csrc/smxx/combine_splits.cu"]


def sm8x_extensions(archs: list[str]) -> list[CUDAExtension]:
    common_nvcc = common_nvcc_flags()
    extensions = []
    for variant, (enum, native, extra_sass) in SM8X_TARGETS.items():
        codes = []
        if native in archs:
            codes += [gencode(native, f"sm_{native}"), gencode(native, f"compute_{native}")]
        codes += [gencode(native, sass) for arch, sass in extra_sass.items() if arch in archs]
        if not codes:
            continue
        defines = [f"-DFLASH_MLA_SM8X_TARGET={enum}", f"-DFLASH_MLA_VARIANT={variant}"]
        sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "csrc/sm8x/instantiations").glob(f"{variant}_*.cu"))
        sources += ["csrc/api/sm8x_ops.cpp", *SHARED_SOURCES]
        extensions.append(
            CUDAExtension(
                name=f"flash_mla._{variant}",
                sources=sources,
                include_dirs=[str(ROOT / "csrc"), cutlass_include()],
                extra_compile_args={"cxx": ["-O3", *defines], "nvcc": common_nvcc + codes + defines},
            )
        )
    return extensions


def sm90_extensions(archs: list[str]) -> list[CUDAExtension]:
    if "90a" not in archs:
        return []
    sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "csrc/sm90/instantiations").glob("*.cu"))
    sources += ["csrc/api/sm90_ops.cpp", *SHARED_SOURCES]
    return [
        CUDAExtension(
            name="flash_mla._sm90",
            sources=sources,
            include_dirs=[str(ROOT / "csrc"), cutlass_include()],
            extra_compile_args={"cxx": ["-O3"], "nvcc": common_nvcc_flags() + [gencode("90a", "sm_90a")]},
        )
    ]


class ParallelBuildExtension(BuildExtension):
    """Builds the target modules side by side, each with its own ninja file and build folder.

    torch writes build.ninja into the build folder, so each module gets a folder of its own; MAX_JOBS
    (default: the CPU count) is shared among the modules building at once.
    """

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None and os.environ.get("FLASH_MLA_SERIAL_BUILD") != "1":
            self.parallel = len(self.extensions) or None

    def build_extensions(self) -> None:
        total_jobs = int(os.environ.get("MAX_JOBS", os.cpu_count() or 1))
        if self.parallel:
            os.environ["MAX_JOBS"] = str(max(1, math.ceil(total_jobs / len(self.extensions))))
        names = ", ".join(ext.name for ext in self.extensions)
        print(f"flash-mla: {ARCHS_ENV}={';'.join(requested_archs())}; building {names} "
              f"({'in parallel, ' if self.parallel else ''}MAX_JOBS={os.environ.get('MAX_JOBS', total_jobs)} each)",
              flush=True)
        try:
            super().build_extensions()
        finally:
            os.environ["MAX_JOBS"] = str(total_jobs)

    def build_extension(self, ext) -> None:
        if not self.parallel:
            return super().build_extension(ext)
        own = copy.copy(self)
        own.build_temp = os.path.join(self.build_temp, ext.name)
        print(f"flash-mla: compiling {ext.name} ({len(ext.sources)} sources)", flush=True)
        return BuildExtension.build_extension(own, ext)


archs = requested_archs()
setup(
    packages=find_packages(include=["flash_mla", "flash_mla.*"]),
    ext_modules=sm8x_extensions(archs) + sm90_extensions(archs),
    cmdclass={"build_ext": ParallelBuildExtension},
)
