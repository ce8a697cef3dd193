#!/usr/bin/env bash
# Session 27, call 8 (run 243): the landed state (16-bit sm90 partials) on the full grids of the sm90 module and
# the sm80 one (forward-compat: the combine's fp32 path), then the standard grid beside every peer a second time
# (run 239 was the first), so that the closing numbers rest on two calls.
export FLASH_MLA_CUDA_ARCHS="80;90a"
STEPS="build test" TEST_MODULES="sm90 sm80" PYTEST_ARGS="--grid full -x" TEST_TIMEOUT=300 bash benchmarks/device_session.sh 2>&1 |
  grep -v "^WARNING" | grep -v "ptxas info"
STEPS="grid" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -E "^time|TFLOP|copy bandwidth"
