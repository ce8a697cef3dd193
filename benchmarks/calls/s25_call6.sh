#!/usr/bin/env bash
# Session 25, call 6 (run 224): the O-store alternatives measured before only under ncu (its flush leaves no dirty
# lines), now under the benchmark's zeroing flush, on the tile-pair rows: TMA tensor stores of stmatrix tiles,
# per-warp LSU copies, O from registers. Each patch's sm90 quick grid; 3 interleaved rounds.
export FLASH_MLA_CUDA_ARCHS="90a"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/sm90-tile-pairs-out-by-tma-stmatrix.patch $E/sm90-o-copies-by-warps-lsu.patch $E/sm90-tile-pairs-o-from-registers-next-piece-early.patch" \
  AB_REPEAT=3 BENCH_TIMEOUT=60 BENCH_ARGS="--heads 64:2,128:1,128:2" \
  ABI_TEST="sm90-tile-pairs-out-by-tma-stmatrix sm90-o-copies-by-warps-lsu sm90-tile-pairs-o-from-registers-next-piece-early" \
  bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
cd $OUT && tar -czf abi_logs.tgz abi_build_*.log && rm -f abi_build_*.log
