"""CUDA timing helpers shared by the test scripts and benchmarks/ (anchors.md's method)."""

from __future__ import annotations

import statistics
from collections.abc import Callable

import torch

L2_FLUSH_BYTES = 256 * 1024 * 1024


def time_cuda_ms(fn: Callable[[], object], iters: int = 50, warmup: int = 5, flush_l2: bool = True) -> float:
    """Median milliseconds of `fn`, each launch after a 256 MiB L2 flush, timed with CUDA events."""
    flush = torch.empty(L2_FLUSH_BYTES, dtype=torch.uint8, device="cuda") if flush_l2 else None
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        if flush is not None:
            flush.zero_()
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def copy_bandwidth_gbs(nbytes: int = 2 * 1024**3) -> float:
    """Device-to-device copy bandwidth, bytes read + written, GB/s (the memory roofline)."""
    free, _ = torch.cuda.mem_get_info()
    nbytes = min(nbytes, free // 4)
    src = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    ms = time_cuda_ms(lambda: dst.copy_(src), iters=20, flush_l2=False)
    return 2 * nbytes / ms / 1e6


def matmul_tflops(n: int = 8192, dtype: torch.dtype = torch.bfloat16) -> float:
    """Dense matmul throughput (the compute roofline), TFLOP/s, on random data."""
    a = torch.randn(n, n, dtype=dtype, device="cuda")
    b = torch.randn(n, n, dtype=dtype, device="cuda")
    ms = time_cuda_ms(lambda: a @ b, iters=20, flush_l2=False)
    return 2 * n**3 / ms / 1e9
