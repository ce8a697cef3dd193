#include "combine_splits.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <type_traits>

#include "../common/cuda_check.h"
#include "../common/online_softmax.cuh"
#include "../common/output_rows.cuh"

namespace flash_mla {
namespace {

// A warp merges one query row (512 values: 16 a lane), a CTA kRowsPerCta rows of one sequence. (One
// 128-thread CTA a row, its lse reads one after another, ran as 32768 mostly empty CTAs at b=128, 256 rows:
// ~25 us after the decode kernel at 4096/128/2 against upstream's ~15; benchmarks/NOTES.md, run 101.) A warp's
// chain of round trips to memory is what a combine costs: here the split count, then every split's lse together
// with split 0's row, then one a further split (runs 220-222: two a split, lse then row, made the combine 3-10%
// slower).
constexpr int kRowsPerCta = 8;
constexpr int kCombineThreads = 32 * kRowsPerCta;

// A lane's share of a partial row of Partial (float, or the 16-bit element): kChunks 16-byte chunks of
// kValuesPerChunk values, chunk i at columns kValuesPerChunk * (lane + 32 i) and on.
template <typename Partial>
struct LaneChunks {
  static constexpr int kValuesPerChunk = 16 / int(sizeof(Partial));
  static constexpr int kChunks = kHeadDimV / kValuesPerChunk / 32;
  static constexpr int kValues = kChunks * kValuesPerChunk;  // 16
};

// A 16-byte chunk of partials as floats.
template <typename Partial>
__device__ __forceinline__ void chunk_to_floats(const uint4& chunk, float (&v)[16 / sizeof(Partial)]) {
  const uint32_t words[4] = {chunk.x, chunk.y, chunk.z, chunk.w};
#pragma unroll
  for (int w = 0; w < 4; ++w) {
    if constexpr (std::is_same_v<Partial, float>) {
      v[w] = __uint_as_float(words[w]);
    } else {
      float2 pair;
      if constexpr (std::is_same_v<Partial, __nv_bfloat16>) {
        pair = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&words[w]));
      } else {
        pair = __half22float2(*reinterpret_cast<const __half2*>(&words[w]));
      }
      v[2 * w] = pair.x;
      v[2 * w + 1] = pair.y;
    }
  }
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, offset));
  return v;
}

// The partial rows are scratch once read: the warp drops their lines from the L2 without writing them back
// (else their dirty lines reach DRAM during the next kernel). Lane l discards line l % kLinesPerRow of split
// (l / kLinesPerRow + k 32 / kLinesPerRow)'s row; rows are 128-byte aligned (out_accum is a fresh allocation; a
// row is 1 or 2 KB), split s's at first_row + s * split_bytes. Every lane must have read its rows first.
template <typename Partial>
__device__ __forceinline__ void drop_rows_from_l2(const char* first_row, int64_t split_bytes, int num_splits, int lane) {
  constexpr int kLinesPerRow = kHeadDimV * int(sizeof(Partial)) / 128;
  static_assert(kHeadDimV * sizeof(Partial) % 128 == 0 && 32 % kLinesPerRow == 0,
                "a partial row is whole 128-byte lines");
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  __syncwarp();
  for (int s = lane / kLinesPerRow; s < num_splits; s += 32 / kLinesPerRow)
    asm volatile("discard.global.L2 [%0], 128;" ::"l"(first_row + s * split_bytes + (lane % kLinesPerRow) * 128)
                 : "memory");
#endif
}

// Writes merged row `row` (kv_head * rows_per_kv + s * heads_per_kv + head) of sequence blockIdx.x: out =
// acc * scale (zeros where acc is null), this lane's columns as LaneChunks<Partial> lays them out, and its lse.
template <typename Element, typename Partial>
__device__ __forceinline__ void write_merged_row(const DecodeParams& params, int row, int lane, const float* acc,
                                                 float scale, float row_lse) {
  using Chunks = LaneChunks<Partial>;
  const int batch_idx = blockIdx.x, kv_head = row / params.rows_per_kv, row_in_kv = row % params.rows_per_kv;
  Element* out = out_row<Element>(params, batch_idx, kv_head, row_in_kv);
#pragma unroll
  for (int i = 0; i < Chunks::kChunks; ++i) {
    uint32_t packed[Chunks::kValuesPerChunk / 2];
#pragma unroll
    for (int w = 0; w < Chunks::kValuesPerChunk / 2; ++w) {
      const int v = i * Chunks::kValuesPerChunk + 2 * w;
      packed[w] = acc ? pack_two<Element>(acc[v] * scale, acc[v + 1] * scale) : 0u;
    }
    Element* dst = out + (lane + 32 * i) * Chunks::kValuesPerChunk;
    if constexpr (Chunks::kValuesPerChunk == 8) {
      *reinterpret_cast<uint4*>(dst) = make_uint4(packed[0], packed[1], packed[2], packed[3]);
    } else {
      *reinterpret_cast<uint2*>(dst) = make_uint2(packed[0], packed[1]);
    }
  }
  if (lane == 0) *lse_of_row(params, batch_idx, kv_head, row_in_kv) = row_lse;
}

