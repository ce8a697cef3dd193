#!/usr/bin/env bash
# Session 27, call 3 (run 238): 16-bit split partials on sm90 (out_accum in the input dtype, staged by stmatrix and
# written by bulk copies in both schedules; the combine reads 16-bit rows). Builds main, the patch, and the patch
# with the partials' bulk copies tagged evict-last (as the column split's register stores were). sm90 and sm80
# (forward-compat: the combine's float path) quick grids on both patches; the error beside main's
# (benchmarks/accuracy_probe.py, fixed and varlen); two interleaved bench rounds on the rows that split.
# Prediction: the varlen tile-pair rows 1-2% faster (the combine reads half the bytes, the decode writes half).
export FLASH_MLA_CUDA_ARCHS="80;90a"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/sm90-partials-16-bit.patch $E/sm90-partials-16-bit-kept-in-l2.patch" AB_REPEAT=2 \
  ABI_TEST="sm90-partials-16-bit sm90-partials-16-bit-kept-in-l2" ABI_TEST_MODULES="sm90 sm80" \
  BENCH_TIMEOUT=80 BENCH_ARGS="--heads 16:1,64:1,64:2,128:1,128:2" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
for name in new sm90-partials-16-bit; do
  for varlen in "" --varlen; do
    (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 60 python3 "$OLDPWD/benchmarks/accuracy_probe.py" \
      --configs 4096:64:1,4096:128:1,4096:128:2,8192:16:1 $varlen 2>&1 | grep -v -i warn | sed "s/^/$name: /")
  done
done
