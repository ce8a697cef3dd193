#!/usr/bin/env bash
# Session 28, call 4 (diagnostic): what the tile-pair epilogue's O store costs a piece. Run 244's sweep: ours 8.5-9.3
# us a piece at 128/2 against upstream's 6.1-6.2, and 1.554 us a tile against 1.566, so the 128/2 rows' gap is all
# per piece. Two ablations, never to land (wrong output): no O store at all (diagnostic-tile-pairs-no-o-store),
# and the store without the wait for its reads before the next piece's loads (diagnostic-tile-pairs-no-o-read-wait).
# The piece sweep (b x s_k = 524288) on main and on each, two interleaved rounds; upstream once beside main.
export FLASH_MLA_CUDA_ARCHS="90a"
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/diagnostic-o-staging-only.patch $E/diagnostic-o-copies-only.patch" AB_REPEAT=0 \
  bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ab_table\|Traceback\|Error\|File "
repo=$PWD
for round in 1 2; do
  for name in new diagnostic-o-staging-only diagnostic-o-copies-only; do
    peers=""; [ "$round$name" = 1new ] && peers="--peers-dir $repo/.peers"
    (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout 120 python3 "$repo/benchmarks/profile_kernels.py" \
      --piece-sweep 524288 --configs 0:128:2,0:128:1,0:64:2 $peers 2>&1 | grep -v -i warn | grep "a piece\|s_k=4096" |
      sed "s/^/$round ${name#diagnostic-o-}: /")
  done
done
