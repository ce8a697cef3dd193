#!/usr/bin/env bash
# Session 27, call 5 (run 240): the landed 16-bit partials (the sm90 epilogue and the combine, which every family
# shares) on every module's quick grid, and compute-sanitizer on the sm90 module: memcheck and racecheck on the
# varlen case with zero-length sequences, the 128- and 256-row causal s_q=2 cases, memcheck on the past-32-splits
# case; memcheck on the sm80 module (forward-compat: the combine's fp32 path) on the varlen case.
export FLASH_MLA_CUDA_ARCHS="80;86;89;90a"
STEPS="build test" TEST_TIMEOUT=300 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
STEPS="sanitize" SANITIZE_MODULE=sm90 bash benchmarks/device_session.sh 2>&1 | grep compute-sanitizer
STEPS="sanitize" SANITIZE_MODULE=sm90 SANITIZE_TOOLS=memcheck SANITIZE_CASES="b2-sk8192-hq16-sq1-p64-causal" \
  bash benchmarks/device_session.sh 2>&1 | grep compute-sanitizer
STEPS="sanitize" SANITIZE_MODULE=sm80 SANITIZE_TOOLS=memcheck SANITIZE_CASES="b8-sk200-hq16-sq1-p64-causal-varlen-zeros3" \
  bash benchmarks/device_session.sh 2>&1 | grep compute-sanitizer
rm -f $OUT/sanitize_*  # (kept only on failure below)
