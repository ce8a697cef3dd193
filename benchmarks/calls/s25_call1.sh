#!/usr/bin/env bash
# Session 25, call 1 (run 219): the combine's batch-in-x fix on every module, then A/B beside main's combine.
# benchmarks/calls/main_combine_batch_in_y/ held `git show 357c143:csrc/smxx/combine_splits.cu` (main before the fix).
export FLASH_MLA_CUDA_ARCHS="80;86;89;90a"
STEPS="build test" TEST_TIMEOUT=300 bash benchmarks/device_session.sh
echo "--- the 65544-sequence test alone, every module, with durations"
FLASH_MLA_FORWARD_COMPAT=1 timeout 200 python3 -m pytest -q -p no:cacheprovider --durations=4 tests/test_flash_mla_sm80.py tests/test_flash_mla_sm86.py tests/test_flash_mla_sm89.py tests/test_flash_mla_sm90.py -k grid_y_limit 2>&1 | tail -8
FLASH_MLA_CUDA_ARCHS="90a" STEPS="abi" AB_DIR="benchmarks/calls/main_combine_batch_in_y" AB_REPEAT=3 BENCH_TIMEOUT=60 bash benchmarks/device_session.sh 2>&1 | grep -v "^[0-9A-Za-z ]*H100" 
