#!/usr/bin/env bash
# Session 26, call 5 (run 232): the column split's fixed cost by its query rows (6 above 32 rows, 4 up to 32; tile
# pairs 8): sm90's quick grid; the column split's rows beside sm90/c4 (the old cost), four rounds; then the standard
# grid beside the peers, bf16 two rounds, fp16 one.
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="build test" TEST_MODULES=sm90 TEST_TIMEOUT=200 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
STEPS="bench" VARIANTS=sm90,sm90/c4 DTYPE=bf16 PEERS="upstream_bf16" BENCH_ARGS="--heads 16:1,16:2,64:1 --rounds 4" \
  BENCH_TIMEOUT=200 bash benchmarks/device_session.sh > $OUT/bench_ab.txt 2>&1; tail -16 $OUT/bench_ab.txt
mv $OUT/bench.json $OUT/bench_ab.json
STEPS="bench" VARIANTS=sm90 DTYPE=bf16 PEERS="upstream_bf16,flashinfer_fa3_bf16,fork_sm90_bf16" BENCH_ARGS="--rounds 2" \
  BENCH_TIMEOUT=300 bash benchmarks/device_session.sh > $OUT/bench_bf16.txt 2>&1; tail -32 $OUT/bench_bf16.txt
mv $OUT/bench.json $OUT/bench_bf16.json
STEPS="bench" VARIANTS=sm90 DTYPE=fp16 PEERS="upstream_fp16,fork_sm90_fp16" BENCH_TIMEOUT=150 \
  bash benchmarks/device_session.sh > $OUT/bench_fp16.txt 2>&1; tail -31 $OUT/bench_fp16.txt
mv $OUT/bench.json $OUT/bench_fp16.json; rm -f $OUT/bench.log
