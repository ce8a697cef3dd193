"""CPU: benchmarks/ncu_hotspots.py reads Nsight Compute's source-page CSV (a small file in its format)."""

import gzip
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import ncu_hotspots  # noqa: E402

HEADER = ('"Address","Source","Warp Stall Sampling (All Samples)","Instructions Executed",'
          '"stall_barrier","stall_long_sb","stall_selected"')
ROWS = [
    ('"0x10","      HGMMA.64x64x16.F32.BF16 R152, gdesc[UR16], R152","10","100","0","0","10"'),
    ('"0x20","      SYNCS.PHASECHK.TRANS64.TRYWAIT P0, [UR6+0x38510], R184","0","100","0","0","0"'),
    ('"0x30","@!P0  BRA 0x7f0f9e64ad70","60","100","0","60","0"'),
    ('"0x40","      WARPGROUP.DEPBAR.LE gsb0, 0x0","30","100","30","0","0"'),
]


def write_csv(path: Path, kernel: str = "void splitkv_decode_kernel<bf16>(DecodeParams)") -> Path:
    text = "\n".join([f'"Kernel Name","{kernel}",', HEADER, *ROWS]) + "\n"
    with gzip.open(path, "wt") as f:
        f.write(text)
    return path


def test_opcode_drops_predicate_and_modifiers():
    assert ncu_hotspots.opcode("@!P0  BRA 0x7f0f9e64ad70") == "BRA"
    assert ncu_hotspots.opcode("      HGMMA.64x64x16.F32.BF16 R152, gdesc[UR16], R152") == "HGMMA"
    assert ncu_hotspots.opcode("") == "?"


def test_read_rows_keeps_kernel_name_and_every_instruction(tmp_path):
    kernel, rows = ncu_hotspots.read_rows(str(write_csv(tmp_path / "k_sass.csv.gz")))
    assert kernel.startswith("void splitkv_decode_kernel")
    assert [r["Address"] for r in rows] == ["0x10", "0x20", "0x30", "0x40"]


def test_report_ranks_instructions_and_reasons(tmp_path, capsys):
    ncu_hotspots.report(str(write_csv(tmp_path / "k_sass.csv.gz")), top=2, context=1)
    out = capsys.readouterr().out
    assert "4 instructions, 100 samples" in out
    assert "long_sb 60.0, barrier 30.0, selected 10.0" in out
    assert "BRA 60.0, WARPGROUP 30.0, HGMMA 10.0" in out
    hot = [line for line in out.splitlines() if "%" in line and ":" in line and "BRA 0x" in line]
    assert hot and "long_sb 100%" in hot[0]
    assert "TRYWAIT" in out  # the line before the hottest one, as context
    assert "HGMMA.64x64x16" not in out.split("top 2 instructions")[1]  # ranked third of four
