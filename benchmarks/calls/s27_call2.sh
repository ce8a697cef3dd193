#!/usr/bin/env bash
# Session 27, call 2 (written in session 26, not yet run): where the 4096 varlen tile-pair rows lose to upstream
# (1.7-2.8% in run 233; NOTES "Plan for session 27", item 2). Run 199 split the gap, on session 22's code, into
# the decode kernel (3-5 us) and what follows it, the combine (3 us). This call repeats that on today's code: decode
# kernel and call after a zeroing and a reading flush, ours and upstream's, on 4096 varlen 64/2, 128/1, 128/2, with
# 8192 varlen 128/1 as a control, where the gap is 0.4%.
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="build" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
timeout 400 python3 benchmarks/l2_state.py --configs 4096:64:2,4096:128:1,4096:128:2,8192:128:1 --varlen \
  --peers-dir .peers --peers upstream_bf16 2>&1 | grep -v -i warn | tee "$OUT/l2_state_varlen.txt" | tail -40
