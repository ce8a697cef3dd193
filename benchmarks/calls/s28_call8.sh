#!/usr/bin/env bash
# Session 28, call 8: the landed tile-pair change (O copied out at the next piece's start, run 250) under the sm90
# module's full grid (every h_q x s_q x causal x page x fixed/varlen combination, both dtypes).
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="build test" TEST_MODULES=sm90 PYTEST_ARGS="--grid full" bash benchmarks/device_session.sh 2>&1 |
  grep -v "^WARNING" | grep -v "ptxas info" | tail -30
