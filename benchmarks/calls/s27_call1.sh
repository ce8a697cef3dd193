#!/usr/bin/env bash
# Session 27, call 1 (written in session 26, not yet run): the scheduler's block counts staged in shared memory
# (benchmarks/experiments/scheduler-blocks-in-shared-memory.patch; NOTES "Plan for session 27", item 1). Builds main
# and the patch (sm80 + sm90a), runs the sm90 and sm80 quick grids on the patch's build (their scheduler tests
# put the device against the mirror: the staged path, and the global one by the 65544-sequence test), then the
# scheduler kernel's time on both builds (benchmarks/scheduler_time.py; the checksums must match). Prediction:
# 3-5x faster at batch 128 and 4096 (run 234: 18 and 241 us).
export FLASH_MLA_CUDA_ARCHS="80;90a" FLASH_MLA_FORWARD_COMPAT=1
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/scheduler-blocks-in-shared-memory.patch" AB_REPEAT=0 ABI_TEST="scheduler-blocks-in-shared-memory" \
  ABI_TEST_MODULES="sm90 sm80" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
for name in new scheduler-blocks-in-shared-memory; do
  (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH python3 "$OLDPWD/benchmarks/scheduler_time.py" --label "$name")
done
