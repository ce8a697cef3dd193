"""CPU: what the build put into each extension module, read back with cuobjdump.

For every target in FLASH_MLA_CUDA_ARCHS (default 80;86;89;90a): a cubin per target, PTX where
promised (compute_80/86/89, which newer GPUs JIT-compile), no local memory or stack in any decode
kernel (register spills), and each variant's shared memory within its target's budget.
"""

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ARCHS = [a.strip() for a in os.environ.get("FLASH_MLA_CUDA_ARCHS", "80;86;89;90a").replace(",", ";").split(";") if a.strip()]
SMEM_BUDGET = {"sm80": 163 * 1024, "sm86": 99 * 1024, "sm89": 99 * 1024, "sm90": 227 * 1024}
# variant -> (cubins it must hold, PTX it must hold) for the requested targets
EXPECTED = {
    "sm80": ({"sm_80"} if "80" in ARCHS else set()) | ({"sm_90"} if "90a" in ARCHS else set()),
    "sm86": {"sm_86"} if "86" in ARCHS else set(),
    "sm89": {"sm_89"} if "89" in ARCHS else set(),
    "sm90": {"sm_90a"} if "90a" in ARCHS else set(),
}
EXPECTED_PTX = {"sm80": "80" in ARCHS, "sm86": "86" in ARCHS, "sm89": "89" in ARCHS, "sm90": False}
# Kernel files per variant and dtype: the sm8x ones per tile height, the Hopper ones per schedule.
KERNEL_FILES = {"sm90": ("{variant}_{dtype}_column_split", "{variant}_{dtype}_tile_pairs")}


def find_cuda_tool(name: str) -> str | None:
    """A CUDA binary from CUDA_HOME/bin, PATH or NVIDIA's wheel (site-packages/nvidia/*/bin)."""
    candidates = [Path(os.environ.get("CUDA_HOME", "/usr/local/cuda")) / "bin" / name]
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    spec = importlib.util.find_spec("nvidia")
    for root in spec.submodule_search_locations if spec else []:
        candidates += sorted(Path(root).glob(f"*/bin/{name}"))
    return next((str(c) for c in candidates if c.is_file()), None)


CUOBJDUMP = find_cuda_tool("cuobjdump")
NVDISASM = find_cuda_tool("nvdisasm")  # cuobjdump --dump-sass runs it
# cuobjdump looks for nvdisasm on PATH or in NVDISASM_PATH; the wheel's copy is on neither.
_NVDISASM_DIR = str(Path(NVDISASM).parent) if NVDISASM else None
CUOBJDUMP_ENV = (
    {**os.environ, "PATH": _NVDISASM_DIR + os.pathsep + os.environ.get("PATH", ""), "NVDISASM_PATH": _NVDISASM_DIR}
    if _NVDISASM_DIR
    else None
)
pytestmark = pytest.mark.skipif(CUOBJDUMP is None, reason="cuobjdump not found (CUDA_HOME/bin, PATH or nvidia-cuda-cuobjdump)")


def module_path(variant: str) -> Path:
    spec = importlib.util.find_spec(f"flash_mla._{variant}")
    if spec is None or spec.origin is None:
        pytest.fail(f"flash_mla._{variant} is not built, but FLASH_MLA_CUDA_ARCHS={';'.join(ARCHS)} asks for it")
    return Path(spec.origin)


def cuobjdump(*args) -> str:
    return subprocess.run([CUOBJDUMP, *args], check=True, capture_output=True, text=True, env=CUOBJDUMP_ENV).stdout


VARIANTS = [v for v, cubins in EXPECTED.items() if cubins]


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_requested_target_has_a_cubin(variant):
    listing = cuobjdump("--list-elf", str(module_path(variant)))
    kernels = {m.group(1) for m in re.finditer(rf"{variant}_\w+\.(sm_\d+a?)\.cubin", listing)}
    assert kernels == EXPECTED[variant], f"{variant}: cubins for {sorted(kernels)}, expected {sorted(EXPECTED[variant])}"
    for dtype in ("bf16", "fp16"):
        for pattern in KERNEL_FILES.get(variant, ("{variant}_{dtype}_m16",)):
            name = pattern.format(variant=variant, dtype=dtype)
            assert name in listing, f"{variant}: no {name} kernels"


