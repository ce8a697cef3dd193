#!/usr/bin/env bash
# Session 27, call 4 (run 239): main with the 16-bit sm90 partials (7cce08a). The standard grid beside every peer
# (bf16 two rounds, fp16 one); then the schedulers' fixed cost again, since a split now costs half the partial
# bytes: the tile-pair rows and the 64/1 rows at the kernel's own cost (6 above 32 rows), 4 and 5, two rounds.
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="build grid" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
STEPS="bench" VARIANTS=sm90,sm90/c4,sm90/c5 DTYPE=bf16 PEERS="upstream_bf16" BENCH_ARGS="--heads 64:1,64:2,128:1,128:2 --rounds 2" \
  BENCH_TIMEOUT=200 bash benchmarks/device_session.sh > $OUT/bench_ab.txt 2>&1; tail -18 $OUT/bench_ab.txt
mv $OUT/bench.json $OUT/bench_ab.json; rm -f $OUT/bench.log
