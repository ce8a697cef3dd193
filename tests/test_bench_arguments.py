"""CPU checks of the benchmark scripts' arguments: bad ones stop them (exit 2, naming the argument) before any
CUDA call."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

BAD_ARGUMENTS = [
    ("bench_decode.py", ["--variants", "sm90", "--order", "upstream_bf16"], "--order: unknown implementation(s) upstream_bf16"),
    ("bench_decode.py", ["--repeat", "0"], "--repeat: expected at least 1"),
    ("bench_decode.py", ["--l2-flush", "zero"], "--l2-flush"),
    ("bench_decode.py", ["--variants", "sm90/p48"], "--variants: expected VARIANT[@BYTES][/pPAGE][/cBLOCKS]"),
    ("bench_decode.py", ["--variants", "sm80@lots"], "--variants: expected VARIANT[@BYTES][/pPAGE][/cBLOCKS]"),
    ("bench_decode.py", ["--variants", "sm90/cfew"], "--variants: expected VARIANT[@BYTES][/pPAGE][/cBLOCKS]"),
    ("host_overhead.py", ["--configs", "4096:16"], "--configs: expected s_k:h_q:s_q"),
    ("host_overhead.py", ["--peers", "upstream_bf16"], "--peers needs --peers-dir"),
    ("l2_state.py", ["--configs", "4096"], "--configs: expected s_k:h_q:s_q"),
    ("l2_state.py", ["--peers", "upstream_bf16"], "--peers needs --peers-dir"),
    ("flushed_calls.py", ["--config", "4096:16"], "--config: expected s_k:h_q:s_q"),
    ("flushed_calls.py", ["--config", "4096:16:1,8192:16:1"], "--config: expected one s_k:h_q:s_q"),
    ("flushed_calls.py", ["--impl", "upstream_bf16"], "--impl: a peer needs --peers-dir"),
    ("flushed_calls.py", ["--calls", "0"], "--calls: expected at least 1"),
    ("flushed_calls.py", ["--mode", "zero"], "--mode"),
    ("scheduler_time.py", ["--batches", "128,x"], "--batches: expected comma-separated positive ints"),
    ("scheduler_time.py", ["--batches", "0"], "--batches: expected comma-separated positive ints"),
    ("scheduler_time.py", ["--calls", "0"], "--rows and --calls: expected at least 1"),
    ("accuracy_probe.py", ["--configs", "4096:16"], "--configs: expected s_k:h_q:s_q"),
    ("accuracy_probe.py", ["--dtypes", "bf16,fp8"], "--dtypes: expected a comma list of"),
    ("accuracy_probe.py", ["--seeds", "0"], "--seeds and --batch: expected at least 1"),
]


@pytest.mark.parametrize(("script", "args", "message"), BAD_ARGUMENTS,
                         ids=[f"{s}-{a[0]}{'-' + a[1] if len(a) > 1 else ''}" for s, a, _ in BAD_ARGUMENTS])
def test_bad_arguments_are_named(script, args, message):
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert message in result.stderr


def test_order_error_lists_the_implementations():
    result = subprocess.run([sys.executable, str(BENCHMARKS / "bench_decode.py"), "--variants", "sm90", "--order",
                             "upstream_bf16"], capture_output=True, text=True, timeout=120)
    assert "ours_sm90" in result.stderr
