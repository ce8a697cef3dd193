"""Spreading the GPU test modules over every visible GPU: one pytest-xdist worker per GPU.

The controller decides the worker count from the visible GPUs (CUDA_VISIBLE_DEVICES respected,
FLASH_MLA_TEST_WORKERS overrides); each worker pins itself to one GPU from its worker id by
setting CUDA_VISIBLE_DEVICES before CUDA is initialised, so two workers never share a GPU.
Pure functions, so the mapping is tested on the CPU (tests/test_gpu_workers.py).
"""

from __future__ import annotations

WORKERS_ENV = "FLASH_MLA_TEST_WORKERS"
GPU_LIST_ENV = "FLASH_MLA_TEST_GPUS"  # set by the controller for its workers


def visible_gpus(cuda_visible_devices: str | None, device_count: int) -> list[str]:
    """The GPU ids a process may use: CUDA_VISIBLE_DEVICES's entries (up to the count the driver
    reports), else 0..device_count-1."""
    if cuda_visible_devices is None:
        return [str(i) for i in range(device_count)]
    ids = [d.strip() for d in cuda_visible_devices.split(",") if d.strip()]
    if any(d.startswith("-") for d in ids):  # CUDA ignores everything from the first invalid id on
        ids = ids[: next(i for i, d in enumerate(ids) if d.startswith("-"))]
    return ids[:device_count]


def worker_count(num_gpus: int, requested: str | None = None) -> int:
    """xdist workers for a GPU test run: one per GPU with two or more, none (no xdist) otherwise.
    `requested` (FLASH_MLA_TEST_WORKERS) lowers it; more workers than GPUs is refused."""
    default = num_gpus if num_gpus > 1 else 0
    if requested is None or requested.strip() == "":
        return default
    count = int(requested)
    if count < 0:
        raise ValueError(f"{WORKERS_ENV} must be >= 0, got {count}")
    if count > max(num_gpus, 1):
        raise ValueError(f"{WORKERS_ENV}={count} would put two workers on one GPU: {num_gpus} visible")
    return count if count > 1 else 0


def gpu_for_worker(worker_id: str, gpus: list[str]) -> str:
    """The GPU of xdist worker `gwN`: the N-th visible one. Refuses to place two workers on one GPU."""
    if not worker_id.startswith("gw") or not worker_id[2:].isdigit():
        raise ValueError(f"not an xdist worker id: {worker_id!r}")
    index = int(worker_id[2:])
    if index >= len(gpus):
        raise ValueError(f"worker {worker_id} has no GPU of its own: only {len(gpus)} GPUs ({','.join(gpus)})")
    return gpus[index]


def docker_gpus_flag(cuda_visible_devices: str | None) -> list[str]:
    """`docker run` arguments that pass the host's visible GPUs into a container: all of them when
    CUDA_VISIBLE_DEVICES is unset, exactly its list (indices or UUIDs, up to the first invalid entry, as
    CUDA reads it) when set, none when it is set but empty. Inside, they appear as 0..N-1, and the
    workers spread over them as on the host."""
    if cuda_visible_devices is None:
        return ["--gpus", "all"]
    ids = visible_gpus(cuda_visible_devices, 1 << 30)
    if not ids:
        return []
    return ["--gpus", f'"device={",".join(ids)}"']  # the quotes keep docker's CSV parser from splitting the list
