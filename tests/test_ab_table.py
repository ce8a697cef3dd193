"""CPU: benchmarks/ab_table.py, the A/B table of the device script's `ab` and `abi` steps."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import ab_table  # noqa: E402


def write_run(folder: Path, name: str, i: int, ms_by_heads: dict) -> None:
    rows = [{"impl": "ours_sm90", "s_k": 8192, "varlen": False, "h_q": h_q, "s_q": s_q, "ms": ms}
            for (h_q, s_q), ms in ms_by_heads.items()]
    (folder / f"{name}.{i}.json").write_text(json.dumps({"rows": rows}))


def test_fastest_round_per_row_and_ratios(tmp_path):
    write_run(tmp_path, "new", 1, {(128, 2): 1.00, (16, 1): 0.42})
    write_run(tmp_path, "new", 2, {(128, 2): 0.95, (16, 1): 0.44})
    write_run(tmp_path, "base", 1, {(128, 2): 1.00, (16, 1): 0.40})
    write_run(tmp_path, "base", 2, {(128, 2): 1.05, (16, 1): 0.42})
    lines = ab_table.table(str(tmp_path / "{name}.{i}.json"), 2, ["new", "base"])
    row_128 = next(line for line in lines if " 128   2 " in line)
    assert "0.950 (1.053)" in row_128  # the tree's fastest round, and slowest / fastest
    assert row_128.split()[-1] == "0.950"  # 0.95 / 1.00
    row_16 = next(line for line in lines if "  16   1 " in line)
    assert row_16.split()[-1] == "1.050"  # 0.42 / 0.40
    assert lines[-1].startswith("time new / base: geomean 0.999")  # sqrt(0.95 * 1.05)
    assert "min 0.950, max 1.050" in lines[-1]


def test_usage_without_builds(capsys):
    assert ab_table.main(["ab_table.py", "{name}.{i}.json"]) == 2
    assert "ab_table.py" in capsys.readouterr().err
