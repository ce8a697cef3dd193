"""CUDA timing helpers shared by the test scripts and benchmarks/ (anchors.md's method)."""

from __future__ import annotations

import statistics
from collections.abc import Callable

import torch

L2_FLUSH_BYTES = 256 * 1024 * 1024


L2_FLUSH_MODES = ("write", "read", "write+read")

# GPU clock cycles of the spin kernel that hide_launch queues before each timed launch: ~0.5 ms at the
# H100's 1.98 GHz, longer than any host path of one decode call, so the timed region starts on a GPU that
# already has the call's kernels queued.
HIDE_LAUNCH_CYCLES = 1_000_000


def l2_flush(flush_mode: str = "write") -> Callable[[], None]:
    """A call that flushes the L2 through a 256 MiB buffer (allocated once, here): "write" zeroes it
    (anchors.md's flush; it leaves the L2 full of dirty lines, which the next launch writes back while it
    reads, up to the L2's 50 MB on an H100), "read" reads it (clean lines), "write+read" zeroes then reads it
    (the dirty lines are written back before the next launch)."""
    if flush_mode not in L2_FLUSH_MODES:
        raise ValueError(f"flush_mode: expected one of {L2_FLUSH_MODES}, got {flush_mode!r}")
    buffer = torch.ones(L2_FLUSH_BYTES // 8, dtype=torch.int64, device="cuda")
    if flush_mode == "write":
        return buffer.zero_
    if flush_mode == "read":
        return buffer.max
    return lambda: (buffer.zero_(), buffer.max())


def time_cuda_ms(fn: Callable[[], object], iters: int = 50, warmup: int = 5, flush_l2: bool = True,
                 flush_mode: str = "write", hide_launch: bool = True) -> float:
    """Median milliseconds of `fn`, each launch after a 256 MiB L2 flush (l2_flush(flush_mode)), timed
    with CUDA events.

    hide_launch (the default) queues a spin kernel (HIDE_LAUNCH_CYCLES, ~0.5 ms) between the flush and
    the start event, so that only GPU time is measured. Without it the start event follows the flush
    directly, and a call whose host path (Python checks, dispatch, launches) outlasts the flush's ~90 us is
    timed with the excess: sporadic 10-100% slow medians of ours, whose host path is 40-130 us on the
    device machine (benchmarks/NOTES.md, runs 184-186). anchors.md's method is hide_launch=False.
    """
    flush = l2_flush(flush_mode) if flush_l2 else None  # (checks flush_mode before allocating)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        if flush is not None:
            flush()
        if hide_launch:
            torch.cuda._sleep(HIDE_LAUNCH_CYCLES)
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
