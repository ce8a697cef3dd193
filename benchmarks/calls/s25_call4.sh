#!/usr/bin/env bash
# Session 25, call 4 (run 222): the short-chain combine at 48 registers (5 CTAs an SM; the tree) beside main and
# Folders: benchmarks/calls/main_combine/ held `git show 50ed775:csrc/smxx/combine_splits.cu`; results/chain56/ the tree
# without `, kCombineCtasPerSm` in its launch bounds (= 4214d29).
# beside the same code at 56 registers (results/chain56, 4 CTAs). Tests (sm90 + sm80 forward-compat) and memcheck
# on the tree; benchmark A/B; ncu per call with the combine.
export FLASH_MLA_CUDA_ARCHS="80;90a"
STEPS="abi" AB_DIR="benchmarks/calls/main_combine results/chain56" AB_REPEAT=2 BENCH_TIMEOUT=60 \
  ABI_TEST="new" ABI_TEST_MODULES="sm90 sm80" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
STEPS="sanitize" SANITIZE_SITE=/tmp/abi/site_new SANITIZE_MODULE=sm90 SANITIZE_TOOLS=memcheck SANITIZE_TIMEOUT=120 \
  SANITIZE_CASES="b8-sk200-hq16-sq1-p64-causal-varlen-zeros3 b2-sk8192-hq16-sq1-p64-causal" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
STEPS="abncu" NCU_AB_WITH_COMBINE=1 NCU_AB_ARGS="--varlen" NCU_AB_ROUNDS=1 NCU_AB_CONFIGS="4096:16:1,4096:64:1,4096:128:1" \
  NCU_TIMEOUT=100 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
cd $OUT && tar -czf ncu_ab.tgz ncu_ab_*.csv abi_build_*.log sanitize_*.log && rm -f ncu_ab_*.csv abi_build_*.log sanitize_*.log
