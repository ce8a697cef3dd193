#!/usr/bin/env bash
# Session 28, call 5: whole-row O copies on the tile pairs (sm90-tile-pairs-whole-row-copies.patch). Runs 246-247:
# a piece's O store costs 3-3.5 us, all of it in the 128 bulk row copies (staging alone costs ~1 us; the wait for
# the copies' reads nothing), and upstream's whole piece costs what ours does without them. Both warpgroups now
# stage into stage 0 and threads 0-63 copy 1 KB rows: 64 copies a piece instead of 128. Prediction: ~1.5 us a
# piece, 1-1.5% on the 4096 tile-pair rows. sm90 quick grid on the patch; two interleaved rounds of the 12
# tile-pair rows; the piece sweep on both builds.
export FLASH_MLA_CUDA_ARCHS="90a"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/sm90-tile-pairs-whole-row-copies.patch" AB_REPEAT=2 ABI_TEST="sm90-tile-pairs-whole-row-copies" \
  BENCH_ARGS="--heads 64:2,128:1,128:2" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
repo=$PWD
for name in new sm90-tile-pairs-whole-row-copies; do
  (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 120 python3 "$repo/benchmarks/profile_kernels.py" \
    --piece-sweep 524288 --configs 0:128:2,0:128:1,0:64:2 2>&1 | grep -v -i warn | grep "a piece\|s_k=4096" |
    sed "s/^/${name#sm90-tile-pairs-}: /")
done
