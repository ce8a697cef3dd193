"""CPU checks of benchmarks/bench_decode.py's arguments: bad ones stop it before any CUDA call."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_decode.py"


def run_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120)


def test_unknown_implementation_in_order_is_named():
    result = run_bench("--variants", "sm90", "--order", "upstream_bf16")
    assert result.returncode == 2
    assert "--order: unknown implementation(s) upstream_bf16" in result.stderr
    assert "ours_sm90" in result.stderr


def test_repeat_must_be_positive():
    result = run_bench("--repeat", "0")
    assert result.returncode == 2
    assert "--repeat: expected at least 1" in result.stderr


def test_unknown_flush_mode_is_rejected():
    result = run_bench("--l2-flush", "zero")
    assert result.returncode == 2
    assert "--l2-flush" in result.stderr


HOST = BENCH.parent / "host_overhead.py"


def run_host(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HOST), *args], capture_output=True, text=True, timeout=120)


def test_host_overhead_configs_are_checked():
    result = run_host("--configs", "4096:16")
    assert result.returncode == 2
    assert "--configs: expected s_k:h_q:s_q" in result.stderr


def test_host_overhead_peers_need_their_folder():
    result = run_host("--peers", "upstream_bf16")
    assert result.returncode == 2
    assert "--peers needs --peers-dir" in result.stderr


L2_STATE = BENCH.parent / "l2_state.py"


def test_l2_state_checks_its_arguments():
    result = subprocess.run([sys.executable, str(L2_STATE), "--configs", "4096"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "--configs: expected s_k:h_q:s_q" in result.stderr
    result = subprocess.run([sys.executable, str(L2_STATE), "--peers", "upstream_bf16"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert "--peers needs --peers-dir" in result.stderr