// grid: (batch, ceil(h_kv * rows_per_kv / kRowsPerCta)). The batch goes in x, whose limit is 2^31 - 1: in y
// (at most 65535) a call with more sequences failed to launch.
template <typename Element, typename Partial>
__global__ void __launch_bounds__(kCombineThreads)
combine_splits_kernel(const DecodeParams params) {
  using Chunks = LaneChunks<Partial>;
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
  const Partial* first_partial = static_cast<const Partial*>(params.out_accum) + first_row * kHeadDimV;
  const uint4* part = reinterpret_cast<const uint4*>(first_partial) + lane;
  // 16-byte chunks from one split's row to the next's (< 2^31)
  const int split_stride = slot_rows * (kHeadDimV / Chunks::kValuesPerChunk);

  // One round trip for the splits' lse (split s in lane s % 32) and split 0's row together; more than 32
  // splits (rare) take more lse loads.
  uint4 rows[Chunks::kChunks];
#pragma unroll
  for (int i = 0; i < Chunks::kChunks; ++i) rows[i] = part[32 * i];
  const float lane_lse = lane < num_splits ? lse_accum[lane * slot_rows] : -INFINITY;
  float max_lse = lane_lse;
#pragma unroll 1
  for (int s = lane + 32; s < num_splits; s += 32) max_lse = fmaxf(max_lse, lse_accum[s * slot_rows]);
  max_lse = warp_max(max_lse);

  if (max_lse == -INFINITY) {  // no split saw a token: out 0, lse +inf (FlashMLA's convention)
    write_merged_row<Element, Partial>(params, row, lane, nullptr, 0.f, INFINITY);
    return;
  }
  float lane_weight = expf(lane_lse - max_lse);  // split s's weight in lane s % 32; exp(-inf) = 0 for empty splits
  float acc[Chunks::kValues];
#pragma unroll
  for (int v = 0; v < Chunks::kValues; ++v) acc[v] = 0.f;
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
      for (int i = 0; i < Chunks::kChunks; ++i) {
        float values[Chunks::kValuesPerChunk];
        chunk_to_floats<Partial>(rows[i], values);
#pragma unroll
        for (int j = 0; j < Chunks::kValuesPerChunk; ++j) acc[i * Chunks::kValuesPerChunk + j] += weight * values[j];
      }
    }
    if (s + 1 < num_splits) {
      const uint4* next_row = part + int64_t(s + 1) * split_stride;
#pragma unroll
      for (int i = 0; i < Chunks::kChunks; ++i) rows[i] = next_row[32 * i];
    }
  }
  write_merged_row<Element, Partial>(params, row, lane, acc, 1.f / weight_sum, max_lse + logf(weight_sum));
  // Every row has been read: its lines leave the L2 unwritten (lanes split the lines of a few splits an
  // instruction). After the stores, so that no row load waits behind a discard (run 220).
  drop_rows_from_l2<Partial>(reinterpret_cast<const char*>(first_partial), int64_t(split_stride) * 16, num_splits,
                             lane);
}

}  // namespace

template <typename Element, typename Partial>
void launch_combine_splits(const DecodeParams& params, cudaStream_t stream, bool after_programmatic_trigger) {
  const dim3 grid(params.batch, (params.num_heads_k * params.rows_per_kv + kRowsPerCta - 1) / kRowsPerCta);
  if (!after_programmatic_trigger) {
    combine_splits_kernel<Element, Partial><<<grid, kCombineThreads, 0, stream>>>(params);
    return;
  }
  launch_programmatic_dependent(combine_splits_kernel<Element, Partial>, grid, dim3(kCombineThreads), 0, stream, params);
}

template void launch_combine_splits<__nv_bfloat16, float>(const DecodeParams&, cudaStream_t, bool);
template void launch_combine_splits<__half, float>(const DecodeParams&, cudaStream_t, bool);
template void launch_combine_splits<__nv_bfloat16, __nv_bfloat16>(const DecodeParams&, cudaStream_t, bool);
template void launch_combine_splits<__half, __half>(const DecodeParams&, cudaStream_t, bool);

}  // namespace flash_mla
