#include "combine_splits.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

namespace flash_mla {
namespace {

constexpr int kCombineThreads = kHeadDimV / 4;  // one float4 of the 512-wide row per thread

template <typename Element>
__device__ __forceinline__ void store_four(Element* dst, float4 v);

template <>
__device__ __forceinline__ void store_four<__nv_bfloat16>(__nv_bfloat16* dst, float4 v) {
  __nv_bfloat162 lo = __floats2bfloat162_rn(v.x, v.y), hi = __floats2bfloat162_rn(v.z, v.w);
  uint2 packed = {*reinterpret_cast<uint32_t*>(&lo), *reinterpret_cast<uint32_t*>(&hi)};
  *reinterpret_cast<uint2*>(dst) = packed;
}

template <>
__device__ __forceinline__ void store_four<__half>(__half* dst, float4 v) {
  __half2 lo = __floats2half2_rn(v.x, v.y), hi = __floats2half2_rn(v.z, v.w);
  uint2 packed = {*reinterpret_cast<uint32_t*>(&lo), *reinterpret_cast<uint32_t*>(&hi)};
  *reinterpret_cast<uint2*>(dst) = packed;
}

// grid: (h_kv * rows_per_kv, batch). One CTA merges one query row of one sequence.
template <typename Element>
__global__ void __launch_bounds__(kCombineThreads)
combine_splits_kernel(const DecodeParams params) {
  const int batch_idx = blockIdx.y;
  const int first_slot = params.num_splits_prefix[batch_idx];
  const int num_splits = params.num_splits_prefix[batch_idx + 1] - first_slot;
  if (num_splits <= 1) return;  // (num_splits_prefix comes from the scheduler, which ran before the decode kernel)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  // Launched as a programmatic dependent: wait until the decode grid has finished and its partials are
  // visible (a no-op for an ordinary launch).
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif

  const int row_in_kv = blockIdx.x % params.rows_per_kv;  // row = s * heads_per_kv + head
  const int kv_head = blockIdx.x / params.rows_per_kv;
  const int seq_idx = row_in_kv / params.heads_per_kv;
  const int head_idx = kv_head * params.heads_per_kv + row_in_kv % params.heads_per_kv;
  const int64_t slot_rows = int64_t(params.num_heads_k) * params.rows_per_kv;

  float max_lse = -INFINITY;
  for (int s = 0; s < num_splits; ++s) {
    max_lse = fmaxf(max_lse, params.lse_accum[(first_slot + s) * slot_rows + blockIdx.x]);
  }

  Element* out = reinterpret_cast<Element*>(params.out) + batch_idx * params.out_batch_stride +
                 seq_idx * params.out_seq_stride + head_idx * params.out_head_stride;
  float* lse = params.lse + (int64_t(batch_idx) * params.num_heads_q + head_idx) * params.seqlen_q +
               seq_idx;
  if (max_lse == -INFINITY) {  // no split saw a token: out 0, lse +inf (FlashMLA's convention)
    store_four(out + threadIdx.x * 4, make_float4(0.f, 0.f, 0.f, 0.f));
    if (threadIdx.x == 0) *lse = INFINITY;
    return;
  }

  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
  float weight_sum = 0.f;
  for (int s = 0; s < num_splits; ++s) {
    const int64_t slot_row = (first_slot + s) * slot_rows + blockIdx.x;
    const float weight = expf(params.lse_accum[slot_row] - max_lse);  // exp(-inf) = 0 for empty splits
    if (weight == 0.f) continue;  // an empty split's partial output is never read
    const float4 part =
        reinterpret_cast<const float4*>(params.out_accum + slot_row * kHeadDimV)[threadIdx.x];
    acc.x += weight * part.x;
    acc.y += weight * part.y;
    acc.z += weight * part.z;
    acc.w += weight * part.w;
    weight_sum += weight;
  }
  const float inv = 1.f / weight_sum;
  store_four(out + threadIdx.x * 4, make_float4(acc.x * inv, acc.y * inv, acc.z * inv, acc.w * inv));
  if (threadIdx.x == 0) *lse = max_lse + logf(weight_sum);
}

}  // namespace

template <typename Element>
void launch_combine_splits(const DecodeParams& params, cudaStream_t stream, bool after_programmatic_trigger) {
  const dim3 grid(params.num_heads_k * params.rows_per_kv, params.batch);
  if (!after_programmatic_trigger) {
    combine_splits_kernel<Element><<<grid, kCombineThreads, 0, stream>>>(params);
    return;
  }
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = dim3(kCombineThreads);
  config.dynamicSmemBytes = 0;
  config.stream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  // (An error is left for the caller's launch check, like the <<<>>> launch's.)
  (void)cudaLaunchKernelEx(&config, combine_splits_kernel<Element>, params);
}

template void launch_combine_splits<__nv_bfloat16>(const DecodeParams&, cudaStream_t, bool);
template void launch_combine_splits<__half>(const DecodeParams&, cudaStream_t, bool);

}  // namespace flash_mla
