#!/usr/bin/env bash
# Session 28, call 2 (written in session 27, not yet run): 16-bit split partials on the Ampere-class kernels too
# (`sm8x-partials-16-bit.patch`: the epilogue's split rows packed to the input dtype, the combine's 16-bit path), on the
# H100 by forward-compat (sm80 and sm86 tiles). sm80 and sm86 quick grids on the patch; two interleaved rounds on
# the rows that split; the error beside main's (accuracy_probe.py --variant sm80, varlen). On sm90 the same change
# gave the varlen rows 1-4% (run 238); the sm80 kernel is twice as long, so less is expected here (run 234). Lands
# only with a measured gain, and then the README's accuracy paragraph changes with it.
export FLASH_MLA_CUDA_ARCHS="80;86"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/sm8x-partials-16-bit.patch" AB_REPEAT=2 ABI_TEST="sm8x-partials-16-bit" ABI_TEST_MODULES="sm80 sm86" \
  VARIANTS=sm80,sm86 BENCH_TIMEOUT=150 BENCH_ARGS="--heads 16:1,64:1,64:2,128:1" bash benchmarks/device_session.sh 2>&1 |
  grep -v "^WARNING"
for name in new sm8x-partials-16-bit; do
  (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 90 python3 "$OLDPWD/benchmarks/accuracy_probe.py" \
    --variant sm80 --configs 4096:64:1,4096:128:1,8192:16:1 --varlen 2>&1 | grep -v -i warn | sed "s/^/$name: /")
done
