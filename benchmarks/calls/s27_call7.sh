#!/usr/bin/env bash
# Session 27, call 7 (run 242): does the tile pairs' split refill pay the zeroing flush? Each stage half is refilled
# by the warpgroup that frees it, so a page's 1152-byte token rows are read in two passes (512 bytes, then 640)
# microseconds apart; upstream requests a tile whole. Diagnostic: both halves at once by the second warpgroup to free
# its half (`diagnostic-tile-pairs-whole-tile-refills.patch`). If the dirty lines' cost is DRAM row locality, the
# write-flush penalty (run 193: ours +6 us, upstream -3) shrinks even if the clean time grows. l2_state, 4096 fixed
# 64/2 and 128/1 (upstream beside, on main's run), then 4096/128/2 fixed.
export FLASH_MLA_CUDA_ARCHS="90a"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/diagnostic-tile-pairs-whole-tile-refills.patch" AB_REPEAT=0 \
  ABI_TEST="diagnostic-tile-pairs-whole-tile-refills" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
repo=$PWD
for name in new diagnostic-tile-pairs-whole-tile-refills; do
  peers=""; [ $name = new ] && peers="--peers-dir $repo/.peers --peers upstream_bf16"
  echo "== $name"
  (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 200 python3 "$repo/benchmarks/l2_state.py" \
    --configs 4096:64:2,4096:128:1,4096:128:2 $peers 2>&1 | grep -v -i warn | tail -7)
done
