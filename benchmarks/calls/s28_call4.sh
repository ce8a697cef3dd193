#!/usr/bin/env bash
# Session 28, call 4 (diagnostic): run 246 put 3.5-4.5 us of a tile-pair piece in the epilogue's O store (no store:
# 4.9 us a piece at 128/2, main 8.4-9.5), none of it in the wait for the copies' reads. Split it: staging only
# (stmatrix, fence, warpgroup barrier; no copies: diagnostic-o-staging-only) and copies only (the 128 row copies
# of whatever the stages hold, no stmatrix: diagnostic-o-copies-only). Both never to land (wrong output). The
# piece sweep on main and on each, two interleaved rounds.
export FLASH_MLA_CUDA_ARCHS="90a"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/diagnostic-o-staging-only.patch $E/diagnostic-o-copies-only.patch" AB_REPEAT=0 \
  bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ab_table\|Traceback\|Error\|File "
repo=$PWD
for round in 1 2; do
  for name in new diagnostic-o-staging-only diagnostic-o-copies-only; do
    peers=""
    (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 120 python3 "$repo/benchmarks/profile_kernels.py" \
      --piece-sweep 524288 --configs 0:128:2,0:128:1,0:64:2 $peers 2>&1 | grep -v -i warn | grep "a piece\|s_k=4096" |
      sed "s/^/$round ${name#diagnostic-o-}: /")
  done
done
