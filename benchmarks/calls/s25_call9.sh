#!/usr/bin/env bash
# Session 25, call 9 (run 227): does the discard or the programmatic launch keep the combine's partials out of the
# near L2 partition (run 226: 0.2% hits, 76% of its read sectors over the L2 fabric; upstream 27-66% hits)?
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="abi" AB_DIR="benchmarks/experiments/diagnostic-combine-no-discard.patch benchmarks/experiments/diagnostic-no-programmatic-launch.patch" AB_REPEAT=0 \
  bash benchmarks/device_session.sh 2>&1 | grep -E "abi"
m=gpu__time_duration.sum,dram__bytes_read.sum,lts__t_sectors_op_read.sum,lts__t_sector_op_read_hit_rate.pct,lts__t_sectors_srcunit_ltcfabric.sum
for name in new diagnostic-combine-no-discard diagnostic-no-programmatic-launch; do
  echo "== $name 4096:64:1 varlen, combine"
  (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 60 ncu --cache-control none --clock-control none --kernel-name regex:combine \
    --launch-skip 2 --launch-count 2 --metrics $m --print-units base python3 $OLDPWD/benchmarks/flushed_calls.py --config 4096:64:1 --varlen 2>&1 |
    grep -E "gpu__|lts__|dram__|rror" | sed 's/  */ /g' | paste -sd' ' | sed 's/gpu__time/\n  gpu__time/g')
done
