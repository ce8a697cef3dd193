// Helpers shared by the two Hopper (sm90a) decode schedules (column_split_kernel.cuh and
// tile_pairs_kernel.cuh): Q's copy into shared memory, the tokens each row may see, the epilogue's
// row statistics and stores of O (or its 16-bit partial) and the lse (staged in shared memory and written
// by bulk copies), and the launch of either kernel. (exp2, the row-maximum update and
// 16-bit packing: common/online_softmax.cuh; where a row's results go: common/output_rows.cuh.)
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cute/arch/copy_sm80.hpp>
#include <cute/arch/copy_sm90_tma.hpp>
#include <cutlass/arch/barrier.h>
#include <cute/numeric/int.hpp>
#include <cute/tensor.hpp>

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "../common/cuda_check.h"
#include "../common/decode_params.h"
#include "../common/online_softmax.cuh"
#include "../common/output_rows.cuh"
#include "../common/work_pieces.cuh"
#include "kv_tensor_map.h"

namespace flash_mla::sm90::common {

using Chunk = cute::uint128_t;  // 16 bytes

// Q rows [row_base, row_base + kBlockM) of this KV head -> shared memory (sQ, any layout indexed by
// (row, column)), as cp.async 16-byte chunks spread over kThreads threads from `thread`: 8 threads a
// row (one 128-byte segment per instruction), each 9 chunks of it, so that a row's (s, head) takes one
// integer division by heads_per_kv a thread and row, not one a chunk (18 a thread and piece before
// run 118). Rows past rows_per_kv are zero-filled. The caller fences and waits.
template <typename Element, int kBlockM, int kThreads, typename TensorQ>
__device__ __forceinline__ void copy_q_async(const DecodeParams& params, const WorkPiece& piece, int kv_head,
                                             int row_base, int thread, TensorQ& sQ) {
  constexpr int kThreadsPerRow = 8;
  constexpr int kRowsPerPass = kThreads / kThreadsPerRow;
  constexpr int kChunksPerThread = kHeadDimQK / 8 / kThreadsPerRow;  // 9
  static_assert(kThreads % kThreadsPerRow == 0 && kBlockM % kRowsPerPass == 0, "whole rows a pass");
  const Element* q_base = reinterpret_cast<const Element*>(params.q);
  asm volatile("" : "+r"(thread));  // (hoisted out of the tile loop, its addresses were spilled)
  const int first_col = (thread % kThreadsPerRow) * 8;
#pragma unroll
  for (int r = thread / kThreadsPerRow; r < kBlockM; r += kRowsPerPass) {
    const int row = min(row_base + r, params.rows_per_kv - 1);
    const int s_idx = row / params.heads_per_kv;
    const int head = kv_head * params.heads_per_kv + row - s_idx * params.heads_per_kv;
    const Element* src = q_base + piece.batch_idx * params.q_batch_stride + s_idx * params.q_seq_stride +
                         head * params.q_head_stride + first_col;
    const bool valid = row_base + r < params.rows_per_kv;
#pragma unroll
    for (int c = 0; c < kChunksPerThread; ++c) {
      cute::SM80_CP_ASYNC_CACHEGLOBAL_ZFILL<Chunk>::copy(*reinterpret_cast<const Chunk*>(src + c * 64),
                                                         *reinterpret_cast<Chunk*>(&sQ(r, first_col + c * 64)), valid);
    }
  }
}

// Tokens [0, mask_from) of the piece are visible to every row: tiles that end before it need no mask.
__device__ __forceinline__ int mask_from(const DecodeParams& params, const WorkPiece& piece) {
  return min(piece.token_end, params.is_causal ? max(0, piece.seqlen - params.seqlen_q + 1) : piece.seqlen);
}

// The tokens this thread's two rows (row_local, of the m_block at row_base; rows_per_kv is
// params.rows_per_kv, held by the caller) may see: [0, limit[r]), causal rows seeing up to
// seqlen - s_q + s, all capped at the piece's end.
__device__ __forceinline__ void visible_limits(const DecodeParams& params, const WorkPiece& piece, int rows_per_kv,
                                               int row_base, const int (&row_local)[2], int (&limit)[2]) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int s_idx = min(row_base + row_local[r], rows_per_kv - 1) / params.heads_per_kv;
    limit[r] = params.is_causal ? max(0, piece.seqlen - params.seqlen_q + s_idx + 1) : piece.seqlen;
    limit[r] = min(limit[r], piece.token_end);
  }
}

