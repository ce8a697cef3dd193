"""CPU: benchmarks/ncu_mix_table.py, the side-by-side table of the device script's `ncumix` step."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import ncu_mix_table  # noqa: E402


def launch(hit_rate: str, reads: str, opcodes: str) -> str:
    """One launch as ncu prints it (the per-opcode instances wrap over several lines)."""
    return f"""==PROF== Connected to process 1401
  void splitkv_decode_kernel<KernelTraits<__nv_bfloat16>, 1>(DecodeParams) (2, 1, 66)x(256, 1, 1), Device 0, CC 9.0
    Section: Command line profiler metrics
    ------------------------------ ----------- ------------------------------
    Metric Name                    Metric Unit                   Metric Value
    ------------------------------ ----------- ------------------------------
    lts__t_sector_hit_rate.pct               %                          {hit_rate}
    lts__t_sectors_op_read.sum          sector                     {reads}
    sass__inst_executed_per_opcode               {opcodes}
    smsp__inst_executed.sum                               inst    39,216,992
    ------------------------------ ----------- ------------------------------
"""


def test_scalars_and_wrapped_opcodes_side_by_side():
    ours = launch("28.54", "34,434,126", "9,100 (UMOV: 6,000;\n                UIADD3: 3,000; HGMMA:\n           100)")
    theirs = launch("3.71", "29,267,357", "20,100 (FMUL: 14,000; UMOV:\n       6,000; HGMMA: 100)")
    scalars, opcodes = ncu_mix_table.parse(ours)
    assert scalars["lts__t_sector_hit_rate.pct"] == 28.54
    assert scalars["lts__t_sectors_op_read.sum"] == 34_434_126
    assert scalars["smsp__inst_executed.sum"] == 39_216_992
    assert opcodes == {"UMOV": 6000, "UIADD3": 3000, "HGMMA": 100}
    lines = ncu_mix_table.table(ours, theirs, top=3)
    read_line = next(line for line in lines if line.startswith("lts__t_sectors_op_read.sum"))
    assert read_line.endswith("1.177")
    assert "executed instructions: 9,100 / 20,100" in "\n".join(lines)
    assert lines[-3].split() == ["FMUL", "0", "14,000", "-14,000"]  # the largest difference first
    assert lines[-2].split() == ["UIADD3", "3,000", "0", "+3,000"]
