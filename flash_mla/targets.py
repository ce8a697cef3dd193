"""Which kernel variant runs on which GPU, and loading the extension module that holds it.

A variant is a kernel family compiled for one target: the Ampere-class family (csrc/sm8x) with
one target's tile configuration (csrc/sm8x/tile_configs.h), or the Hopper family (csrc/sm90,
sm_90a only). Each lives in its own extension module, flash_mla._<variant>, built only when
FLASH_MLA_CUDA_ARCHS asked for it (setup.py).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import Iterator
from functools import cache

import torch

# Ampere-class variants, with the shared memory per block their tiles assume.
SM8X_VARIANTS = {"sm80": 163 * 1024, "sm86": 99 * 1024, "sm89": 99 * 1024}
# The Hopper variant (wgmma + TMA, sm_90a machine code): compute capability 9.0 only.
HOPPER_VARIANTS = {"sm90": 227 * 1024}
VARIANT_SMEM = {**SM8X_VARIANTS, **HOPPER_VARIANTS}
VARIANTS = tuple(VARIANT_SMEM)
FORCE_VARIANT_ENV = "FLASH_MLA_FORCE_VARIANT"
# Shared memory per block an Ampere-class module may plan its tiles for (bytes; capped by the device's).
SMEM_PER_BLOCK_ENV = "FLASH_MLA_SMEM_PER_BLOCK"

_local = threading.local()


class UnsupportedDeviceError(RuntimeError):
    """The GPU (or its absence) cannot run any flash-mla kernel."""


def native_variant(capability: tuple[int, int]) -> str:
    """The variant a GPU of this compute capability runs by default.

    8.0 -> sm80 (A100, 163 KB tiles); 8.6/8.7 -> sm86 (GA10x, Orin); 8.9 -> sm89 (AD10x);
    9.0 -> sm90 (H100/H200: the Hopper kernel, wgmma + TMA);
    10.x/11.x -> sm80 through its embedded compute_80 PTX (>= 227 KB shared memory);
    12.x -> sm86 through its compute_86 PTX (consumer Blackwell: 99 KB per block).
    """
    major, minor = capability
    if major == 8:
        return {0: "sm80", 6: "sm86", 7: "sm86", 9: "sm89"}.get(minor, "sm86")
    if major == 9:
        return "sm90"
    if major in (10, 11):
        return "sm80"
    if major >= 12:
        return "sm86"
    raise UnsupportedDeviceError(
        f"flash_mla needs an NVIDIA GPU of compute capability 8.0 or newer (Ampere and later); "
        f"this one is {major}.{minor}"
    )


@contextlib.contextmanager
def forced_variant(variant: str | None) -> Iterator[None]:
    """Run `variant` instead of the GPU's native one inside the block (forward-compat testing).

    An older target's variant runs on a newer GPU through its SASS (same major) or its embedded PTX,
    which is how the H100 validates the sm80/sm86/sm89 code paths. sm90 runs only on 9.0.
    """
    if variant is not None and variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    with _thread_override("variant", variant):
        yield


@contextlib.contextmanager
def _thread_override(name: str, value) -> Iterator[None]:
    """Set this thread's override `name` (read back with getattr(_local, name, None)) inside the block."""
    previous = getattr(_local, name, None)
    setattr(_local, name, value)
    try:
        yield
    finally:
        setattr(_local, name, previous)


def _required_capability(variant: str) -> tuple[int, int]:
    return (int(variant[2]), int(variant[3]))


_device_facts_cache: dict[int, tuple[tuple[int, int], int]] = {}


def _device_facts(index: int) -> tuple[tuple[int, int], int]:
    """(compute capability, opt-in shared memory per block) of CUDA device `index`, asked once: every
    decode call needs them, and torch's own queries cost microseconds of host time a call. (A plain
    dict, not functools.cache, which torch.compile warns about when it traces a call.)"""
    facts = _device_facts_cache.get(index)
    if facts is None:
        properties = torch.cuda.get_device_properties(index)
        facts = _device_facts_cache[index] = ((properties.major, properties.minor),
                                              properties.shared_memory_per_block_optin)
    return facts