// The epilogue's statistics of a row from its total (the two warpgroups' sums of its exponentials)
// and its maximum (raw S units): 1 / total, and the lse. A row that saw no token gets 0 and an lse of
// +inf in the final output (FlashMLA's convention), -inf in a partial so the combine gives it no weight.
__device__ __forceinline__ void row_statistics(const DecodeParams& params, bool is_split, float total, float row_max,
                                               float& inv_sum, float& lse) {
  const bool seen = total > 0.f;
  inv_sum = seen ? 1.f / total : 0.f;
  lse = seen ? row_max * params.softmax_scale + logf(total) : (is_split ? -INFINITY : INFINITY);
}

// The epilogue's stores through shared memory, for a warpgroup that owns kCols (256) columns of O:
// this thread's two rows (row_local) of O times inv_sum go into `staging` (kStagingBytes that no one
// else reads or writes until the next piece), and the first kBlockM threads of those that meet at the
// staging barrier then each hand one row to the tensor memory accelerator as a bulk copy (cp.async.bulk,
// bulk_group), which writes it to out (one split) or to the partials (several) while the warps go on to
// the next piece. A staged row holds kRowCols columns: kCols (each warpgroup stages and copies its own
// half rows, 512 bytes a copy for 16-bit O), or both warpgroups' columns (whole rows, one 1 KB copy a
// row), so that one buffer holds the whole of O (the tile pairs stage it in one stage; half as many copies
// alone changed nothing, benchmarks/NOTES.md run 248). kIssueCopies false: stage only, and the caller
// copies the rows out later (copy_staged_rows). Stores straight from the accumulator registers stall the
// warps on the LSU queue (lg_throttle): 7.6% of the tile-pair kernel's samples at b=256, s_k=2048, 128/2,
// ~4.7 us a piece (benchmarks/NOTES.md, runs 96-98).
// The threads that issued copies must wait for their reads (bulk_store_wait_read) before anyone writes
// `staging` again, and before the CTA exits.
// Rows are padded by 8 values, so that the 8 rows a warp's stmatrix writes together start in different
// banks (1 wavefront for a matrix's 128 bytes).
template <typename Out>
__host__ __device__ constexpr int staged_row_bytes(int cols) {
  return (cols + 8) * int(sizeof(Out));
}

__device__ __forceinline__ void bulk_store_wait_read() { cute::tma_store_wait<0>(); }

// The staged rows' layout, and the copies that take them out (copy_staged_rows, below).
template <typename Out, int kBlockM, int kRowCols, int kStagingBytes>
__device__ __forceinline__ constexpr int checked_staged_row_bytes() {
  constexpr int kRowBytes = staged_row_bytes<Out>(kRowCols);
  static_assert(kBlockM * kRowBytes <= kStagingBytes, "the staged rows must fit");
  static_assert(kRowCols % 16 == 0 && kRowBytes % 16 == 0, "bulk copies and stmatrix need 16-byte aligned rows");
  return kRowBytes;
}

