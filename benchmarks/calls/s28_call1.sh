#!/usr/bin/env bash
# Session 28, call 1 (written in session 27, not yet run): the 128/2 decode kernel's pace (NOTES "Plan for session
# 28", item 1; run 241: 2.6-4.7 us behind upstream's on a clean L2). One launch of each kernel at 4096/128/2 fixed
# under ncu: the instruction mix and memory counters side by side (ncumix), then each kernel's speed-of-light,
# warp-state and memory sections (ncu), ours and upstream's.
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="build ncumix" NCU_MIX_CONFIG=4096:128:2 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
STEPS="ncu" NCU_CONFIGS="4096:128:2" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
STEPS="ncu" NCU_CONFIGS="4096:128:2" NCU_TAG=upstream NCU_KERNEL=regex:splitkv \
  NCU_SCRIPT_ARGS="--peer upstream_bf16 --peers-dir .peers" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
