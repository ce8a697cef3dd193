#!/usr/bin/env bash
# Session 29, call 2 (written in session 28, not yet run): tile 1 prefetched into the L2 before the O copies
# (sm90-tile-pairs-tile-1-l2-prefetch.patch; NOTES "Plan for session 29", item 2). Since run 250, warpgroup 1
# loads tile 1 only after the previous piece's O copies have read stage 1; its first thread now reads tile 1's page
# ids and issues one L2 prefetch a box before its copy, so that the load after the wait hits the L2. Prediction:
# part of run 249's remaining ~1 us a piece at 128/2. Beside it a diagnostic (wrong output, never to land):
# main with every piece's O rows copied to sequence 0's rows, the same 64 KB each time
# (diagnostic-tile-pairs-o-rows-to-one-place.patch). At 128/1 run 249's dummy destination saved 3.5 us a piece and
# run 250's real one nothing: does writing new L2 lines under a saturated DRAM make the copies cost there?
# sm90 quick grid on the prefetch patch; two interleaved rounds of the 12 tile-pair rows; the piece sweep on all
# three builds.
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="abi abisweep" AB_DIR="benchmarks/experiments/sm90-tile-pairs-tile-1-l2-prefetch.patch benchmarks/experiments/diagnostic-tile-pairs-o-rows-to-one-place.patch" AB_REPEAT=2 \
  ABI_TEST="sm90-tile-pairs-tile-1-l2-prefetch" BENCH_ARGS="--heads 64:2,128:1,128:2" SWEEP_ROUNDS=1 \
  bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
