import os
import sys
import time
from pathlib import Path

import pytest

# torch.compile in a test process: compile in-process instead of starting inductor's pool of compile
# subprocesses (one per core), which costs seconds per xdist worker and buys nothing for one tiny graph.
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")

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
    parser.addoption(
        "--grid",
        choices=("quick", "full"),
        default=None,
        help="the GPU modules' decode grid: quick (default, ~110 tests a module) or full (the whole cross product, "
        "~1800); same as FLASH_MLA_TEST_GRID",
    )


def _device_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()  # NVML-based: does not initialise CUDA in this process
    except Exception:
        return 0


def pytest_configure(config):
    config.addinivalue_line("markers", "whole_gpu: needs the whole device; runs on one xdist worker (group whole_gpu)")
    if config.getoption("--grid"):  # before the test modules are imported: they build their grid at import
        os.environ["FLASH_MLA_TEST_GRID"] = config.getoption("--grid")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        # Controller (or a run without xdist): publish the GPUs the workers spread over.
        workers = getattr(config.option, "numprocesses", None) or 0
        if workers:
            # A launcher that already probed the GPUs (noxfile.py) passes the list and spares this process
            # a torch import (~5 s before any worker starts); otherwise ask the driver.
            gpus = [g for g in os.environ.get(GPU_LIST_ENV, "").split(",") if g]
            gpus = gpus or visible_gpus(os.environ.get("CUDA_VISIBLE_DEVICES"), _device_count())
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


# ---- per-worker summary (xdist): which GPU each worker had and how long it was busy ----------------
_session_start = time.monotonic()
_worker_busy: dict[str, list[float]] = {}  # worker id -> [busy seconds, tests, first report, last report]
_worker_gpu: dict[str, str] = {}


def pytest_runtest_logreport(report):
    node = getattr(report, "node", None)  # set on the controller for reports that came from a worker
    if node is None:
        return
    now = time.monotonic() - _session_start
    busy = _worker_busy.setdefault(node.workerinput.get("workerid", "?"), [0.0, 0, now, now])
    busy[0] += report.duration
    busy[1] += report.when == "call"
    busy[3] = now


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is None:  # controller or a plain run
        return
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "(all)")
        workeroutput["gpu"] = f"{torch.cuda.get_device_name()} (CUDA_VISIBLE_DEVICES={visible})"


def pytest_testnodedown(node, error):
    gpu = getattr(node, "workeroutput", {}).get("gpu")
    if gpu:
        _worker_gpu[node.workerinput["workerid"]] = gpu


def pytest_terminal_summary(terminalreporter):
    for worker in sorted(_worker_busy):
        seconds, tests, first, last = _worker_busy[worker]
        gpu = _worker_gpu.get(worker, "no GPU used")
        terminalreporter.write_line(f"{worker}: {tests} tests, {seconds:.1f} s busy, first report at {first:.1f} s, "
                                    f"last at {last:.1f} s, {gpu}")
    if _worker_busy:
        terminalreporter.write_line(f"controller: {time.monotonic() - _session_start:.1f} s since conftest import")


def pytest_report_header(config):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        return f"{worker}: CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '')}"
    return None
