#!/usr/bin/env bash
# Session 28, call 6 (diagnostic): is a piece's O store costly because the next piece's first KV loads queue behind
# its copies in the TMA unit? (Runs 246-248: the copies cost ~3 us a piece whatever their count; not waiting for
# their reads changes nothing.) Both patches stage O (whole rows) in stage 1 and copy it, to a dummy place (wrong
# output, never to land), only at the next piece's start, after one CTA barrier: after that piece's first loads
# are issued (...-after-next-loads) or before them (...-before-next-loads, the control: main's order). The piece
# sweep on main and on each, two interleaved rounds.
export FLASH_MLA_CUDA_ARCHS="90a"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/diagnostic-tile-pairs-o-copies-after-next-loads.patch $E/diagnostic-tile-pairs-o-copies-before-next-loads.patch" AB_REPEAT=0 \
  bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ab_table\|Traceback\|Error\|File "
repo=$PWD
for round in 1 2; do
  for name in new diagnostic-tile-pairs-o-copies-after-next-loads diagnostic-tile-pairs-o-copies-before-next-loads; do
    peers=""
    (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 120 python3 "$repo/benchmarks/profile_kernels.py" \
      --piece-sweep 524288 --configs 0:128:2,0:128:1,0:64:2 $peers 2>&1 | grep -v -i warn | grep "a piece\|s_k=4096" |
      sed "s/^/$round ${name#diagnostic-tile-pairs-o-copies-}: /")
  done
done
