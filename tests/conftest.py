import os
import sys
from pathlib import Path

import pytest

# The shared suite (decode_suite.py, mla_reference.py, timing.py) imports as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_workers import GPU_LIST_ENV, gpu_for_worker, visible_gpus  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--forward-compat",
        action="store_true",
        default=False,
        help="run the sm80/sm86/sm89 variants on any newer GPU (same as FLASH_MLA_FORWARD_COMPAT=1)",
    )


def _device_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()  # NVML-based: does not initialise CUDA in this process
    except Exception:
        return 0


def pytest_configure(config):
    config.addinivalue_line("markers", "whole_gpu: needs the whole device; runs on one xdist worker (group whole_gpu)")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        # Controller (or a run without xdist): publish the GPUs the workers spread over.
        workers = getattr(config.option, "numprocesses", None) or 0
        if workers:
            gpus = visible_gpus(os.environ.get("CUDA_VISIBLE_DEVICES"), _device_count())
            if gpus and isinstance(workers, int) and workers > len(gpus):
                raise pytest.UsageError(
                    f"{workers} xdist workers for {len(gpus)} GPU(s) would put two workers on one GPU; "
                    f"use -n {len(gpus)} (or FLASH_MLA_TEST_WORKERS)"
                )
            os.environ[GPU_LIST_ENV] = ",".join(gpus)
        return
    gpus = [g for g in os.environ.get(GPU_LIST_ENV, "").split(",") if g]
    if gpus:  # pin this worker before anything initialises CUDA
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu_for_worker(worker, gpus)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("whole_gpu"):
            item.add_marker(pytest.mark.xdist_group("whole_gpu"))


def pytest_report_header(config):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        return f"{worker}: CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '')}"
    return None
