#include "combine_splits.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

#include "../common/cuda_check.h"
#include "../common/output_rows.cuh"

namespace flash_mla {
namespace {

// A warp merges one query row (512 values: 16 a lane, as 4 float4 at columns 4 (lane + 32 i)), a CTA
// kRowsPerCta rows of one sequence. (One 128-thread CTA a row, its lse reads one after another, ran
// as 32768 mostly empty CTAs at b=128, 256 rows: ~25 us after the decode kernel at 4096/128/2 against
// upstream's ~15; benchmarks/NOTES.md, run 101.)
constexpr int kRowsPerCta = 8;
constexpr int kCombineThreads = 32 * kRowsPerCta;
constexpr int kFloat4PerLane = kHeadDimV / 4 / 32;

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

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, offset));
  return v;
}

// A partial row is scratch once read: the warp drops its lines from the L2 without writing them back (else
// their dirty lines reach DRAM during the next kernel). Lane l < 16 discards the row's l-th 128-byte line;
// `row` is 128-byte aligned (out_accum is a fresh allocation; each row is 2 KB). Every lane must have read
// the row first.
__device__ __forceinline__ void drop_from_l2(const char* row, int lane) {
  static_assert(kHeadDimV * sizeof(float) % 128 == 0, "a partial row is whole 128-byte lines");
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  __syncwarp();
  if (lane < kHeadDimV * int(sizeof(float)) / 128) asm volatile("discard.global.L2 [%0], 128;" ::"l"(row + lane * 128) : "memory");
#endif
}

// grid: (batch, ceil(h_kv * rows_per_kv / kRowsPerCta)). The batch goes in x, whose limit is 2^31 - 1: in y
// (at most 65535) a call with more sequences failed to launch.
template <typename Element>
__global__ void __launch_bounds__(kCombineThreads)
combine_splits_kernel(const DecodeParams params) {
  const int batch_idx = blockIdx.x;
  const int first_slot = params.num_splits_prefix[batch_idx];
  const int num_splits = params.num_splits_prefix[batch_idx + 1] - first_slot;
  if (num_splits <= 1) return;  // (num_splits_prefix comes from the scheduler, which ran before the decode kernel)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  // Launched as a programmatic dependent: wait until the decode grid has finished and its partials are
  // visible (a no-op for an ordinary launch).
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif

  const int lane = threadIdx.x % 32;
  const int64_t slot_rows = int64_t(params.num_heads_k) * params.rows_per_kv;
  const int row = blockIdx.y * kRowsPerCta + threadIdx.x / 32;  // kv_head * rows_per_kv + s * heads_per_kv + head
  if (row >= slot_rows) return;
  const int row_in_kv = row % params.rows_per_kv;
  const int kv_head = row / params.rows_per_kv;
  const float* lse_accum = params.lse_accum + first_slot * slot_rows + row;  // split s at s * slot_rows

  // The splits' lse spread over the lanes: their maximum.
  float max_lse = -INFINITY;
  for (int s = lane; s < num_splits; s += 32) max_lse = fmaxf(max_lse, lse_accum[s * slot_rows]);
  max_lse = warp_max(max_lse);

  Element* out = out_row<Element>(params, batch_idx, kv_head, row_in_kv);
  float* lse = lse_of_row(params, batch_idx, kv_head, row_in_kv);
  if (max_lse == -INFINITY) {  // no split saw a token: out 0, lse +inf (FlashMLA's convention)
#pragma unroll
    for (int i = 0; i < kFloat4PerLane; ++i) store_four(out + (lane + 32 * i) * 4, make_float4(0.f, 0.f, 0.f, 0.f));
    if (lane == 0) *lse = INFINITY;
    return;
  }
  float4 acc[kFloat4PerLane];
#pragma unroll
  for (int i = 0; i < kFloat4PerLane; ++i) acc[i] = make_float4(0.f, 0.f, 0.f, 0.f);
  const float4* part = reinterpret_cast<const float4*>(params.out_accum + (first_slot * slot_rows + row) * kHeadDimV) + lane;
  float weight_sum = 0.f;  // the same in every lane: each lane reads every split's lse here
#pragma unroll 2
  for (int s = 0; s < num_splits; ++s) {
    const float weight = expf(lse_accum[s * slot_rows] - max_lse);  // exp(-inf) = 0 for empty splits
    if (weight == 0.f) continue;  // an empty split's partial output is never read (warp-uniform)
    weight_sum += weight;
    const float4* split_part = part + s * slot_rows * (kHeadDimV / 4);
#pragma unroll
    for (int i = 0; i < kFloat4PerLane; ++i) {
      const float4 v = split_part[32 * i];
      acc[i].x += weight * v.x;
      acc[i].y += weight * v.y;
      acc[i].z += weight * v.z;
      acc[i].w += weight * v.w;
    }
    drop_from_l2(reinterpret_cast<const char*>(split_part - lane), lane);
  }
  const float inv = 1.f / weight_sum;
#pragma unroll
  for (int i = 0; i < kFloat4PerLane; ++i) {
    store_four(out + (lane + 32 * i) * 4, make_float4(acc[i].x * inv, acc[i].y * inv, acc[i].z * inv, acc[i].w * inv));
  }
  if (lane == 0) *lse = max_lse + logf(weight_sum);
}

}  // namespace

template <typename Element>
void launch_combine_splits(const DecodeParams& params, cudaStream_t stream, bool after_programmatic_trigger) {
  const dim3 grid(params.batch, (params.num_heads_k * params.rows_per_kv + kRowsPerCta - 1) / kRowsPerCta);
  if (!after_programmatic_trigger) {
    combine_splits_kernel<Element><<<grid, kCombineThreads, 0, stream>>>(params);
    return;
  }
  launch_programmatic_dependent(combine_splits_kernel<Element>, grid, dim3(kCombineThreads), 0, stream, params);
}

template void launch_combine_splits<__nv_bfloat16>(const DecodeParams&, cudaStream_t, bool);
template void launch_combine_splits<__half>(const DecodeParams&, cudaStream_t, bool);

}  // namespace flash_mla
