#!/usr/bin/env bash
# Session 26, call 8 (run 235): the scheduler's slack as each kernel family's launch-plan field (sm90: one fixed
# cost, as run 233 measured; sm8x: 0, as run 234's faster build): every module's quick grid, forward-compat.
export FLASH_MLA_CUDA_ARCHS="80;86;89;90a"
STEPS="build test" TEST_TIMEOUT=300 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
FLASH_MLA_FORWARD_COMPAT=1 python3 -m pytest -q -p no:cacheprovider tests/test_flash_mla_sm90.py tests/test_flash_mla_sm80.py \
  -k "scheduler or whole" -rA 2>&1 | grep -E "PASSED|SKIPPED|FAILED|passed|failed" | tail -12
