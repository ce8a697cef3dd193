"""CPU: benchmarks/ncu_ab_table.py, the table of the device script's `abncu` step (ncu's CSV output)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import ncu_ab_table  # noqa: E402

HEADER = ('"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size",'
          '"Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"\n')


def write_run(folder: Path, name: str, i: int, values: list, unit: str = "ns") -> None:
    """values: durations, or (kernel name, duration) pairs."""
    lines = ["==PROF== Connected to process 1\n", "NVIDIA H100 80GB HBM3, variant native\n", HEADER]
    for k, v in enumerate(values):
        kernel, v = v if isinstance(v, tuple) else ("splitkv_decode_kernel", v)
        lines.append(f'"{k}","1","python3","h","{kernel}","1","7","(256, 1, 1)","(2, 1, 66)","0","9.0",'
                     f'"Command line profiler metrics","gpu__time_duration.sum","{unit}","{v:,}"\n')
    (folder / f"ncu_{name}_{i}.csv").write_text("".join(lines))


def test_medians_per_config_and_ratios(tmp_path):
    # two configs, 3 launches each a run; the second round of "new" in us
    write_run(tmp_path, "new", 1, [200_000, 201_000, 202_000, 500_000, 500_000, 510_000])
    write_run(tmp_path, "new", 2, [199.0, 200.0, 200.0, 499.0, 505.0, 500.0], unit="us")
    write_run(tmp_path, "base", 1, [210_000, 210_000, 210_000, 500_000, 500_000, 500_000])
    lines = ncu_ab_table.table(str(tmp_path / "ncu_{name}_{i}.csv"), 2, ["4096:16:1", "4096:128:2"], ["new", "base"])
    assert "200.0 [199.0-202.0]" in lines[1]  # median of six launches, min and max
    assert "210.0 [210.0-210.0]" in lines[1]
    assert lines[-1] == "new/base: 0.9524 1.0000"  # 200 / 210, 500 / 500


def test_launch_count_must_split_evenly(tmp_path):
    write_run(tmp_path, "new", 1, [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="5 calls for 2 configs"):
        ncu_ab_table.table(str(tmp_path / "ncu_{name}_{i}.csv"), 1, ["a", "b"], ["new"])


def test_combine_folded_into_its_call(tmp_path, capsys):
    # main: decode and combine a call; the tree: no combine kernel
    combine = "void flash_mla::combine_splits_kernel<__nv_bfloat16>(DecodeParams)"
    write_run(tmp_path, "main", 1, [100_000, (combine, 5_000), 102_000, (combine, 5_000)])
    write_run(tmp_path, "new", 1, [103_000, 103_000])
    pattern = str(tmp_path / "ncu_{name}_{i}.csv")
    assert ncu_ab_table.main(["ncu_ab_table.py", pattern, "1", "a", "new", "main", "--fold-combine"]) == 0
    out = capsys.readouterr().out
    assert "106.0 [105.0-107.0]" in out and "new/main: 0.9717" in out  # 103 / 106


def test_usage(capsys):
    assert ncu_ab_table.main(["ncu_ab_table.py", "pattern"]) == 2
    assert "ncu_ab_table.py" in capsys.readouterr().err