def device_index(device: torch.device) -> int:
    """The CUDA device index of `device` (the current device for a bare "cuda")."""
    return device.index if device.index is not None else torch.cuda.current_device()


def select_variant(device: torch.device) -> str:
    """The variant to run on `device`: forced (context or FLASH_MLA_FORCE_VARIANT), else native."""
    capability, smem = _device_facts(device_index(device))
    forced = getattr(_local, "variant", None) or os.environ.get(FORCE_VARIANT_ENV) or None
    if forced is None:
        return native_variant(capability)
    if forced not in VARIANTS:
        raise ValueError(f"{FORCE_VARIANT_ENV} must be one of {VARIANTS}, got {forced!r}")
    if forced in HOPPER_VARIANTS and capability != _required_capability(forced):
        raise UnsupportedDeviceError(
            f"variant {forced} is sm_90a machine code and runs only on compute capability 9.0, "
            f"this GPU is {capability[0]}.{capability[1]}"
        )
    if capability < _required_capability(forced):
        raise UnsupportedDeviceError(
            f"variant {forced} needs compute capability >= {'.'.join(map(str, _required_capability(forced)))}, "
            f"this GPU is {capability[0]}.{capability[1]}"
        )
    if smem < VARIANT_SMEM[forced]:
        raise UnsupportedDeviceError(
            f"variant {forced} needs {VARIANT_SMEM[forced] // 1024} KB of shared memory per block, "
            f"this GPU offers {smem // 1024} KB"
        )
    return forced


@contextlib.contextmanager
def forced_smem_per_block(nbytes: int | None) -> Iterator[None]:
    """Plan the Ampere-class tiles for `nbytes` of shared memory per block inside the block (capped by
    the device's), e.g. the sm80 module's wide tile on an H100 in forward-compat mode."""
    with _thread_override("smem_per_block", nbytes):
        yield


def smem_per_block(variant: str, device_index: int) -> int:
    """Shared memory per block `variant`'s tiles may assume on CUDA device `device_index`.

    Forced (context or FLASH_MLA_SMEM_PER_BLOCK), else the device's when `variant` is its native one
    (an sm100 GPU gives the sm80 module its 227 KB), else, in forward-compat mode, the variant's own
    target's (the sm80 module runs its A100 tiles on an H100). Always capped by the device's.
    """
    capability, device_smem = _device_facts(device_index)
    forced = getattr(_local, "smem_per_block", None) or os.environ.get(SMEM_PER_BLOCK_ENV) or None
    if forced is not None:
        try:
            nbytes = int(forced)
        except ValueError:
            raise ValueError(f"{SMEM_PER_BLOCK_ENV} must be a number of bytes, got {forced!r}") from None
        if nbytes <= 0:
            raise ValueError(f"{SMEM_PER_BLOCK_ENV} must be > 0, got {nbytes}")
        return min(nbytes, device_smem)
    if variant == native_variant(capability):
        return device_smem
    return min(VARIANT_SMEM[variant], device_smem)


@cache
def load_variant(variant: str):
    """Import flash_mla._<variant> (registering its torch ops) and the ops' fake implementations."""
    try:
        module = importlib.import_module(f"flash_mla._{variant}")
    except ImportError as error:
        raise UnsupportedDeviceError(
            f"flash_mla was built without the {variant} kernels ({error}); rebuild with FLASH_MLA_CUDA_ARCHS "
            f"including {variant[2:]}"
        ) from error
    from . import ops

    ops.register_fakes(variant)
    return module


def built_variants() -> list[str]:
    """Variants whose extension module is importable in this installation."""
    found = []
    for variant in VARIANTS:
        try:
            load_variant(variant)
        except UnsupportedDeviceError:
            continue
        found.append(variant)
    return found


def require_cuda_device(device: torch.device) -> None:
    """`device` is a tensor's: a tensor on a CUDA device proves that torch sees a GPU."""
    if device.type != "cuda":
        raise ValueError(f"flash_mla runs on CUDA tensors; got tensors on {device}")
