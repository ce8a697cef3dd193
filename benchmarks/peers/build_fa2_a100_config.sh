#!/usr/bin/env bash
# FlashInfer's fa2 MLA module held to its A100 tile (the #3 comparison at equal shared memory; NOTES runs 176-177).
#
# FlashInfer picks its fa2 MLA tile by the device's shared memory per SM (DISPATCH_SMEM_CONFIG in
# include/flashinfer/attention/mla.cuh): two 64-token stages (~216 KB) at >= 221696 bytes (H100/H200), two 32-token
# stages at >= 147968 (A100). Our sm80 variant is held to the A100's 163 KB per block, so on an H100 the fair peer is
# fa2 at its A100 tile. This script builds that module from the FlashInfer wheel in .peers/whl (cross-compiled for
# sm_90a, no GPU needed; ~2 min on 2 cores) with the first branch switched off, and writes
#   .peers/fa2_a100/fa2_a100.so
# which replaces the prebuilt fa2 module in a second copy of the peers (bench_decode.py, one process each):
#   uri=batch_mla_attention_dtype_q_bf16_dtype_kv_bf16_dtype_o_bf16_dtype_idx_i32_head_dim_ckv_512_head_dim_kpe_64_profiler_False
#   cp -r /tmp/peers /tmp/peers_a100 && cp .peers/fa2_a100/fa2_a100.so /tmp/peers_a100/flashinfer/data/aot/$uri/$uri.so
#   PYTHONPATH=/tmp/site:/tmp/peers_a100 python3 benchmarks/bench_decode.py --variants sm80 --peers-dir .peers \
#     --peers flashinfer_fa2_bf16 --rounds 3
# (results/s19_call7.sh has the whole device call). Needs python3 with jinja2, nvcc 12.8+ (CUDA_HOME, default
# /usr/local/cuda), and the wheels of .peers/whl (flashinfer-python 0.5.3, apache-tvm-ffi).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cuda=${CUDA_HOME:-/usr/local/cuda}
out=$repo/.peers/fa2_a100
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for whl in "$repo"/.peers/whl/flashinfer_python-*.whl "$repo"/.peers/whl/apache_tvm_ffi-*.whl; do
  [ -f "$whl" ] || { echo "missing $whl: download the peers' wheels first (.peers/README.md)"; exit 2; }
  python3 -m zipfile -e "$whl" "$work/site"
done
data=$work/site/flashinfer/data
header=$data/include/flashinfer/attention/mla.cuh
grep -q "if (smem_limit_per_sm >= 221696) {" "$header" || { echo "$header: the H100 branch is not where expected"; exit 2; }
sed -i 's/if (smem_limit_per_sm >= 221696) {/if (false \&\& smem_limit_per_sm >= 221696) {/' "$header"
python3 - "$data/csrc/batch_mla_config.jinja" "$work/batch_mla_config.inc" <<'PY'
import sys
import jinja2
template = jinja2.Template(open(sys.argv[1]).read())
open(sys.argv[2], "w").write(template.render(dtype_q="nv_bfloat16", dtype_kv="nv_bfloat16", dtype_o="nv_bfloat16",
                                             dtype_idx="int32_t", head_dim_ckv=512, head_dim_kpe=64))
PY
# shellcheck disable=SC2054  # (the commas are inside -gencode=arch=...,code=...)
# FlashInfer's own JIT flags for this module (flashinfer/jit/core.py, cpp_ext.py), sm_90a as its prebuilt one.
flags=(-std=c++17 -O3 -DNDEBUG -use_fast_math -DFLASHINFER_ENABLE_F16 -DFLASHINFER_ENABLE_BF16
       -DFLASHINFER_ENABLE_FP8_E4M3 -DFLASHINFER_ENABLE_FP8_E5M2 -D_GLIBCXX_USE_CXX11_ABI=1
       --compiler-options=-fPIC --expt-relaxed-constexpr -static-global-template-stub=false
       -gencode=arch=compute_90a,code=sm_90a -I"$work"
       -isystem "$cuda/include/cccl" -isystem "$work/site/tvm_ffi/include" -isystem "$data/include"
       -isystem "$data/csrc" -isystem "$data/cutlass/include" -isystem "$data/cutlass/tools/util/include"
       -isystem "$data/spdlog/include")
echo "compiling FlashInfer's fa2 MLA module at its A100 tile (3 files, in parallel)..."
for name in batch_mla_plan batch_mla_run batch_mla_binding; do
  "$cuda/bin/nvcc" "${flags[@]}" -c "$data/csrc/$name.cu" -o "$work/$name.o" 2> "$work/$name.log" &
done
failed=0
for job in $(jobs -p); do wait "$job" || failed=1; done
if [ $failed -ne 0 ]; then grep -h -B2 -A6 "error" "$work"/*.log | head -40; exit 1; fi
mkdir -p "$out"
"$cuda/bin/nvcc" -shared "$work"/batch_mla_plan.o "$work"/batch_mla_run.o "$work"/batch_mla_binding.o \
  -L"$cuda/lib64" -lcudart -o "$out/fa2_a100.so"
echo "wrote $out/fa2_a100.so"
