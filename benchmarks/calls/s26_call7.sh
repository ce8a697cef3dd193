#!/usr/bin/env bash
# Session 26, call 7 (run 234): the scheduler's payload rule (877da99) on the Ampere-class kernel too: main beside
# main without it (diagnostic-scheduler-mean-payload-only.patch), sm90 and sm80 (forward-compat, its A100 tiles) on
# the tile-pair rows (128 query rows: 66 parts; 8192 fixed is where the rule fires), and the scheduler kernel's
# own time on equal and varied lengths, batch 128 and 4096, both builds.
export FLASH_MLA_CUDA_ARCHS="80;90a" FLASH_MLA_FORWARD_COMPAT=1
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/diagnostic-scheduler-mean-payload-only.patch" AB_REPEAT=2 VARIANTS=sm90,sm80 \
  BENCH_TIMEOUT=150 BENCH_ARGS="--heads 64:2,128:1" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
for name in new diagnostic-scheduler-mean-payload-only; do
  (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH python3 - "$name" <<'PY'
import sys, torch, flash_mla
from torch.profiler import profile, ProfilerActivity
gen = torch.Generator().manual_seed(0)
for batch in (128, 4096):
    for kind in ("equal", "varied"):
        lens = torch.full((batch,), 8192) if kind == "equal" else torch.randint(4096, 8193, (batch,), generator=gen)
        lens = lens.to(torch.int32).cuda()
        for _ in range(3): flash_mla.get_mla_metadata(lens, 128, 1)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(20): flash_mla.get_mla_metadata(lens, 128, 1)
            torch.cuda.synchronize()
        us = [getattr(e, "device_time_total", None) or getattr(e, "cuda_time_total", 0) for e in prof.events()
              if "scheduler_metadata" in e.name]
        splits = int(flash_mla.get_mla_metadata(lens, 128, 1)[1][-1]) - batch
        print(f"  {sys.argv[1]:40s} batch {batch:5d} {kind:6s}: scheduler kernel {sorted(us)[len(us)//2]:.1f} us, splits {splits}")
PY
  )
done
