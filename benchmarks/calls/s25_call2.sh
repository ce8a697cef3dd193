#!/usr/bin/env bash
# Session 25, call 2 (run 220): main's combine (batch in y) must fail the 65544-sequence test; then the
# benchmarks/calls/main_combine_batch_in_y/ held `git show 357c143:csrc/smxx/combine_splits.cu` (main before the fix).
# combine's stall samples by SASS line, ours (main) and upstream's, at 4096/16/1 varlen (flushed calls).
cp benchmarks/calls/main_combine_batch_in_y/csrc/smxx/combine_splits.cu csrc/smxx/combine_splits.cu
export FLASH_MLA_CUDA_ARCHS="90a"
STEPS="build" bash benchmarks/device_session.sh 2>&1 | head -3
echo "--- main's combine, the 65544-sequence test (expected to fail)"
timeout 100 python3 -m pytest -q -p no:cacheprovider tests/test_flash_mla_sm90.py -k grid_y_limit 2>&1 | grep -E "^E .*Error|passed|failed" | head -4
for who in ours upstream_bf16; do
  kernel=regex:combine; extra=""; [ $who = ours ] && kernel=regex:combine_splits; [ $who != ours ] && extra="--peers-dir .peers"
  start=$(date +%s)
  timeout 200 ncu --cache-control none --clock-control none --replay-mode application --kernel-name $kernel --launch-skip 2 --launch-count 1 \
    --section WarpStateStats --section SourceCounters --section LaunchStats --section Occupancy -f -o /tmp/comb_$who \
    python3 benchmarks/flushed_calls.py --impl $who $extra --config 4096:16:1 --varlen > /tmp/comb_$who.log 2>&1
  echo "ncu $who: rc=$? $(( $(date +%s) - start )) s; $(tail -1 /tmp/comb_$who.log)"
  ncu -i /tmp/comb_$who.ncu-rep --page source --csv --print-source sass | gzip > $OUT/comb_${who}_sass.csv.gz
  ncu -i /tmp/comb_$who.ncu-rep --page details > $OUT/comb_${who}_details.txt 2>&1
done
