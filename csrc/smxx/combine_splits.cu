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
// upstream's ~15; benchmarks/NOTES.md, run 101.) A warp's chain of round trips to memory is what a combine
// costs: here the split count, then every split's lse together with split 0's row, then one a further split
// (runs 220-222: two a split, lse then row, made the combine 3-10% slower).
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

// The partial rows are scratch once read: the warp drops their lines from the L2 without writing them back
// (else their dirty lines reach DRAM during the next kernel). Lane l discards line l % 16 of split
// (l / 16 + 2k)'s row; rows are 128-byte aligned (out_accum is a fresh allocation; a row is 2 KB), split s's at
// first_row + s * split_bytes. Every lane must have read its rows first.
__device__ __forceinline__ void drop_rows_from_l2(const char* first_row, int64_t split_bytes, int num_splits, int lane) {
  constexpr int kLinesPerRow = kHeadDimV * int(sizeof(float)) / 128;
  static_assert(kHeadDimV * sizeof(float) % 128 == 0 && kLinesPerRow == 16, "a partial row is 16 whole 128-byte lines");
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  __syncwarp();
  for (int s = lane / kLinesPerRow; s < num_splits; s += 32 / kLinesPerRow)
    asm volatile("discard.global.L2 [%0], 128;" ::"l"(first_row + s * split_bytes + (lane % kLinesPerRow) * 128) : "memory");
#endif
}

// Writes merged row `row` (kv_head * rows_per_kv + s * heads_per_kv + head) of sequence blockIdx.x: out =
// acc * scale (zeros where acc is null), and its lse.
template <typename Element>
__device__ __forceinline__ void write_merged_row(const DecodeParams& params, int row, int lane, const float4* acc,
                                                 float scale, float row_lse) {
  const int batch_idx = blockIdx.x, kv_head = row / params.rows_per_kv, row_in_kv = row % params.rows_per_kv;
  Element* out = out_row<Element>(params, batch_idx, kv_head, row_in_kv);
#pragma unroll
  for (int i = 0; i < kFloat4PerLane; ++i) {
    const float4 v = acc ? make_float4(acc[i].x * scale, acc[i].y * scale, acc[i].z * scale, acc[i].w * scale)
                         : make_float4(0.f, 0.f, 0.f, 0.f);
    store_four(out + (lane + 32 * i) * 4, v);
  }
  if (lane == 0) *lse_of_row(params, batch_idx, kv_head, row_in_kv) = row_lse;
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
  const int slot_rows = params.num_heads_k * params.rows_per_kv;  // rows of a split slot (at most 128 * 16)
  const int row = blockIdx.y * kRowsPerCta + threadIdx.x / 32;  // kv_head * rows_per_kv + s * heads_per_kv + head
  if (row >= slot_rows) return;
  const int64_t first_row = int64_t(first_slot) * slot_rows + row;  // the row's index in split 0's slot
  const float* lse_accum = params.lse_accum + first_row;                // split s at s * slot_rows
  const float4* part = reinterpret_cast<const float4*>(params.out_accum + first_row * kHeadDimV) + lane;
  const int split_stride = slot_rows * (kHeadDimV / 4);  // float4 from one split's row to the next's (< 2^31)

  // One round trip for the splits' lse (split s in lane s % 32) and split 0's row together; more than 32
  // splits (rare) take more lse loads.
  float4 rows[kFloat4PerLane];
#pragma unroll
  for (int i = 0; i < kFloat4PerLane; ++i) rows[i] = part[32 * i];
  const float lane_lse = lane < num_splits ? lse_accum[lane * slot_rows] : -INFINITY;
  float max_lse = lane_lse;
#pragma unroll 1
  for (int s = lane + 32; s < num_splits; s += 32) max_lse = fmaxf(max_lse, lse_accum[s * slot_rows]);
  max_lse = warp_max(max_lse);

  if (max_lse == -INFINITY) {  // no split saw a token: out 0, lse +inf (FlashMLA's convention)
    write_merged_row<Element>(params, row, lane, nullptr, 0.f, INFINITY);
    return;
  }
  float lane_weight = expf(lane_lse - max_lse);  // split s's weight in lane s % 32; exp(-inf) = 0 for empty splits
  float4 acc[kFloat4PerLane];
#pragma unroll
  for (int i = 0; i < kFloat4PerLane; ++i) acc[i] = make_float4(0.f, 0.f, 0.f, 0.f);
  float weight_sum = 0.f;  // the same in every lane
  // One round trip a split: the next split's row goes into `rows` once this split's sums have used it. Only
  // the sums, one row and the loop's state hold registers through the loop (the output is addressed after it).
#pragma unroll 1
  for (int s = 0; s < num_splits; ++s) {
    if (s % 32 == 0 && s > 0) {  // the next 32 splits' weights (more than 32 splits: rare)
      const int split = s + lane;
      lane_weight = split < num_splits ? expf(lse_accum[int64_t(split) * slot_rows] - max_lse) : 0.f;
    }
    const float weight = __shfl_sync(0xffffffff, lane_weight, s % 32);
    if (weight != 0.f) {  // an empty split's row was never written (it may hold NaN): warp-uniform
      weight_sum += weight;
#pragma unroll
      for (int i = 0; i < kFloat4PerLane; ++i) {
        acc[i].x += weight * rows[i].x;
        acc[i].y += weight * rows[i].y;
        acc[i].z += weight * rows[i].z;
        acc[i].w += weight * rows[i].w;
      }
    }
    if (s + 1 < num_splits) {
      const float4* next_row = part + int64_t(s + 1) * split_stride;
#pragma unroll
      for (int i = 0; i < kFloat4PerLane; ++i) rows[i] = next_row[32 * i];
    }
  }
  write_merged_row<Element>(params, row, lane, acc, 1.f / weight_sum, max_lse + logf(weight_sum));
  // Every row has been read: its lines leave the L2 unwritten, two splits an instruction (lanes 0-15 and
  // 16-31). After the stores, so that no row load waits behind a discard (run 220).
  drop_rows_from_l2(reinterpret_cast<const char*>(part - lane), int64_t(split_stride) * sizeof(float4), num_splits, lane);
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