// 16-bit O's kCols columns of this thread's rows (times inv_sum) into `staging` (rows of kRowCols) by stmatrix:
// four 8 x 8 matrices a store, 16 stores a thread where st.shared.b32 took 64 (runs 165-166: 0.4-0.8 us a piece less).
// The accumulator holds a warp's 16 rows x 8 columns in 4 values a thread (rows lane / 4 and + 8, columns 2 (lane % 4)
// and + 1), which is stmatrix's fragment of two matrices. Lane L gives row L % 8 of matrix L / 8: matrices 0 and 1 are
// rows 0-7 and 8-15 of column block j, 2 and 3 of block j + 1. The padded rows (staged_row_bytes) put a
// matrix's 8 rows of 16 bytes in different banks.
template <typename Element, int kBlockM, int kCols, int kRowCols, int kStagingBytes, typename TensorO>
__device__ __forceinline__ void stage_rows_stmatrix(const int (&row_local)[2], const TensorO& o_acc,
                                                    const float (&inv_sum)[2], char* staging) {
  constexpr int kRowBytes = checked_staged_row_bytes<Element, kBlockM, kRowCols, kStagingBytes>();
  static_assert(sizeof(Element) == 2 && decltype(cute::size(o_acc))::value == kCols / 2, "16 rows x kCols a warp");
  const int lane = threadIdx.x % 32;
  const int warp_row = row_local[0] - lane / 4;  // the warp's first row
  uint32_t addr = cute::cast_smem_ptr_to_uint(staging) + (warp_row + lane % 8 + 8 * ((lane / 8) % 2)) * kRowBytes +
                  (lane / 16) * 16;
  asm volatile("" : "+r"(addr));
#pragma unroll
  for (int j = 0; j < kCols / 8; j += 2) {  // column blocks j and j + 1 (16 bytes each)
    const uint32_t m0 = pack_two<Element>(o_acc(4 * j) * inv_sum[0], o_acc(4 * j + 1) * inv_sum[0]);
    const uint32_t m1 = pack_two<Element>(o_acc(4 * j + 2) * inv_sum[1], o_acc(4 * j + 3) * inv_sum[1]);
    const uint32_t m2 = pack_two<Element>(o_acc(4 * j + 4) * inv_sum[0], o_acc(4 * j + 5) * inv_sum[0]);
    const uint32_t m3 = pack_two<Element>(o_acc(4 * j + 6) * inv_sum[1], o_acc(4 * j + 7) * inv_sum[1]);
    asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};" ::"r"(addr + j * 16), "r"(m0),
                 "r"(m1), "r"(m2), "r"(m3)
                 : "memory");
  }
}

// Where a 16-bit result row goes: the sequence's out row (a piece whose sequence has one split) or the row of its
// split slot's partials (several; on sm90 out_accum holds them in the input dtype). Its first element.
template <typename Element>
__device__ __forceinline__ Element* result_row(const DecodeParams& params, bool is_split, int batch_idx, int slot,
                                               int kv_head, int row) {
  return is_split ? static_cast<Element*>(params.out_accum) + partial_row(params, slot, kv_head, row) * kHeadDimV
                  : out_row<Element>(params, batch_idx, kv_head, row);
}

// The staged rows out: one bulk copy a row (kRowCols columns) to row_dst(global row), issued by the threads that
// `thread` numbers 0 .. kBlockM - 1, each into its own bulk group. The rows must already be fenced for the async
// proxy and past a barrier with the threads that staged them (store_rows_bulk).
// With keep_in_l2 the rows' L2 lines are tagged evict-last: the split partials, which the combine reads next and
// then discards. Untagged, the 16-bit partials were 1.8% slower on 4096 varlen 16/1 and 2.8% on 64/1 (run 238;
// with the fp32 partials the hint was worth 1-3% on the varlen memory rows, runs 202-203). Without a persisting
// L2 carve-out, which a library does not set, it does not keep the lines resident (run 204): the gain is in the
// decode kernel.
template <typename Out, int kBlockM, int kRowCols, int kStagingBytes, typename RowDst>
__device__ __forceinline__ void copy_staged_rows(const DecodeParams& params, int row_base, const char* staging,
                                                 int thread, bool keep_in_l2, RowDst row_dst) {
  constexpr int kRowBytes = checked_staged_row_bytes<Out, kBlockM, kRowCols, kStagingBytes>();
  constexpr int kCopyBytes = kRowCols * int(sizeof(Out));
  if (thread >= kBlockM || row_base + thread >= params.rows_per_kv) return;
  const uint32_t src = cute::cast_smem_ptr_to_uint(staging + thread * kRowBytes);
  void* dst = row_dst(row_base + thread);
  if (keep_in_l2) {
    uint64_t policy;
    asm volatile("createpolicy.fractional.L2::evict_last.b64 %0, 1.0;" : "=l"(policy));
    asm volatile("cp.async.bulk.global.shared::cta.bulk_group.L2::cache_hint [%0], [%1], %2, %3;"
                 ::"l"(dst), "r"(src), "r"(kCopyBytes), "l"(policy) : "memory");
  } else {
    asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" ::"l"(dst), "r"(src), "r"(kCopyBytes)
                 : "memory");
  }
  cute::tma_store_arrive();
}

