#!/usr/bin/env bash
# Session 25, call 5 (run 223): the short-chain combine on every module (quick grids, forward-compat), then the
# standard grid beside the peers (bf16 two rounds, fp16 one).
export FLASH_MLA_CUDA_ARCHS="80;86;89;90a"
STEPS="build test" TEST_TIMEOUT=300 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
STEPS="bench" VARIANTS=sm90 DTYPE=bf16 PEERS="upstream_bf16,flashinfer_fa3_bf16,fork_sm90_bf16" BENCH_ARGS="--rounds 2" BENCH_TIMEOUT=240 \
  bash benchmarks/device_session.sh > $OUT/bench_bf16.txt 2>&1; tail -40 $OUT/bench_bf16.txt
mv $OUT/bench.json $OUT/bench_bf16.json
STEPS="bench" VARIANTS=sm90 DTYPE=fp16 PEERS="upstream_fp16,fork_sm90_fp16" BENCH_TIMEOUT=150 \
  bash benchmarks/device_session.sh > $OUT/bench_fp16.txt 2>&1; tail -30 $OUT/bench_fp16.txt
mv $OUT/bench.json $OUT/bench_fp16.json; rm -f $OUT/bench.log
