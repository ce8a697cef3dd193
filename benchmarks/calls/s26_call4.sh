#!/usr/bin/env bash
# Session 26, call 4 (run 231): the scheduler's fixed cost, more settings and rounds than runs 229-230, row by row
# on one build (main: tile pairs 8, column split 4). The forced cost applies to whichever kernel a row runs:
# 16/1 and 64/1 are the column split's rows, 64/2, 128/1, 128/2 the tile pairs'.
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="build" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
STEPS="bench" VARIANTS="sm90,sm90/c4,sm90/c6,sm90/c10,sm90/c12" DTYPE=bf16 PEERS="upstream_bf16" \
  BENCH_ARGS="--heads 16:1,64:1,64:2,128:1,128:2 --rounds 4" BENCH_TIMEOUT=400 bash benchmarks/device_session.sh > $OUT/bench.txt 2>&1
tail -28 $OUT/bench.txt
