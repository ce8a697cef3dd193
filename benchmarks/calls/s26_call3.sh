#!/usr/bin/env bash
# Session 26, call 3 (run 230): the tile pairs' scheduler fixed cost at 8 (run 229), sm90's quick grid, then the
# standard grid beside the peers: bf16 two rounds with sm90/c6 (the old cost, a control on the tile-pair rows only:
# the variable forces the column split's cost too, whose own is 4), fp16 one round.
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="build test" TEST_MODULES=sm90 TEST_TIMEOUT=200 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
STEPS="bench" VARIANTS=sm90,sm90/c6 DTYPE=bf16 PEERS="upstream_bf16,flashinfer_fa3_bf16,fork_sm90_bf16" BENCH_ARGS="--rounds 2" \
  BENCH_TIMEOUT=300 bash benchmarks/device_session.sh > $OUT/bench_bf16.txt 2>&1; tail -34 $OUT/bench_bf16.txt
mv $OUT/bench.json $OUT/bench_bf16.json
STEPS="bench" VARIANTS=sm90 DTYPE=fp16 PEERS="upstream_fp16,fork_sm90_fp16" BENCH_TIMEOUT=150 \
  bash benchmarks/device_session.sh > $OUT/bench_fp16.txt 2>&1; tail -31 $OUT/bench_fp16.txt
mv $OUT/bench.json $OUT/bench_fp16.json; rm -f $OUT/bench.log
