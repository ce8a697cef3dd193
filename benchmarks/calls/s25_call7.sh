#!/usr/bin/env bash
# Session 25, call 7 (run 225): decode + combine memory counters of flushed varlen calls, ours (main with the
# short-chain combine) and upstream, under the benchmark's zeroing flush (ncu leaves the caches and clocks alone).
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="build" bash benchmarks/device_session.sh 2>&1 | grep -E "^build|NVIDIA"
m=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,lts__t_sectors_op_read.sum,lts__t_sectors_op_write.sum,lts__t_sector_op_read_hit_rate.pct,lts__t_requests_srcunit_tex_op_read.sum,l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum,l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum,sm__warps_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum
for config in 4096:64:1 4096:16:1 4096:128:1; do for who in ours upstream_bf16; do
  extra=""; [ $who != ours ] && extra="--peers-dir .peers"
  timeout 90 ncu --cache-control none --clock-control none --kernel-name regex:"combine|splitkv" --launch-skip 4 --launch-count 6 \
    --metrics $m --csv --print-units base python3 benchmarks/flushed_calls.py --impl $who $extra --config $config --varlen > $OUT/mem_${who}_${config//:/_}.csv 2>&1
  echo "$config $who: rc=$?"
done; done
python3 - <<'PY'
import csv, glob, os, collections
out = os.environ.get("OUT", "/tmp/out")
for f in sorted(glob.glob(f"{out}/mem_*.csv")):
    rows = [r for r in csv.reader(open(f)) if len(r) > 10]
    if not rows: print(f, "no rows"); continue
    h = rows[0]; k = h.index("Kernel Name"); mi = h.index("Metric Name"); v = h.index("Metric Value"); idx = h.index("ID")
    per = collections.OrderedDict()
    for r in rows[1:]:
        per.setdefault((r[idx], "combine" if "combine" in r[k] else "decode"), {})[r[mi]] = r[v]
    print(os.path.basename(f))
    for (i, kind), ms in per.items():
        g = lambda n: ms.get(n, "?")
        print(f"  {kind:8s} us {float(g('gpu__time_duration.sum').replace(',',''))/1000:7.1f}  dram rd/wr MB {float(g('dram__bytes_read.sum').replace(',',''))/1e6:6.1f}/{float(g('dram__bytes_write.sum').replace(',',''))/1e6:5.1f}"
              f"  L2 rd/wr sect {g('lts__t_sectors_op_read.sum')}/{g('lts__t_sectors_op_write.sum')} hit {g('lts__t_sector_op_read_hit_rate.pct')}"
              f"  L2 rd req {g('lts__t_requests_srcunit_tex_op_read.sum')}  L1 ld req/sect {g('l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum')}/{g('l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum')}"
              f"  warps {g('sm__warps_active.avg.pct_of_peak_sustained_active')} inst {g('smsp__inst_executed.sum')}")
PY
