#!/usr/bin/env bash
# Session 26, call 6 (run 233): the scheduler takes a payload one fixed cost up where that needs no split and the
# mean's does (csrc/smxx/scheduler_metadata.cu); the tile pairs back at 6, the column split 6 above 32 rows. Every
# module's quick grid (the scheduler is every family's; decode_suite checks the device's metadata against the
# mirror); the tile-pair rows beside sm90/c8 (run 232's main there), three rounds; the standard grid beside the peers.
export FLASH_MLA_CUDA_ARCHS="80;86;89;90a"
STEPS="build test" TEST_TIMEOUT=300 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
STEPS="bench" VARIANTS=sm90,sm90/c8 DTYPE=bf16 PEERS="upstream_bf16" BENCH_ARGS="--heads 64:2,128:1,128:2 --rounds 3" \
  BENCH_TIMEOUT=200 bash benchmarks/device_session.sh > $OUT/bench_ab.txt 2>&1; tail -16 $OUT/bench_ab.txt
mv $OUT/bench.json $OUT/bench_ab.json
STEPS="bench" VARIANTS=sm90 DTYPE=bf16 PEERS="upstream_bf16,flashinfer_fa3_bf16,fork_sm90_bf16" BENCH_ARGS="--rounds 2" \
  BENCH_TIMEOUT=300 bash benchmarks/device_session.sh > $OUT/bench_bf16.txt 2>&1; tail -32 $OUT/bench_bf16.txt
mv $OUT/bench.json $OUT/bench_bf16.json
STEPS="bench" VARIANTS=sm90 DTYPE=fp16 PEERS="upstream_fp16,fork_sm90_fp16" BENCH_TIMEOUT=150 \
  bash benchmarks/device_session.sh > $OUT/bench_fp16.txt 2>&1; tail -31 $OUT/bench_fp16.txt
mv $OUT/bench.json $OUT/bench_fp16.json; rm -f $OUT/bench.log
