#!/usr/bin/env bash
# Session 28, call 7: O copied out at the next piece's start (sm90-tile-pairs-o-copied-at-next-piece.patch). Run 249:
# a piece costs ~2 us less (128/2: 6.9-7.1 us against 8.8-9.1) when its O rows are copied only after the next walk's
# barrier (to a dummy place: wrong output). The correct form: both warpgroups stage O in whole rows in stage 1 and
# do not copy it; at the next piece's start warpgroup 0 loads tile 0 whole into stage 0 at once, while warpgroup
# 1's first 64 threads copy the staged rows out, wait for the copies' reads, and then load tile 1 whole into stage 1;
# after the last piece warpgroup 1 copies the last O. sm90 quick grid; one bench round of the 12 tile-pair rows;
# the piece sweep on both builds; memcheck and racecheck on a tile-pair varlen config with an empty sequence and on s_q=2 causal h_q=128.
export FLASH_MLA_CUDA_ARCHS="90a"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/sm90-tile-pairs-o-copied-at-next-piece.patch" AB_REPEAT=1 ABI_TEST="sm90-tile-pairs-o-copied-at-next-piece" \
  BENCH_ARGS="--heads 64:2,128:1,128:2" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
repo=$PWD
for name in new sm90-tile-pairs-o-copied-at-next-piece; do
  (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 120 python3 "$repo/benchmarks/profile_kernels.py" \
    --piece-sweep 524288 --configs 0:128:2,0:128:1,0:64:2 2>&1 | grep -v -i warn | grep "a piece\|s_k=4096" |
    sed "s/^/${name#sm90-tile-pairs-}: /")
done
STEPS="sanitize" SANITIZE_MODULE=sm90 SANITIZE_SITE=/tmp/abi/site_sm90-tile-pairs-o-copied-at-next-piece \
  SANITIZE_CASES="b3-sk500-hq48-sq3-p64-causal-varlen-zeros1 b4-sk700-hq128-sq2-p64-causal-varlen" SANITIZE_TIMEOUT=100 \
  bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
