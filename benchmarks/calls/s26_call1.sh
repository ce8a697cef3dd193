#!/usr/bin/env bash
# Session 26, call 1 (run 228; written in session 25): the discard's trade (NOTES "Plan for session 26", item 1).
# Builds: main; main without the combine's discards; main with consecutive calls' partials in different blocks.
# For each: the combine's L2 counters at 4096/64/1 varlen (as run 227), then 3 interleaved bench rounds on the
# varlen rows (the no-discard build's decode pays the write-backs there, run 212).
export FLASH_MLA_CUDA_ARCHS="90a"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/diagnostic-combine-no-discard.patch $E/diagnostic-partials-blocks-in-turn.patch" AB_REPEAT=3 \
  BENCH_TIMEOUT=60 BENCH_ARGS="--heads 16:1,64:1,128:1,64:2" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
m=gpu__time_duration.sum,dram__bytes_read.sum,lts__t_sectors_op_read.sum,lts__t_sector_op_read_hit_rate.pct,lts__t_sectors_srcunit_ltcfabric.sum
for name in new diagnostic-combine-no-discard diagnostic-partials-blocks-in-turn; do
  echo "== $name 4096:64:1 varlen, combine"
  (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 60 ncu --cache-control none --clock-control none --kernel-name regex:combine \
    --launch-skip 2 --launch-count 2 --metrics $m --print-units base python3 $OLDPWD/benchmarks/flushed_calls.py --config 4096:64:1 --varlen 2>&1 |
    grep -E "gpu__|lts__|dram__|rror" | sed 's/  */ /g' | paste -sd' ' | sed 's/gpu__time/\n  gpu__time/g')
done
