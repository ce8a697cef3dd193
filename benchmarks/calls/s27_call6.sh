#!/usr/bin/env bash
# Session 27, call 6 (run 241): (1) the discard's trade again, now that the partials are half the bytes: the combine
# without its L2 discard of the 16-bit partials (`diagnostic-16-bit-partials-not-discarded.patch`) beside main, two
# interleaved rounds on the rows that split (run 228, fp32 partials: the discard won by 1.0-2.2% on the varlen
# memory rows); (2) where the 128/2 varlen rows' remaining 1.2% sits: decode kernel against call after each flush,
# ours (main) and upstream's (l2_state.py --varlen, as run 237).
export FLASH_MLA_CUDA_ARCHS="90a"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/diagnostic-16-bit-partials-not-discarded.patch" AB_REPEAT=2 \
  BENCH_TIMEOUT=80 BENCH_ARGS="--heads 16:1,64:1,64:2,128:1,128:2" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
repo=$PWD
(cd /tmp && PYTHONPATH=/tmp/abi/site_new:$PYTHONPATH timeout 300 python3 "$repo/benchmarks/l2_state.py" \
  --configs 4096:64:2,4096:128:2,8192:128:2 --varlen --peers-dir "$repo/.peers" --peers upstream_bf16 2>&1 |
  grep -v -i warn | tee "$OUT/l2_state_varlen.txt" | tail -12)
