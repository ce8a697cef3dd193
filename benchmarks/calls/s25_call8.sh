#!/usr/bin/env bash
# Session 25, call 8 (run 226): where the combine's partials are read from. Run 225: ours hit the L2 on 0.2% of
# the combine's read sectors (upstream 27-66%), with DRAM reads a third below the misses (the rest from the far
# L2 partition?). Builds: main; the column split's partials by plain stores (no evict-last hint); the tile pairs'
# partials by per-warp LSU stores instead of bulk copies (sm90-o-copies-by-warps-lsu). Counters, then a bench round.
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="abi" AB_DIR="benchmarks/experiments/sm90-column-split-partials-plain-stores.patch benchmarks/experiments/sm90-o-copies-by-warps-lsu.patch" AB_REPEAT=0 \
  bash benchmarks/device_session.sh 2>&1 | grep -E "abi|registers;"
m=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,lts__t_sectors_op_read.sum,lts__t_sector_op_read_hit_rate.pct
for name in new sm90-column-split-partials-plain-stores sm90-o-copies-by-warps-lsu; do for config in 4096:64:1 4096:128:1; do
  (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 60 ncu --cache-control none --clock-control none --kernel-name regex:"combine|splitkv" \
    --launch-skip 4 --launch-count 4 --metrics $m --csv --print-units base python3 $OLDPWD/benchmarks/flushed_calls.py --config $config --varlen \
    > $OUT/mem_${name}_${config//:/_}.csv 2>&1); echo "$name $config: rc=$?"
done; done
(cd /tmp && PYTHONPATH=/tmp/abi/site_new:$PYTHONPATH timeout 60 ncu --cache-control none --clock-control none --kernel-name regex:combine \
  --launch-skip 2 --launch-count 2 --metrics lts__t_sectors_srcunit_ltcfabric.sum,lts__t_sectors_op_read.sum,lts__t_sector_op_read_hit_rate.pct,dram__bytes_read.sum --print-units base \
  python3 $OLDPWD/benchmarks/flushed_calls.py --config 4096:64:1 --varlen 2>&1 | grep -E "lts__|dram__|ERR|rror" | head -12)
python3 - <<'PY'
import csv, glob, os, collections
out = os.environ["OUT"]
for f in sorted(glob.glob(f"{out}/mem_*.csv")):
    rows = [r for r in csv.reader(open(f)) if len(r) > 10]
    if not rows: print(os.path.basename(f), "no rows"); continue
    h = rows[0]; k = h.index("Kernel Name"); mi = h.index("Metric Name"); v = h.index("Metric Value"); idx = h.index("ID")
    per = collections.OrderedDict()
    for r in rows[1:]: per.setdefault((r[idx], "combine" if "combine" in r[k] else "decode"), {})[r[mi]] = r[v].replace(",", "")
    print(os.path.basename(f))
    for (i, kind), ms in per.items():
        g = lambda n: float(ms.get(n, "nan"))
        print(f"  {kind:8s} us {g('gpu__time_duration.sum')/1000:6.1f} dram rd/wr MB {g('dram__bytes_read.sum')/1e6:6.1f}/{g('dram__bytes_write.sum')/1e6:5.1f}"
              f" L2 rd MB {g('lts__t_sectors_op_read.sum')*32/1e6:6.1f} hit% {g('lts__t_sector_op_read_hit_rate.pct'):5.1f}"
              f" fabric MB {g('lts__t_sectors_srcunit_ltcfabric.sum')*32/1e6:6.1f} tex lookup hit/miss MB {g('lts__t_sectors_srcunit_tex_op_read_lookup_hit.sum')*32/1e6:6.1f}/{g('lts__t_sectors_srcunit_tex_op_read_lookup_miss.sum')*32/1e6:6.1f}")
PY
cd /tmp/abi && for name in new sm90-column-split-partials-plain-stores sm90-o-copies-by-warps-lsu; do
  PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 60 python3 $OLDPWD/benchmarks/bench_decode.py --variants sm90 --heads 16:1,64:1,128:1,64:2 --json /tmp/abi/$name.1.json > /tmp/abi/$name.1.log 2>&1 || tail -3 /tmp/abi/$name.1.log
done
python3 $OLDPWD/benchmarks/ab_table.py "/tmp/abi/{name}.{i}.json" 1 new sm90-column-split-partials-plain-stores sm90-o-copies-by-warps-lsu
