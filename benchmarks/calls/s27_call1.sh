#!/usr/bin/env bash
# Session 27, call 1 (written in session 26, not yet run): the scheduler's block counts staged in shared memory
# (benchmarks/experiments/scheduler-blocks-in-shared-memory.patch; NOTES "Plan for session 27", item 1). Builds main
# and the patch (sm80 + sm90a), runs the scheduler tests on both modules of the patch's build (the device against
# the mirror: staged and global paths, the latter by the 65544-sequence test), then the scheduler kernel's time
# on both builds. Prediction: 3-5x faster at batch 128 and 4096 (run 234: 18 and 241 us).
export FLASH_MLA_CUDA_ARCHS="80;90a" FLASH_MLA_FORWARD_COMPAT=1
E=benchmarks/experiments
STEPS="abi" AB_DIR="$E/scheduler-blocks-in-shared-memory.patch" AB_REPEAT=0 ABI_TEST="scheduler-blocks-in-shared-memory" \
  ABI_TEST_MODULES="sm90 sm80" bash benchmarks/device_session.sh 2>&1 | grep -v "^WARNING"
for name in new scheduler-blocks-in-shared-memory; do
  (cd /tmp && PYTHONPATH=/tmp/abi/site_$name:$PYTHONPATH python3 - "$name" <<'PY'
import sys, torch, flash_mla
from torch.profiler import profile, ProfilerActivity
gen = torch.Generator().manual_seed(0)
for batch in (128, 4096, 20000):
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
        meta, splits = flash_mla.get_mla_metadata(lens, 128, 1)
        print(f"  {sys.argv[1]:36s} batch {batch:5d} {kind:6s}: scheduler kernel {sorted(us)[len(us)//2]:.1f} us, "
              f"splits {int(splits[-1]) - batch}, metadata crc {int(meta.to(torch.int64).sum())}")
PY
  )
done