@pytest.mark.skipif("90a" not in ARCHS, reason="FLASH_MLA_CUDA_ARCHS has no 90a")
@pytest.mark.skipif(NVDISASM is None, reason="nvdisasm not found (CUDA_HOME/bin, PATH or nvidia-cuda-nvdisasm)")
def test_hopper_kernel_uses_wgmma_and_tma():
    sass = cuobjdump("--dump-sass", str(module_path("sm90")))
    # fp16 operands print without a type suffix (HGMMA.64x32x16.F32 R..), bf16 ones with .BF16.
    for instruction in ("HGMMA.64x64x16.F32 ", "HGMMA.64x256x16.F32 ", "HGMMA.64x64x16.F32.BF16",
                        "HGMMA.64x256x16.F32.BF16", "UTMALDG.4D", "USETMAXREG"):
        assert instruction in sass, f"sm90: no {instruction} in the SASS"
    # A WARPGROUP.ARRIVE per wgmma batch. When ptxas cannot prove a kernel's wgmmas safe to overlap
    # (warnings C7514-C7520) it fences and waits around every one of them: one ARRIVE per HGMMA.
    arrives, wgmmas = sass.count("WARPGROUP.ARRIVE"), sass.count("HGMMA.")
    assert 0 < 2 * arrives <= wgmmas, f"sm90: {arrives} WARPGROUP.ARRIVE for {wgmmas} HGMMA: wgmmas serialized"


@pytest.mark.parametrize("variant", [v for v in VARIANTS if EXPECTED_PTX[v]])
def test_ptx_is_embedded_for_newer_gpus(variant):
    listing = cuobjdump("--list-ptx", str(module_path(variant)))
    arch = f"sm_{variant[2:]}"
    assert re.search(rf"{variant}_bf16_m16n\d+\.{arch}\.ptx", listing), f"{variant}: no compute_{variant[2:]} PTX:\n{listing}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_spills_and_shared_memory_within_budget(variant):
    usage = cuobjdump("--dump-resource-usage", str(module_path(variant)))
    kernels = re.findall(r"Function (\S*splitkv_decode_kernel\S*):\s*\n\s*(REG:.*)", usage)
    assert kernels, f"{variant}: no decode kernels in the resource usage dump"
    for name, resources in kernels:
        fields = dict(re.findall(r"(\w+(?:\[\d+\])?):(\d+)", resources))
        assert int(fields["LOCAL"]) == 0 and int(fields["STACK"]) == 0, f"{name} spills: {resources}"
        assert int(fields["REG"]) <= 255, f"{name}: {resources}"
        # All tiles live in dynamic shared memory; sm_90 cubins report the 1 KB the system reserves.
        assert int(fields["SHARED"]) <= 1024, f"{name}: unexpected static shared memory: {resources}"
    from flash_mla import ops

    for rows in (16, 32, 64, 128, 129, 256):
        plan = ops.launch_plan(variant, rows, None)
        assert plan.smem_bytes <= SMEM_BUDGET[variant], f"{variant} rows={rows}: {plan}"
        assert plan.stages >= 2, f"{variant} rows={rows}: a single stage cannot overlap loads with math"
        # Planned for 227 KB per block (sm100 parts, H100s): the sm80 module's wide tile for 64+ rows
        # fits it; the other Ampere-class targets keep their tiles (sm90 has one tile, 64 x 64).
        wide = ops.launch_plan(variant, rows, None, 227 * 1024)
        assert wide.smem_bytes <= 227 * 1024, f"{variant} rows={rows} at 227 KB: {wide}"
        if variant == "sm90":  # the column split (a producer warpgroup) up to 64 rows, tile pairs above
            assert plan.num_warps == (12 if rows <= 64 else 8), f"sm90 rows={rows}: {plan}"
        else:
            expect_wide = variant == "sm80" and rows > 32
            assert (wide.block_m, wide.block_n) == (64, 64) or not expect_wide, f"{variant} rows={rows}: {wide}"
            assert wide == plan or expect_wide, f"{variant} rows={rows}: {wide} at 227 KB, {plan} at its own"
