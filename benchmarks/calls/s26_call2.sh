#!/usr/bin/env bash
# Session 26, call 2 (run 229): every module's quick grid on main (the whole-GPU tests' shared skip helper, 626593a, was not
# yet run on a GPU), then the tile pairs' scheduler fixed cost swept on the rows with 128 query rows, fixed and
# varlen (run 155 swept 4-8 on fixed rows only), row by row beside upstream: sm90 (its own, 6), /c5, /c8, /c10.
export FLASH_MLA_CUDA_ARCHS="80;86;89;90a"
STEPS="build test" TEST_TIMEOUT=300 bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING" | grep -v "ptxas info"
STEPS="bench" VARIANTS="sm90,sm90/c5,sm90/c8,sm90/c10" DTYPE=bf16 PEERS="upstream_bf16" \
  BENCH_ARGS="--heads 64:2,128:1,128:2 --rounds 3" BENCH_TIMEOUT=300 bash benchmarks/device_session.sh > $OUT/bench.txt 2>&1
tail -30 $OUT/bench.txt
python3 - "$OUT/bench.json" <<'PY'
import json, sys, collections
rows = json.load(open(sys.argv[1]))["rows"]
ms = collections.defaultdict(dict)
for r in rows:
    ms[(r["s_k"], r["varlen"], r["h_q"], r["s_q"])][r["impl"]] = r["ms"]
impls = ["ours_sm90", "ours_sm90/c5", "ours_sm90/c8", "ours_sm90/c10", "upstream_bf16"]
print("s_k lens h_q s_q | " + " ".join(f"{i[5:]:>9}" for i in impls) + " | best/c6")
for key, row in sorted(ms.items()):
    best = min(row.get(i, 9e9) for i in impls[:4])
    print(f"{key[0]} {'varlen' if key[1] else 'fixed '} {key[2]:3d} {key[3]} | " + " ".join(f"{row.get(i, 0):9.4f}" for i in impls)
          + f" | {best / row['ours_sm90']:.3f}")
PY
