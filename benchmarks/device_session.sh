#!/usr/bin/env bash
# One device call: build every target, run the GPU test modules (forward-compat for the older
# variants), then the benchmark grid beside the peers. Prints a short table last.
#   STEPS="build test bench" bash benchmarks/device_session.sh
# Steps: build test artifacts sanitize repro scripts spread bench grid profile ncu ncumix hotspots ab abi abncu abisweep (see each block's comment;
# knobs are the environment variables each block reads, e.g. TEST_MODULES, VARIANTS, PEERS, AB_DIR).
# SITE_FIRST=/tmp/abi/site_new puts a build of an earlier abi step ahead of everything on PYTHONPATH (e.g. for ncu).
# Expects wheels in .whl/ (nvidia-cutlass; the machine has no network) and, for peers, .peers/.
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
STEPS=${STEPS:-"build test bench"}
step() { [[ " $STEPS " == *" $1 "* ]]; }  # is $1 one of the words of STEPS?
export PYTHONUNBUFFERED=1 CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=${SITE_FIRST:+$SITE_FIRST:}/tmp/site
if [ -d .peers/whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/peers .peers/whl/*.whl &&
  mkdir -p /tmp/peers/flashinfer/data/aot && cp -r .peers/prebuilt/flashinfer_aot/. /tmp/peers/flashinfer/data/aot/ &&
  export PYTHONPATH=$PYTHONPATH:/tmp/peers
fi
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader
if step build; then
  start=$(date +%s)
  MAX_JOBS=${MAX_JOBS:-16} FLASH_MLA_PTXAS_VERBOSE=1 python3 -m pip install --no-build-isolation --no-deps --no-index -v -e . \
    > "$OUT/build.log" 2>&1 || { tail -50 "$OUT/build.log"; exit 1; }
  echo "build: $(( $(date +%s) - start )) s"; grep -E "spill|registers" "$OUT/build.log" | sort | uniq -c | head -20
fi
if step test; then  # every module, forward-compat; one xdist worker per GPU when there are several
  ngpu=$(nvidia-smi -L | wc -l)
  [ -n "${CUDA_VISIBLE_DEVICES:-}" ] && ngpu=$(echo "$CUDA_VISIBLE_DEVICES" | tr ',' '\n' | grep -c .)
  spread=(); [ "$ngpu" -gt 1 ] && spread=(-n "$ngpu" --dist loadgroup)
  start=$(date +%s)
  modules=${TEST_MODULES:-"sm80 sm86 sm89 sm90"}
  FLASH_MLA_FORWARD_COMPAT=1 timeout ${TEST_TIMEOUT:-900} python3 -m pytest -q -p no:cacheprovider "${spread[@]}" \
    $(for m in $modules; do echo tests/test_flash_mla_$m.py; done) ${PYTEST_ARGS:-} > "$OUT/test.log" 2>&1
  echo "tests ($modules, $ngpu GPU): rc=$? $(grep -E '(passed|failed).* in ' "$OUT/test.log" | tail -1) ($(( $(date +%s) - start )) s)"
  grep -E "^FAILED|^gw[0-9]+: " "$OUT/test.log" | head -12
  grep -E "^E  " "$OUT/test.log" | head -${TEST_ERROR_LINES:-6}
fi
if step artifacts; then
  python3 -m pytest -q -p no:cacheprovider tests/test_build_artifacts.py 2>&1 | tail -3
fi
if step sanitize; then  # memcheck + racecheck: split-heavy varlen with empty sequences; a 128-row group; a 256-row one (sm90: tile pairs)
  # SANITIZE_SITE=/tmp/abi/site_new checks a build of the abi step (run from /tmp, so that the source tree's
  # flash_mla/ does not shadow it) instead of the editable install of the build step. SANITIZE_TOOLS=memcheck
  # skips racecheck.
  cases=${SANITIZE_CASES:-"b8-sk200-hq16-sq1-p64-causal-varlen-zeros3 b4-sk700-hq64-sq2-p64-causal-varlen b4-sk700-hq128-sq2-p64-causal-varlen"}
  repo=$PWD
  for case in $cases; do for tool in ${SANITIZE_TOOLS:-memcheck racecheck}; do
    (if [ -n "${SANITIZE_SITE:-}" ]; then cd /tmp && export PYTHONPATH=$SANITIZE_SITE:$PYTHONPATH; fi
     FLASH_MLA_FORWARD_COMPAT=1 timeout ${SANITIZE_TIMEOUT:-300} compute-sanitizer --tool $tool --error-exitcode 9 python3 -m pytest -q -p no:cacheprovider \
      "$repo/tests/test_flash_mla_${SANITIZE_MODULE:-sm80}.py" -k "$case and bf16" > "/tmp/sanitize_${tool}_$case.log" 2>&1)
    echo "compute-sanitizer $tool $case: rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|passed|failed' "/tmp/sanitize_${tool}_$case.log" | tr '\n' ' ')"
    head -c 200000 "/tmp/sanitize_${tool}_$case.log" > "$OUT/sanitize_${tool}_$case.log"  # the first reports, to read here
  done; done
fi
if step repro; then  # does racecheck model a bar.arrive -> bar.sync hand-off? (benchmarks/sanitizer/)
  nvcc -std=c++17 -arch=sm_90a -o /tmp/racecheck_arrive_sync benchmarks/sanitizer/racecheck_arrive_sync.cu &&
    for mode in arrive sync mbarrier none; do
      compute-sanitizer --tool racecheck /tmp/racecheck_arrive_sync $mode > "$OUT/repro_$mode.log" 2>&1
      echo "racecheck, $mode hand-off: rc=$? $(grep -E '^mode|RACECHECK SUMMARY' "$OUT/repro_$mode.log" | tr '\n' ' ')"
    done
fi
if step scripts; then  # each module's script table, bf16 and fp16
  for v in sm80 sm86 sm89; do for dt in bf16 fp16; do
    python3 tests/test_flash_mla_$v.py --dtype $dt --forward-compat 2>&1 | tee "$OUT/script_${v}_$dt.log" | grep -vE "^b128" | head -2
    grep -E "^b128" "$OUT/script_${v}_$dt.log" | awk '{printf "  %s abs %s rel %s ms %s T %s %s\n", $1, $2, $3, $5, $6, $8}'
  done; done
fi
if step spread; then  # issue #6: nox -s test-sm90 on one GPU, then on every visible GPU
  nvidia-smi -L
  python3 -m nox --no-venv -s build -- --backend local > /tmp/nox_build.log 2>&1; echo "nox build: rc=$?"
  python3 -c "import time; t=time.time(); import torch, flash_mla; torch.zeros(1, device='cuda'); print(f'import+CUDA init: {time.time()-t:.1f} s')"
  all_gpus=$(nvidia-smi --query-gpu=index --format=csv,noheader | paste -sd, -)
  for session in ${SPREAD_SESSIONS:-test-sm90}; do
  for gpus in ${SPREAD_GPUS:-0 $all_gpus}; do  # fresh compile caches: neither run inherits the other's
    export TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) TRITON_CACHE_DIR=$(mktemp -d)
    log="$OUT/spread_${session}_${gpus//,/_}.log"
    start=$(date +%s.%N)
    CUDA_VISIBLE_DEVICES=$gpus python3 -m nox --no-venv -s "$session" -- --backend local --durations=12 ${PYTEST_ARGS:-} \
      > "$log" 2>&1
    rc=$?; wall=$(python3 -c "import time; print(f'{time.time()-$start:.1f}')")
    echo "nox -s $session, CUDA_VISIBLE_DEVICES=$gpus: rc=$rc wall ${wall} s: $(grep -E '(passed|failed).* in ' "$log" | tail -1)"
    grep -E "^gw[0-9]+: |spreading over" "$log"
  done
  done
fi
if step bench; then
  timeout ${BENCH_TIMEOUT:-500} python3 benchmarks/bench_decode.py --variants ${VARIANTS:-sm80,sm86,sm89} --dtype ${DTYPE:-bf16} --peers-dir .peers \
    --peers ${PEERS:-upstream_bf16,flashinfer_fa2_bf16} ${BENCH_ARGS:-} --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log"
fi
if step grid; then  # #4's standard grid beside every peer: bf16 two rounds (upstream, FlashInfer fa3, the vllma100 fork's
  # sm90 kernel), fp16 one (upstream, the fork); bench_bf16/fp16.{txt,json} in $OUT, each table's tail printed.
  for dtype in bf16 fp16; do
    if [ $dtype = bf16 ]; then peers="upstream_bf16,flashinfer_fa3_bf16,fork_sm90_bf16"; rounds=2; lines=32
    else peers="upstream_fp16,fork_sm90_fp16"; rounds=1; lines=31; fi
    timeout ${BENCH_TIMEOUT:-300} python3 benchmarks/bench_decode.py --variants ${VARIANTS:-sm90} --dtype $dtype --peers-dir .peers \
      --peers $peers --rounds $rounds --json "$OUT/bench_$dtype.json" > "$OUT/bench_$dtype.txt" 2>&1
    tail -$lines "$OUT/bench_$dtype.txt"
  done
fi
if step profile; then  # GPU time by kernel, and the host time of a call beside upstream's
  python3 benchmarks/profile_kernels.py --configs ${PROFILE_CONFIGS:-8192:16:1,8192:64:1,8192:128:2} --host ${PROFILE_ARGS:-} \
    --peers-dir .peers 2>&1 | grep -v -i "warn" | tee "$OUT/profile.log"
fi
if step ncu; then  # Nsight Compute on one decode launch per config: throughput and stall reasons
  # NCU_SCRIPT_ARGS goes to profile_kernels.py (e.g. "--variant sm80", or "--peer flashinfer_fa2_bf16 --peers-dir
  # .peers" with NCU_KERNEL=regex:BatchMLAPagedAttentionKernel); NCU_TAG names the logs.
  for config in ${NCU_CONFIGS:-8192:128:2 8192:16:1}; do
    log="$OUT/ncu_${NCU_TAG:-ours}_${config//:/_}.txt"
    timeout ${NCU_TIMEOUT:-240} ncu --kernel-name ${NCU_KERNEL:-regex:splitkv_decode_kernel} --launch-skip 2 --launch-count 1 \
      --section SpeedOfLight --section WarpStateStats --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
      ${NCU_ARGS:-} python3 benchmarks/profile_kernels.py --configs "$config" --launch-only ${NCU_SCRIPT_ARGS:-} > "$log" 2>&1
    echo "ncu $config: $(grep -E 'Duration|SM Busy|Issue Slots Busy|Warp Cycles Per Issued|DRAM Throughput|L2 Cache Throughput|Local Memory Spilling Requests |lts__|dram__' "$log" |
      sed 's/  */ /g' | tr '\n' ';')"
    grep -A2 "Est. Local Speedup" "$log" | grep -E "stalled|spends" | head -2
  done
fi
if step hotspots; then  # per-instruction warp-stall samples of one decode launch (ncu source page, SASS)
  # and every collected metric, gzipped CSV for benchmarks/ncu_hotspots.py on the CPU machine; knobs as for ncu.
  for config in ${NCU_CONFIGS:-8192:128:2}; do
    name="hot_${NCU_TAG:-ours}_${config//:/_}"
    timeout ${NCU_TIMEOUT:-240} ncu --kernel-name ${NCU_KERNEL:-regex:splitkv_decode_kernel} --launch-skip 2 --launch-count 1 \
      --section SpeedOfLight --section WarpStateStats --section SourceCounters --section InstructionStats -f -o "/tmp/$name" \
      ${NCU_ARGS:-} python3 benchmarks/profile_kernels.py --configs "$config" --launch-only ${NCU_SCRIPT_ARGS:-} > "/tmp/$name.log" 2>&1
    echo "hotspots $config (${NCU_TAG:-ours}): rc=$? $(tail -1 "/tmp/$name.log")"
    ncu -i "/tmp/$name.ncu-rep" --page source --csv --print-source sass | gzip > "$OUT/${name}_sass.csv.gz"
    ncu -i "/tmp/$name.ncu-rep" --page raw --csv | gzip > "$OUT/${name}_raw.csv.gz"
  done
fi
if step ab; then  # A/B in one call: each folder of AB_DIR (space-separated) holds baseline files
  # (paths as in the repo; every file that differs from the tree, e.g. git show REF:path > ab_base/path). The tree
  # is benchmarked first, then each baseline overlaid and rebuilt in turn; the table gives new / each baseline.
  for dir in ${AB_DIR:-}; do [ -d "$dir" ] || { echo "ab: $dir is not a folder of baseline files"; exit 2; }; done
  [ -n "${AB_DIR:-}" ] || { echo "ab: set AB_DIR to folders of baseline files (e.g. git show REF:path > ab_base/path)"; exit 2; }
  # Each build is benchmarked AB_REPEAT times (default 2) and every row keeps its fastest time: this
  # card's time for a row jumps by 10-15% in some runs (runs 54-56), which one run per build mistakes
  # for a difference between the builds.
  ab_bench() {
    for i in $(seq ${AB_REPEAT:-2}); do
      timeout ${BENCH_TIMEOUT:-500} python3 benchmarks/bench_decode.py --variants ${VARIANTS:-sm90} --dtype ${DTYPE:-bf16} \
        ${BENCH_ARGS:-} --json "$OUT/ab_$1.$i.json" > "$OUT/ab_$1.$i.log" 2>&1
    done
  }
  # One discarded run first: the first benchmark of a call ran up to 7% slow (run 61, sm89 rows of identical code).
  [ "${AB_WARMUP:-1}" = 1 ] && timeout ${BENCH_TIMEOUT:-500} python3 benchmarks/bench_decode.py --variants ${VARIANTS:-sm90} \
    --dtype ${DTYPE:-bf16} ${BENCH_ARGS:-} > "$OUT/ab_warmup.log" 2>&1
  ab_bench new
  for dir in $AB_DIR; do
    name=$(basename "$dir")
    (cd "$dir" && find . -type f) | while read -r f; do cp "$dir/$f" "$f"; done
    MAX_JOBS=${MAX_JOBS:-16} python3 -m pip install --no-build-isolation --no-deps --no-index -e . > "$OUT/build_$name.log" 2>&1 ||
      { tail -20 "$OUT/build_$name.log"; exit 1; }
    ab_bench "$name"
  done
  python3 benchmarks/ab_table.py "$OUT/ab_{name}.{i}.json" ${AB_REPEAT:-2} new $(for dir in $AB_DIR; do basename "$dir"; done)
fi
if step abi; then  # interleaved A/B: the tree and each AB_DIR entry (a folder of files laid over its own copy of
  # the tree, or a .patch file applied to its own copy, e.g. benchmarks/experiments/*.patch; never over each other)
  # built side by side into their own site folders, then benchmarked in turns, AB_REPEAT
  # rounds (default 3), each row's fastest time kept. Between-build drift (up to 10% on unchanged rows in run 82's
  # sequential `ab`) then falls on every build alike. ABI_TEST=1 also runs the sm90 test module on every build
  # (ABI_TEST="new ab_x": on those builds only; ABI_TEST_MODULES="sm80 sm86" for others, forward-compat), with
  # ABI_TEST_ARGS (e.g. "--grid full").
  [ -n "${AB_DIR:-}" ] || { echo "abi: set AB_DIR to folders of files that differ from the tree, or .patch files"; exit 2; }
  rm -rf /tmp/abi; mkdir -p /tmp/abi
  names="new"; for dir in $AB_DIR; do names="$names $(basename "$dir" .patch)"; done
  nbuilds=$(echo $names | wc -w)
  start=$(date +%s)
  for name in $names; do
    src=/tmp/abi/src_$name; mkdir -p "$src"
    tar -cf - --exclude=./build --exclude=./.peers --exclude=./.whl --exclude='./ab*' --exclude=./.git --exclude='*.so' . |
      tar -xf - -C "$src"
    if [ "$name" != new ]; then
      entry=$(echo $AB_DIR | tr ' ' '\n' | grep -E "(^|/)$name(\.patch)?\$")
      if [ -d "$entry" ]; then cp -r "$entry/." "$src/"
      else patch_file=$(realpath "$entry") && (cd "$src" && git apply "$patch_file") || { echo "abi: $entry does not apply"; exit 1; }; fi
    fi
    (cd "$src" && MAX_JOBS=$(( ${MAX_JOBS:-16} / nbuilds + 1 )) FLASH_MLA_PTXAS_VERBOSE=1 python3 -m pip install -v \
      --no-build-isolation --no-deps --no-index --target /tmp/abi/site_$name . > "$OUT/abi_build_$name.log" 2>&1 || { echo "abi: build $name failed"; tail -20 "$OUT/abi_build_$name.log"; }) &
  done
  wait
  echo "abi builds: $(( $(date +%s) - start )) s"
  for name in $names; do
    echo "  $name: $(grep -E 'Used [0-9]+ registers' "$OUT/abi_build_$name.log" | sed 's/.*Used //; s/, used.*//' | sort | uniq -c | tr '\n' ';')"
    if [ "${ABI_TEST:-0}" = 1 ] || [[ " ${ABI_TEST:-} " == *" $name "* ]]; then  # ABI_TEST=1: every build; "new ab_x": those
      (repo=$PWD; cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH FLASH_MLA_FORWARD_COMPAT=1 timeout ${TEST_TIMEOUT:-300} \
        python3 -m pytest -q -p no:cacheprovider $(for m in ${ABI_TEST_MODULES:-sm90}; do echo "$repo/tests/test_flash_mla_$m.py"; done) \
        ${ABI_TEST_ARGS:-} 2>&1 | grep -E "^FAILED|passed|failed|error" | tail -12 | sed "s/^/  tests $name: /")
    fi
  done
  for i in $(seq ${AB_REPEAT:-3}); do
    for name in $names; do
      PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout ${BENCH_TIMEOUT:-300} python3 benchmarks/bench_decode.py \
        --variants ${VARIANTS:-sm90} --dtype ${DTYPE:-bf16} ${BENCH_ARGS:-} --json "/tmp/abi/$name.$i.json" > "/tmp/abi/$name.$i.log" 2>&1 ||
        tail -3 "/tmp/abi/$name.$i.log"
    done
  done
  if [ "${AB_REPEAT:-3}" -gt 0 ]; then  # AB_REPEAT=0: builds (and tests) only, e.g. for abncu or abisweep
    python3 benchmarks/ab_table.py "/tmp/abi/{name}.{i}.json" ${AB_REPEAT:-3} $names
    cp /tmp/abi/*.json "$OUT/" 2>/dev/null; tar -czf "$OUT/abi_json.tgz" -C /tmp/abi $(cd /tmp/abi && ls *.json) && rm -f "$OUT"/*.json
  fi
fi
if step ncumix; then  # one launch of ours and one of upstream under ncu: every NCU_MIX_METRICS metric side by side, and
  # the executed instructions by opcode (benchmarks/ncu_mix_table.py; run 157). NCU_MIX_CONFIG: one s_k:h_q:s_q.
  metrics=${NCU_MIX_METRICS:-gpu__time_duration.sum,sm__cycles_elapsed.avg,smsp__inst_executed.sum,l1tex__data_bank_reads.sum,l1tex__data_bank_writes.sum,lts__t_sectors.sum,lts__t_sectors_op_read.sum,lts__t_sectors_op_write.sum,lts__t_sector_hit_rate.pct,dram__bytes_read.sum}
  repo=$PWD
  for who in ours upstream; do
    if [ $who = ours ]; then kernel=regex:splitkv_decode_kernel; args=""
    else kernel=regex:splitkv; args="--peer upstream_${DTYPE:-bf16} --peers-dir $repo/.peers"; fi
    (cd /tmp && timeout ${NCU_TIMEOUT:-240} ncu --clock-control ${NCU_AB_CLOCK:-base} --kernel-name $kernel --launch-skip 1 --launch-count 1 \
      --metrics $metrics,sass__inst_executed_per_opcode --print-metric-instances details python3 "$repo/benchmarks/profile_kernels.py" \
      --configs ${NCU_MIX_CONFIG:-4096:128:1} --launch-only ${NCU_AB_ARGS:-} $args > "$OUT/ncumix_$who.txt" 2>&1) ||
      echo "ncumix: $who failed: $(tail -2 "$OUT/ncumix_$who.txt")"
  done
  python3 benchmarks/ncu_mix_table.py "$OUT/ncumix_ours.txt" "$OUT/ncumix_upstream.txt"
fi
if step abncu; then  # the abi step's builds (AB_REPEAT=0: built only) and upstream, kernel durations under ncu's locked
  # clocks: per round, one ncu run a build, 3 launches of each of NCU_AB_CONFIGS (profile_kernels.py --launch-only).
  # Sharper than the benchmark's A/B for small changes (benchmarks/ncu_ab_table.py). NCU_AB_PEER="" leaves upstream out;
  # NCU_AB_ARGS="--varlen" times the varlen rows; NCU_AB_CLOCK=none leaves the clocks to the card (run 153);
  # NCU_AB_WITH_COMBINE=1 times each call's split combine too (each kernel flushed and alone), added to its call's.
  # NCU_AB_ENVS="FLASH_MLA_SCHEDULE_FIXED_COST=4 FLASH_MLA_SCHEDULE_FIXED_COST=6" compares environment settings on
  # one build instead (the build step's, or SITE_FIRST's), as env1, env2, ...
  configs=${NCU_AB_CONFIGS:-4096:16:1,4096:64:2,4096:128:1,4096:128:2,8192:128:2}
  peer=${NCU_AB_PEER-upstream_${DTYPE:-bf16}}
  envs=(${NCU_AB_ENVS:-})
  if [ ${#envs[@]} -gt 0 ]; then
    names=$(seq -f 'env%g' ${#envs[@]} | xargs)
    for k in "${!envs[@]}"; do echo "  env$((k + 1)): ${envs[$k]}"; done
  else
    names=$(cd /tmp/abi && ls -d site_* | sed 's/^site_//' | sort | awk '$0=="new"{print; next} {rest=rest" "$0} END{print rest}' | xargs)
  fi
  ours=splitkv_decode_kernel; theirs=splitkv; fold=""
  [ "${NCU_AB_WITH_COMBINE:-0}" = 1 ] && ours="$ours|combine_splits_kernel" && theirs="$theirs|combine" && fold=--fold-combine
  repo=$PWD
  for i in $(seq ${NCU_AB_ROUNDS:-2}); do
    for name in $names ${peer:+peer}; do
      setting=""
      if [ $name = peer ]; then kernel="regex:$theirs"; site=""; args="--peer $peer --peers-dir $repo/.peers"
      elif [[ $name == env* ]]; then kernel="regex:$ours"; site=""; args=""; setting=${envs[$(( ${name#env} - 1 ))]}
      else kernel="regex:$ours"; site=/tmp/abi/site_$name:; args=""; fi
      (cd /tmp && export $setting PYTHONPATH=$site$PYTHONPATH && timeout ${NCU_TIMEOUT:-240} ncu --clock-control ${NCU_AB_CLOCK:-base} --kernel-name "$kernel" --metrics gpu__time_duration.sum \
        --csv python3 "$repo/benchmarks/profile_kernels.py" --configs $configs --launch-only ${NCU_AB_ARGS:-} $args \
        > "$OUT/ncu_ab_${name}_$i.csv" 2>&1) || echo "abncu: $name round $i failed: $(tail -2 "$OUT/ncu_ab_${name}_$i.csv")"
    done
  done
  python3 benchmarks/ncu_ab_table.py "$OUT/ncu_ab_{name}_{i}.csv" ${NCU_AB_ROUNDS:-2} $configs $names ${peer:+peer} $fold
fi
if step abisweep; then  # the cost a piece and a tile (profile_kernels.py --piece-sweep) of every build of an abi step
  # SWEEP_CONFIGS (h_q:s_q rows as 0:h_q:s_q), SWEEP_ROUNDS interleaved rounds; SWEEP_PEERS=1 adds upstream beside
  # the first build of the first round (benchmarks/NOTES.md runs 244-250).
  names=$(cd /tmp/abi && ls -d site_* | sed 's/^site_//' | sort | awk '$0=="new"{print; next} {rest=rest" "$0} END{print rest}' | xargs)
  repo=$PWD
  for i in $(seq ${SWEEP_ROUNDS:-2}); do
    first=1
    for name in $names; do
      peers=""; [ "$i$first${SWEEP_PEERS:-0}" = 111 ] && peers="--peers-dir $repo/.peers"; first=0
      (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH timeout ${SWEEP_TIMEOUT:-120} python3 "$repo/benchmarks/profile_kernels.py" \
        --piece-sweep ${SWEEP_TOKENS:-524288} --configs ${SWEEP_CONFIGS:-0:128:2,0:128:1,0:64:2} $peers 2>&1 |
        grep -v -i warn | grep "a piece\|b=128 " | sed "s/^/$i $name: /")
    done
  done
fi
