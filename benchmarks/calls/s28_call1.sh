#!/usr/bin/env bash
# Session 28, call 1: the 128/2 decode kernel's pace (NOTES "Plan for session 28", item 1; run 241: 2.6-4.7 us
# behind upstream's on a clean L2). First the cost a piece and a tile at 256 and 128 rows beside upstream's
# (profile_kernels.py --piece-sweep: the same tokens in 256..32 sequences; run 106 last measured it, session 11);
# then one launch of each kernel at 4096/128/2 fixed under ncu: the instruction mix and memory counters side by
# side (ncumix), and each kernel's speed-of-light, warp-state and memory sections (ncu).
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="build ncumix" NCU_MIX_CONFIG=4096:128:2 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
for round in 1 2; do
  timeout 150 python3 benchmarks/profile_kernels.py --piece-sweep 524288 --configs 0:128:2,0:128:1 --peers-dir .peers \
    2>&1 | grep -v -i warn | sed "s/^/sweep $round: /"
done
STEPS="ncu" NCU_CONFIGS="4096:128:2" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
STEPS="ncu" NCU_CONFIGS="4096:128:2" NCU_TAG=upstream NCU_KERNEL=regex:splitkv \
  NCU_SCRIPT_ARGS="--peer upstream_bf16 --peers-dir .peers" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