// The epilogue's output, 16-bit O times inv_sum and the lse (from warpgroup 0's writes_lse threads): into out
// and lse (a piece whose sequence has one split) or into its split slot's partials, out_accum (16-bit, as out)
// and lse_accum (several). This warpgroup's O is O's columns [col_base, col_base + kCols). kRowCols == kCols:
// `staging` is this warpgroup's own, and the copies are its own (barrier: its 128 threads). kRowCols == 2 kCols:
// both warpgroups stage into the same `staging` at their columns, and the first kBlockM threads of the two
// (barrier: all 256) copy whole rows.
template <typename Element, int kBlockM, int kCols, int kRowCols, int kStagingBytes, bool kIssueCopies = true,
          typename TensorO>
__device__ __forceinline__ void store_rows_bulk(const DecodeParams& params, const WorkPiece& piece, int kv_head,
                                                int row_base, const int (&row_local)[2], int col_base,
                                                bool writes_lse, const TensorO& o_acc, const float (&inv_sum)[2],
                                                const float (&lse)[2], char* staging, int thread,
                                                uint32_t staging_barrier) {
  static_assert(kRowCols == kCols || kRowCols == 2 * kCols, "a warpgroup's own rows, or both warpgroups' whole rows");
  constexpr bool kWholeRows = kRowCols != kCols;
  const int rows_per_kv = params.rows_per_kv;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = row_base + row_local[r];
    if (row < rows_per_kv && writes_lse) {
      float* dst = piece.is_split ? params.lse_accum + partial_row(params, piece.slot, kv_head, row)
                                  : lse_of_row(params, piece.batch_idx, kv_head, row);
      *dst = lse[r];
    }
  }
  stage_rows_stmatrix<Element, kBlockM, kCols, kRowCols, kStagingBytes>(
      row_local, o_acc, inv_sum, staging + (kWholeRows ? col_base * int(sizeof(Element)) : 0));
  cutlass::arch::fence_view_async_shared();  // generic-proxy writes -> the bulk copies' (async proxy) reads
  cutlass::arch::NamedBarrier::sync(kWholeRows ? 256 : 128, staging_barrier);
  if constexpr (kIssueCopies) {
    const int copy_col = kWholeRows ? 0 : col_base;
    auto row_dst = [&](int row) {
      return copy_col + result_row<Element>(params, piece.is_split, piece.batch_idx, piece.slot, kv_head, row);
    };
    copy_staged_rows<Element, kBlockM, kRowCols, kStagingBytes>(params, row_base, staging, thread, piece.is_split,
                                                                row_dst);
  }
}

// The decode grids are launched as programmatic dependents of whatever precedes them in the stream
// (launch_decode_grid): their CTAs may be scheduled while that grid drains, and wait here, before reading
// any global memory, until it has finished and its writes are visible (a no-op for an ordinary launch).
// In a CUDA graph of back-to-back calls it saved 0.7-4 us a call (benchmarks/NOTES.md, run 146).
__device__ __forceinline__ void wait_for_preceding_grid() { asm volatile("griddepcontrol.wait;" ::: "memory"); }

// Host: kKernel (Traits' threads and shared memory) as one CTA per (m_block, kv_head, sm_part), its KV
// cache described by a TMA map, then `extra` (e.g. a Q map) as further arguments, as a programmatic
// dependent launch (the kernel waits in wait_for_preceding_grid). Each schedule's launch() is this call;
// smem_raised (one per kernel) remembers the devices its shared-memory limit was raised on.
template <typename Traits, auto kKernel, typename... Extra>
void launch_decode_grid(const DecodeParams& params, cudaStream_t stream, const Extra&... extra) {
  static std::atomic<uint64_t> smem_raised{0};
  const CUtensorMap kv_map = make_kv_tensor_map<typename Traits::Element>(params, Traits::kChunkCols);
  raise_dynamic_smem_once(kKernel, Traits::kSmemBytes, smem_raised);
  const int num_m_blocks = (params.rows_per_kv + Traits::kBlockM - 1) / Traits::kBlockM;
  launch_programmatic_dependent(kKernel, dim3(num_m_blocks, params.num_heads_k, params.num_sm_parts),
                                dim3(Traits::kThreads), Traits::kSmemBytes, stream, params, kv_map, extra...);
}

// Host: CTAs of `kernel` (Traits' threads and shared memory) that fit on one SM of the current device.
template <typename Traits, typename Kernel>
int max_ctas_per_sm(Kernel kernel) {
  return flash_mla::max_ctas_per_sm(kernel, Traits::kThreads, Traits::kSmemBytes);
}

}  // namespace flash_mla::sm90::common
