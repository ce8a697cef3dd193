#!/usr/bin/env bash
# Session 29, call 1 (written in session 28, not yet run): the landed state (run 250: the tile pairs copy a piece's
# O out at the next piece's start) on every module's quick grid (forward-compat for sm80/86/89), then the standard
# grid beside every peer (bf16 two rounds, fp16 one): the ratios to upstream that session 28 could not measure.
export FLASH_MLA_CUDA_ARCHS="80;86;89;90a"
STEPS="build test" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
STEPS="grid" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -E "^time|TFLOP|copy bandwidth"
