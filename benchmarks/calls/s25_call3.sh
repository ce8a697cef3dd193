#!/usr/bin/env bash
# Session 25, call 3 (run 221): the combine with upstream's chain (tree: lse and split 0's row in one round trip,
# Folders: benchmarks/calls/main_combine/ held `git show 50ed775:csrc/smxx/combine_splits.cu`; results/discards_at_end/ the same with
# its discards moved after the stores; the tree was the short-chain combine (62 registers in this call).
# weights in lanes, one round trip a split, discards after the stores) beside main and beside main with its
# discards moved after the stores (results/discards_at_end). Tests on the tree; benchmark A/B; ncu with combine.
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="abi" AB_DIR="benchmarks/calls/main_combine results/discards_at_end" AB_REPEAT=2 BENCH_TIMEOUT=60 \
  ABI_TEST="new discards_at_end" ABI_TEST_MODULES="sm90 sm80" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
STEPS="abncu" NCU_AB_WITH_COMBINE=1 NCU_AB_ARGS="--varlen" NCU_AB_ROUNDS=1 NCU_AB_CONFIGS="4096:16:1,4096:64:1,4096:128:1,8192:64:2" \
  NCU_TIMEOUT=100 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
cd $OUT && tar -czf ncu_ab.tgz ncu_ab_*.csv abi_build_*.log && rm -f ncu_ab_*.csv abi_build_*.log
