"""CPU: the tables of the diagnostic patches in benchmarks/experiments/ (m_block_drift.py, piece_timeline.py,
grid_timeline.py, sm_rates.py, flush_timeline.py),
read from output lines as the patched kernels print them."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "experiments"))

import flush_timeline  # noqa: E402
import grid_timeline  # noqa: E402
import m_block_drift  # noqa: E402
import piece_timeline  # noqa: E402
import sm_rates  # noqa: E402
import stamp_lines  # noqa: E402


def test_parse_keeps_the_last_launch_and_its_prefix():
    text = "\n".join([
        "DRIFT z=0 m=0 t0=5", "TL tid=0 z=0 walk=1", "noise", "DRIFT z=0 m=0 t0=7", "DRIFT z=0 m=1 t0=9",
        "DRIFT z=4 m=0 t0=11",
    ])
    # 4 DRIFT lines, 2 launches: the last 2 are the second launch's
    assert stamp_lines.parse(text, "DRIFT", 2) == [{"z": 0, "m": 1, "t0": 9}, {"z": 4, "m": 0, "t0": 11}]



def test_parse_launches_splits_in_order():
    text = "\n".join(["CS a=1", "CS a=2", "TL x=0", "CS a=3", "CS a=4"])
    assert stamp_lines.parse_launches(text, "CS", 2) == [[{"a": 1}, {"a": 2}], [{"a": 3}, {"a": 4}]]

def drift_line(z: int, m: int, t0: int, step: int) -> str:
    stamps = " ".join(f"p{k}={k * step}" for k in range(0, 32, 4))
    return f"DRIFT z={z} m={m} tiles=64 pieces=2 t0={t0} {stamps} end={32 * step}"


def test_drift_compares_m_block_1_with_0_of_each_part():
    # part 0: m_block 1 starts 100 ns later; part 4: 300 ns earlier and each of its steps 10 ns longer
    rows = stamp_lines.parse("\n".join([drift_line(0, 0, 1000, 2000), drift_line(0, 1, 1100, 2000),
                                        drift_line(4, 0, 1000, 2000), drift_line(4, 1, 700, 2010)]), "DRIFT", 1)
    lines = m_block_drift.table(rows)
    assert lines[0].startswith("2 parts with both m_blocks")
    p0 = lines[2].split()  # gaps +100 and -300: median |gap| 200, max 300, m_block 1 later in half the parts
    assert p0[0] == "p0" and float(p0[1]) == 200 and p0[3] == "300" and p0[4] == "0.50"
    end = lines[-1].split()  # gaps +100 and +20 (part 4's 32 steps of 10 ns more catch up 320 ns)
    assert end[0] == "end" and float(end[1]) == 60 and end[3] == "100" and end[4] == "1.00"


def timeline_line(tid: int, z: int, head: int, epi: int) -> str:
    return (f"TL tid={tid} z={z} b=0 tiles=64 split=0 first=1 walk=1800 start=1700 first_s=4000 loop=256000 epi={epi} "
            f"head_abs={head} loop_end_abs={head + 263500 + tid} end_abs={head + 263500 + tid + epi}")


def test_timeline_medians_by_warpgroup_and_the_gap_between_them():
    text = "\n".join(timeline_line(tid, 0, 300000 * k, 5000 + 100 * k) for k in range(3) for tid in (0, 128))
    lines = piece_timeline.table(stamp_lines.parse(text, "TL", 1))
    later_wg1 = next(line for line in lines if line.startswith("1") and "later" in line).split()
    assert later_wg1[-2:] == ["5150", "4000"]  # epilogue median of 5100 and 5200; loop a tile 256000 / 64
    assert "ends its loop 128 cycles and its piece 128 cycles after" in lines[-1]


def test_epilogue_steps_by_warpgroup_and_output():
    text = "\n".join([timeline_line(0, 0, 0, 5000), timeline_line(128, 0, 0, 5000)] + [
        f"EPI tid={tid} z=0 split={split} sync=10 stats={600 + split} stage=1500 bar=40 issue={3000 - tid} wait=300"
        for tid in (0, 128) for split in (0, 1)])
    lines = piece_timeline.both_tables(text, 1)
    epilogue = lines[lines.index("") + 1:]
    assert epilogue[0].split()[3:] == list(piece_timeline.EPILOGUE_STEPS)
    assert epilogue[2].split() == ["0", "split", "1", "10", "601", "1500", "40", "3000", "300"]
    assert epilogue[3].split() == ["1", "final", "1", "10", "600", "1500", "40", "2872", "300"]


def grid_line(z: int, t0: int, exit_ns: int, pieces: int) -> str:
    second = "s1=102000 q1=104000 f1=105000 l1=200000 e1=202000 n1=30" if pieces > 1 else "s1=0 q1=0 f1=0 l1=0 e1=0 n1=0"
    return (f"CS z={z} m=0 pieces={pieces} t0={t0} p0=1000 plast=190000 s0=100 q0=2000 f0=7000 l0=100000 e0=101000 "
            f"n0=31 {second} s2=0 q2=0 f2=0 l2=0 e2=0 n2=0 exit={exit_ns}")


def test_grid_timeline_span_tail_and_idle_time():
    # two CTAs: the second starts 1 us later and leaves 10 us after the first; the first has two pieces
    rows = stamp_lines.parse("\n".join([grid_line(0, 0, 203000, 2), grid_line(1, 1000, 212000, 1)]), "CS", 1)
    lines = grid_timeline.table(rows)
    assert lines[0] == "2 CTAs, span 213.0 us (first start to last exit)"
    waiting = [line for line in lines if line.startswith("waiting for the last CTA")][0].split()[-3:]
    assert waiting == ["0.00", "5.00", "10.00"]
    assert any(line.startswith("piece 1 (1 CTAs, tiles 30-30)") for line in lines)
    idle = [line for line in lines if line.startswith("no tile in hand")][0]
    # CTA 0 holds tiles 93 + 95 us of the span, CTA 1 93 us: idle 25 and 120 us
    assert idle.split()[7:10] == ["25.00", "72.50", "120.00"]


def rates_line(sm: int, us_a_tile: float) -> str:
    return (f"CS z={sm} m=0 sm={sm} pieces=1 t0=0 p0=0 plast=0 s0=0 q0=0 f0=1000 l0={1000 + int(64 * us_a_tile * 1000)} "
            "e0=0 n0=64 exit=0")


def test_sm_rates_ranks_the_same_slow_sms():
    # 3 launches: the first two rank SMs 0 < 1 < 2 < 3 by us a tile, the third the other way round
    launches = [[rates_line(sm, 3.0 + 0.01 * sm) for sm in range(4)]] * 2 + [[rates_line(sm, 3.1 - 0.01 * sm) for sm in range(4)]]
    runs = sm_rates.launch_rates("\n".join(line for launch in launches for line in launch))
    assert runs[0] == runs[1] and abs(runs[0][3] - 3.03) < 1e-9
    assert sm_rates.rank_correlation(runs[0], runs[1]) == 1.0
    assert sm_rates.rank_correlation(runs[0], runs[2]) == -1.0
    lines = sm_rates.table(runs)
    assert lines[0] == "3 launches, 4 SMs in all"


def tps_line(ready: int, pieces: list[int], end: int) -> str:
    stamps = " ".join(f"p{k}={value}" for k, value in enumerate(pieces))
    return f"TPS z=0 x=0 sm=3 b0=0 b1=1 entry={ready - 500} ready={ready} {stamps} end={end}"


def test_flush_timeline_splits_calls_at_marks_and_skips_stale_piece_slots():
    text = "\n".join([
        tps_line(1000, [0, 0, 0, 0], 9000), "MARK warmup 0",  # the warm-up call is left out
        # write: CTA 1's p3 (5) is stale, from an earlier launch; its first piece ends at p1, 60 us after the first ready
        tps_line(10_000, [60_000, 0, 130_000, 0], 131_000), tps_line(12_000, [0, 70_000, 0, 5], 141_000),
        "MARK write 0",
        tps_line(10_000, [50_000, 0, 0, 90_000], 120_000), "MARK read 0",
    ])
    calls = flush_timeline.parse_calls(text)
    assert [mode for mode, _ in calls] == ["warmup", "write", "read"]
    # us from the first ready: latest ready 2, first piece ends 50 and 60 (median 55), ends 121 and 131
    assert flush_timeline.call_row(calls[1][1]) == (2.0, 55.0, 60.0, 126.0, 131.0)
    lines = flush_timeline.table(text)
    assert lines[-2] == "median write: 2.0 55.0 60.0 126.0 131.0"
    assert lines[-1] == "median read: 0.0 40.0 40.0 110.0 110.0"
