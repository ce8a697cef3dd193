// Hopper (sm90a) split-KV MLA decode kernel, column-split schedule (groups of up to 64 query rows a
// KV head; tile_pairs_kernel.cuh serves larger ones): wgmma for both matrix products, the KV tiles
// brought in by the tensor memory accelerator (TMA) completing on mbarriers, and warp specialization.
//
// One CTA = one (64-row m_block, kv_head, sm_part), 384 threads:
//   producer warpgroup (setmaxnreg 40): one thread walks the same work pieces as the consumers
//            (common/work_pieces.cuh) and, per 64-token tile, reads the tile's page ids, waits for a
//            free stage (kv_empty) and issues 9 x (64 / page_block_size) TMA boxes into it, which
//            complete on kv_full with their byte count.
//   consumer warpgroups 0 and 1 (setmaxnreg 232), per tile:
//     S = Q K^T      wgmma 64 x 64 x 288 per warpgroup: warpgroup w multiplies all 64 tokens over
//                    columns [288w, 288w + 288) (Q and K from shared memory); the partial sums meet
//                    in shared memory (warpgroup 1's in s_partial, warpgroup 0's over the tile's
//                    RoPE chunk once warpgroup 1, its only reader, is done) and warpgroup w keeps the
//                    full S of tokens [32w, 32w + 32).  two named barriers. (Splitting the tokens
//                    instead, 64 x 32 x 576 each, issues twice the wgmmas and reads Q twice: 2.6%
//                    slower overall, up to 9% on the compute rows; benchmarks/NOTES.md runs 30-33.)
//     softmax        mask (only in tiles reaching past the first masked token), row maxima (the two
//                    halves meet in shared memory: named barrier), P = exp2(S * scale - max) as
//                    16-bit over the tile's RoPE chunk.  named barrier
//     O = O * s + P V wgmma 64 x 256 x 64 per warpgroup: warpgroup w owns output columns
//                    [256w, 256w + 256), 128 fp32 registers a thread; then its warps free the stage.
// Q (64 x 576) is copied into shared memory once per piece by the consumers (cp.async); the epilogue
// stages O (or its 16-bit partial) in Q's buffer and writes it with bulk copies (common::store_rows_bulk).
// Rows of the last tile past the piece's end are zeroed in shared memory before use: the TMA copies
// whole pages, and NaN stored past a sequence's length must not meet a zero weight in P V.
// Page ids past a sequence's last page are never read.
#pragma once

#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cute/arch/copy_sm80.hpp>
#include <cute/arch/copy_sm90_desc.hpp>
#include <cute/arch/copy_sm90_tma.hpp>
#include <cutlass/arch/barrier.h>
#include <cutlass/arch/reg_reconfig.h>

#include <type_traits>

#include "../common/cuda_check.h"
#include "../common/online_softmax.cuh"
#include "../common/work_pieces.cuh"
#include "column_split_traits.h"
#include "kernel_common_sm90.cuh"
#include "kv_tensor_map.h"
#include "splitkv_decode_sm90.h"

namespace flash_mla::sm90::column_split {

namespace detail {

using common::Chunk;
using flash_mla::fast_exp2;
using flash_mla::pack_two;

// Named barriers (ids above CUTLASS's reserved ones): 0 among the 256 consumer threads, and
// kWarpgroupBarrier + w among consumer warpgroup w's 128 (the epilogue's staged stores).
template <int kThreads>
__device__ __forceinline__ void consumers_sync() {
  cutlass::arch::NamedBarrier::sync(kThreads, 0);
}
constexpr uint32_t kWarpgroupBarrier = 1;

// acc += A B over every k-block of the operands, as one wgmma batch of this warpgroup.
template <typename TiledMma, typename TensorA, typename TensorB, typename TensorC>
__device__ __forceinline__ void warpgroup_gemm(TiledMma& mma, const TensorA& a, const TensorB& b, TensorC& acc) {
  cute::warpgroup_fence_operand(acc);
  cute::warpgroup_arrive();
  CUTE_UNROLL
  for (int k = 0; k < cute::size<2>(a); ++k) {
    cute::gemm(mma, a(cute::_, cute::_, k), b(cute::_, cute::_, k), acc);
    mma.accumulate_ = cute::GMMA::ScaleOut::One;
  }
  cute::warpgroup_commit_batch();
  cute::warpgroup_wait<0>();
  cute::warpgroup_fence_operand(acc);
}

// The wgmma descriptor of k-block k of a shared-memory operand, or of k-block k + kCount when
// `second` is 1: the two differ by a compile-time address delta, added to the low word (the address
// field), so a runtime choice costs one integer multiply-add and no descriptor tables. The empty asm
// keeps ptxas from computing every k-block's descriptor up front and holding (or spilling) them.
template <int kCount, typename Tensor>
__device__ __forceinline__ auto descriptor_of_half(const Tensor& t, int k, uint32_t second) {
  cute::GMMA::DescriptorIterator it = t(cute::_, cute::_, k).data();
  const cute::GMMA::DescriptorIterator other = t(cute::_, cute::_, k + kCount).data();
  it.desc_.reg32_[0] += second * (other.desc_.reg32_[0] - it.desc_.reg32_[0]);
  asm volatile("" : "+r"(it.desc_.reg32_[0]));
  return cute::make_tensor(it, t(cute::_, cute::_, k).layout());
}

// acc = A B over the kCount k-blocks of one half of the operands' k-blocks (the first half when
// `second` is 0, else the second), as one wgmma batch.
template <int kCount, typename TiledMma, typename TensorA, typename TensorB, typename TensorC>
__device__ __forceinline__ void warpgroup_gemm_k_half(TiledMma& mma, const TensorA& a, const TensorB& b, TensorC& acc,
                                                      uint32_t second) {
  static_assert(decltype(cute::size<2>(a))::value == 2 * kCount, "two halves of k-blocks");
  cute::warpgroup_fence_operand(acc);
  cute::warpgroup_arrive();
  mma.accumulate_ = cute::GMMA::ScaleOut::Zero;
  CUTE_UNROLL
  for (int k = 0; k < kCount; ++k) {
    cute::gemm(mma, descriptor_of_half<kCount>(a, k, second), descriptor_of_half<kCount>(b, k, second), acc);
    mma.accumulate_ = cute::GMMA::ScaleOut::One;
  }
  cute::warpgroup_commit_batch();
  cute::warpgroup_wait<0>();
  cute::warpgroup_fence_operand(acc);
}

}  // namespace detail

template <typename Traits>
__global__ void __launch_bounds__(Traits::kThreads, 1)
splitkv_decode_kernel(const __grid_constant__ DecodeParams params, const __grid_constant__ CUtensorMap kv_map) {
  using namespace cute;
  using Element = typename Traits::Element;
  using MmaElement = typename Traits::MmaElement;
  using Storage = typename Traits::SharedStorage;
  using FullBarrier = cutlass::arch::ClusterTransactionBarrier;
  using EmptyBarrier = cutlass::arch::ClusterBarrier;
  constexpr int kBlockM = Traits::kBlockM;
  constexpr int kBlockN = Traits::kBlockN;
  constexpr int kStages = Traits::kStages;
  constexpr int kChunks = Traits::kChunks;
  constexpr int kChunkCols = Traits::kChunkCols;
  constexpr int kConsumerThreads = Traits::kConsumerThreads;
  constexpr int kConsumerWarps = kConsumerThreads / 32;
  constexpr int kRopeChunk = (kChunks - 1) * kBlockN * kChunkCols;  // a stage's RoPE chunk (elements)
  static_assert(kMaxSeqlenQ <= kBlockN, "is_tail_tile: a causal mask must stay within a piece's last tiles");
  // Each consumer warpgroup stages its 16-bit O for the epilogue's bulk copies in half of Q's buffer.
  constexpr int kStagingBytes = int(sizeof(Storage::q)) / Traits::kConsumerWarpgroups / 16 * 16;

  // The split combine may be scheduled as soon as every CTA of this grid has started (it waits for the
  // grid's end itself: smxx/combine_splits.cu), so its launch latency hides under this kernel's tail.
  asm volatile("griddepcontrol.launch_dependents;");
  common::wait_for_preceding_grid();
  const SchedulerMetadataRow meta =
      reinterpret_cast<const SchedulerMetadataRow*>(params.scheduler_metadata)[blockIdx.z];
  if (meta.begin_batch > meta.end_batch) return;  // an empty part: the whole CTA leaves

  extern __shared__ char smem_raw[];
  Storage& smem = *reinterpret_cast<Storage*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));

  const int m_block = blockIdx.x;
  const int kv_head = blockIdx.y;
  const int tid = threadIdx.x;
  // Broadcast from lane 0 so the compiler knows it is warp-uniform: the wgmma descriptors derived from it
  // can then live in uniform registers.
  const int warpgroup = __shfl_sync(0xffffffff, tid / 128, 0);

  if (tid == 0) {
#pragma unroll
    for (int s = 0; s < kStages; ++s) {
      FullBarrier::init(&smem.kv_full[s], 1);
      EmptyBarrier::init(&smem.kv_empty[s], kConsumerWarps);
    }
    cutlass::arch::fence_barrier_init();
  }
  __syncthreads();

  if (warpgroup == Traits::kConsumerWarpgroups) {
    // ================================ producer ================================
    cutlass::arch::warpgroup_reg_dealloc<Traits::kProducerRegisters>();
    if (tid % 128 == 0) {
      cute::prefetch_tma_descriptor(reinterpret_cast<const cute::TmaDescriptor*>(&kv_map));
      const int page = params.page_block_size;
      const int page_shift = page_shift_of(params);
      const uint32_t box_bytes = page * kChunkCols * sizeof(Element);
      // Groups of more than one m_block (their CTAs read each tile at about the same time) load with
      // the evict-first hint: 0.3-1.1% faster on the 128-row rows (run 76; 2-4% in the tile-pair
      // kernel, run 72), while it made single-m_block groups 4-5% slower (benchmarks/NOTES.md).
      const uint64_t cache_hint = static_cast<uint64_t>(params.rows_per_kv > kBlockM ? cute::TMA::CacheHintSm90::EVICT_FIRST
                                                                                      : cute::TMA::CacheHintSm90::EVICT_NORMAL);
      int iteration = 0;
      WorkPieceWalker walker(params, blockIdx.z);
      WorkPiece piece;
      while (walker.next(piece)) {
        const int* block_table = params.block_table + piece.batch_idx * params.block_table_batch_stride;
        const int num_tiles = piece.num_tiles(kBlockN);
        for (int tile = 0; tile < num_tiles; ++tile, ++iteration) {
          const int tile_token = piece.token_begin + tile * kBlockN;
          const int tile_end = min(tile_token + kBlockN, piece.token_end);
          const int num_pages = ((tile_end - 1) >> page_shift) - (tile_token >> page_shift) + 1;
          int page_ids[4];  // a tile holds at most 64 / 16 pages; read before waiting for the stage
#pragma unroll
          for (int i = 0; i < 4; ++i) page_ids[i] = i < num_pages ? block_table[(tile_token >> page_shift) + i] : 0;
          const int stage = iteration % kStages;
          EmptyBarrier::wait(&smem.kv_empty[stage], ((iteration / kStages) & 1) ^ 1);
          FullBarrier::arrive_and_expect_tx(&smem.kv_full[stage], num_pages * kChunks * box_bytes);
          MmaElement* stage_base = smem.kv[stage];
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            if (i >= num_pages) break;
#pragma unroll
            for (int c = 0; c < kChunks; ++c) {
              // Chunk c of the tile holds rows [0, 64) x 128 B; page i fills rows [i * page, (i + 1) * page).
              MmaElement* dst = stage_base + c * (kBlockN * kChunkCols) + i * page * kChunkCols;
              cute::SM90_TMA_LOAD_4D::copy(&kv_map, &smem.kv_full[stage], cache_hint, dst, c * kChunkCols, kv_head, 0,
                                           page_ids[i]);
            }
          }
        }
      }
    }
  } else {
    // ================================ consumers ================================
    cutlass::arch::warpgroup_reg_alloc<Traits::kConsumerRegisters>();
    const int wg_tid = tid % 128;
    const int warp_in_wg = wg_tid / 32;
    const int lane = tid % 32;
    // This thread's two rows of every accumulator (S and O): wgmma's 64 x N fragment layout.
    const int row_local[2] = {warp_in_wg * 16 + lane / 4, warp_in_wg * 16 + lane / 4 + 8};
    const int col_in_quad = 2 * (lane % 4);
    const int rows_per_kv = params.rows_per_kv;
    const int row_base = m_block * kBlockM;

    Tensor sQ = make_tensor(make_smem_ptr(smem.q), typename Traits::SmemLayoutQ{});

    typename Traits::TiledMmaS mma_s;
    typename Traits::TiledMmaO mma_o;
    auto thr_mma_s = mma_s.get_thread_slice(wg_tid);
    auto thr_mma_o = mma_o.get_thread_slice(wg_tid);
    Tensor tSrQ = thr_mma_s.partition_fragment_A(sQ);
    // The partial S of all 64 tokens (32 values a thread: values [16 h, 16 h + 16) are tokens
    // [32 h, 32 h + 32)), and the full S of this warpgroup's own 32 tokens.
    Tensor s_partial = partition_fragment_C(mma_s, Shape<Int<kBlockM>, Int<kBlockN>>{});
    constexpr int kOwnValues = 2 * Traits::kTokensPerWarpgroup / 4;
    float s_acc[kOwnValues];
    Tensor o_acc = partition_fragment_C(mma_o, Shape<Int<kBlockM>, Int<Traits::kColsPerWarpgroup>>{});
    static_assert(decltype(size(s_partial))::value == 2 * kOwnValues, "32 partial S values a thread");
    static_assert(decltype(size(o_acc))::value == 2 * Traits::kColsPerWarpgroup / 4, "128 O values a thread");

    int iteration = 0;
    WorkPieceWalker walker(params, blockIdx.z);
    WorkPiece piece;
    while (walker.next(piece)) {
      common::bulk_store_wait_read();  // the previous piece's O has left Q's buffer (store_rows_bulk)
      detail::consumers_sync<kConsumerThreads>();  // the previous piece is done with Q, P and the row arrays
      // Q rows -> shared memory (rows past rows_per_kv zero-filled): 64 x 72 chunks of 16 bytes. Every
      // piece copies its Q: the previous piece's epilogue staged its O in Q's buffer (one piece a sequence
      // in a part, except in the deterministic mode).
      common::copy_q_async<Element, kBlockM, kConsumerThreads>(params, piece, kv_head, row_base, tid, sQ);
      cute::cp_async_fence();
      cute::cp_async_wait<0>();
      cutlass::arch::fence_view_async_shared();  // generic-proxy writes -> wgmma (async proxy) reads
      detail::consumers_sync<kConsumerThreads>();

      // Visible tokens of a row: [0, limit), causal rows seeing up to seqlen - s_q + s. Every row sees
      // [0, mask_from), so only the tiles reaching past it are masked, with the rows' own limits
      // worked out there (held across the tile loop, they would cost two registers there are none of).
      const int mask_from = common::mask_from(params, piece);

      clear(o_acc);
      float row_max[2] = {-INFINITY, -INFINITY};  // raw (unscaled) S units, identical in both warpgroups
      float row_sum[2] = {0.f, 0.f};              // this warpgroup's tokens only
      const int num_tiles = piece.num_tiles(kBlockN);
      // One tile. kTail: one of the piece's tail tiles (is_tail_tile), the only ones that can be partial
      // or reach the causal mask; the other tiles' step has neither code, so the steady-state loop jumps
      // over none (taken branches to far targets cost instruction-fetch stalls: run 87).
      auto tile_step = [&](int tile, auto tail_c) __attribute__((always_inline)) {
        constexpr bool kTail = decltype(tail_c)::value;
        const int stage = iteration % kStages;
        const int tile_token = piece.token_begin + tile * kBlockN;
        const int valid_tokens = min(kBlockN, piece.token_end - tile_token);
        Tensor sK = make_tensor(make_smem_ptr(smem.kv[stage]), typename Traits::SmemLayoutK{});
        Tensor sVt = make_tensor(make_smem_ptr(smem.kv[stage]), typename Traits::SmemLayoutVt{});
        FullBarrier::wait(&smem.kv_full[stage], (iteration / kStages) & 1);

        if (kTail && valid_tokens < kBlockN) {  // the piece's last tile: zero its rows past the end
          constexpr int kRowChunks = kHeadDimQK / 8;
          int first_chunk = tid;
          asm volatile("" : "+r"(first_chunk));  // (as for Q's copy above)
          for (int i = first_chunk; i < (kBlockN - valid_tokens) * kRowChunks; i += kConsumerThreads) {
            *reinterpret_cast<detail::Chunk*>(&sK(valid_tokens + i / kRowChunks, (i % kRowChunks) * 8)) = detail::Chunk{};
          }
          cutlass::arch::fence_view_async_shared();
          detail::consumers_sync<kConsumerThreads>();
        }

        // ---- S = Q K^T: this warpgroup's half of the columns, all 64 tokens ----
        constexpr int kKBlocks = Traits::kKBlocksPerWarpgroup;
        Tensor tSrK = thr_mma_s.partition_fragment_B(sK);
        detail::warpgroup_gemm_k_half<kKBlocks>(mma_s, tSrQ, tSrK, s_partial, warpgroup);
        // ---- the partial sums meet: each warpgroup sends the other's 32 tokens, keeps its own ----
        // Warpgroup 1 writes into s_partial, warpgroup 0 over the tile's RoPE chunk once every warp of
        // warpgroup 1 (its only reader) is done with S: both in fragment order, a float4 per 4 values.
        detail::consumers_sync<kConsumerThreads>();
        {
          float4* rope_chunk = reinterpret_cast<float4*>(smem.kv[stage] + kRopeChunk);
          float4* send = warpgroup == 1 ? reinterpret_cast<float4*>(smem.s_partial) : rope_chunk;
          const float4* receive = warpgroup == 1 ? rope_chunk : reinterpret_cast<const float4*>(smem.s_partial);
          const int slot = warp_in_wg * (kOwnValues / 4) * 32 + lane;  // + 32 x (value group)
#pragma unroll
          for (int g = 0; g < kOwnValues / 4; ++g) {
            // warpgroup 0 sends values 16..31 (tokens 32..63), warpgroup 1 values 0..15
            float v[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) v[i] = warpgroup == 0 ? s_partial(kOwnValues + 4 * g + i) : s_partial(4 * g + i);
            send[slot + 32 * g] = make_float4(v[0], v[1], v[2], v[3]);
          }
          detail::consumers_sync<kConsumerThreads>();
#pragma unroll
          for (int g = 0; g < kOwnValues / 4; ++g) {
            const float4 other = receive[slot + 32 * g];
            const float o[4] = {other.x, other.y, other.z, other.w};
#pragma unroll
            for (int i = 0; i < 4; ++i) {
              const float own = warpgroup == 0 ? s_partial(4 * g + i) : s_partial(kOwnValues + 4 * g + i);
              s_acc[4 * g + i] = own + o[i];
            }
          }
        }

        // ---- mask, row maxima of both halves, P ----
        if (kTail && tile_token + kBlockN > mask_from) {
          int limit[2];
          common::visible_limits(params, piece, rows_per_kv, row_base, row_local, limit);
#pragma unroll
          for (int v = 0; v < kOwnValues; ++v) {
            const int token = tile_token + warpgroup * Traits::kTokensPerWarpgroup + (v / 4) * 8 + col_in_quad + v % 2;
            if (token >= limit[(v / 2) % 2]) s_acc[v] = -INFINITY;
          }
        }
        float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int v = 0; v < kOwnValues; ++v) tile_max[(v / 2) % 2] = fmaxf(tile_max[(v / 2) % 2], s_acc[v]);
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffff, tile_max[r], 1));
          tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffff, tile_max[r], 2));
          if (lane % 4 == 0) smem.row_max[warpgroup][row_local[r]] = tile_max[r];
        }
        detail::consumers_sync<kConsumerThreads>();
        float scale[2];
        float max_scaled[2];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const float other = smem.row_max[warpgroup ^ 1][row_local[r]];
          const float seen_max = fmaxf(tile_max[r], other);
          // Both warpgroups see the same two maxima and take the same (lazy) decision.
          const RowMaxUpdate update = update_row_max(row_max[r], seen_max, params.softmax_scale_log2);
          max_scaled[r] = update.max_scaled;
          scale[r] = update.scale;
          row_max[r] = update.max;
          row_sum[r] *= scale[r];
        }
        // P over the tile's RoPE chunk (warpgroup 0 has read warpgroup 1's partials from it: the
        // barrier above).
        // SmemLayoutP (64 x 64, 128-byte swizzle): row r's 16-byte unit u sits at r * 128 + ((u ^ (r % 8)) * 16);
        // this thread's units are 4 warpgroup + v / 4 and both its rows are lane / 4 modulo 8. The
        // empty asm keeps ptxas from precomputing the 16 store addresses across the tile loop.
        Tensor sP = make_tensor(make_smem_ptr(smem.kv[stage] + kRopeChunk), typename Traits::SmemLayoutP{});
        char* p_rows = reinterpret_cast<char*>(smem.kv[stage] + kRopeChunk) + row_local[0] * 128 +
                       2 * col_in_quad;
        int unit_swizzle = (4 * warpgroup) ^ (lane / 4);
        asm volatile("" : "+r"(unit_swizzle));
#pragma unroll
        for (int v = 0; v < kOwnValues; v += 2) {
          const int r = (v / 2) % 2;
          const float p0 = detail::fast_exp2(s_acc[v] * params.softmax_scale_log2 - max_scaled[r]);
          const float p1 = detail::fast_exp2(s_acc[v + 1] * params.softmax_scale_log2 - max_scaled[r]);
          row_sum[r] += p0 + p1;
          *reinterpret_cast<uint32_t*>(p_rows + r * 8 * 128 + ((unit_swizzle ^ (v / 4)) * 16)) =
              detail::pack_two<Element>(p0, p1);
        }
        cutlass::arch::fence_view_async_shared();
        detail::consumers_sync<kConsumerThreads>();  // P of both halves is in shared memory

        // ---- O = O * scale + P V over this warpgroup's 256 columns ----
        // Once the row maxima settle most tiles leave them unchanged (scale exactly 1): skip the 128
        // multiplies a thread then, warp by warp.
        if (__any_sync(0xffffffff, scale[0] != 1.f || scale[1] != 1.f)) {
#pragma unroll
          for (int v = 0; v < size(o_acc); ++v) o_acc(v) *= scale[(v / 2) % 2];
        }
        Tensor sVt_half = local_tile(sVt, Shape<Int<Traits::kColsPerWarpgroup>, Int<kBlockN>>{}, make_coord(warpgroup, _0{}));
        Tensor tOrV = thr_mma_o.partition_fragment_B(sVt_half);
        Tensor tOrP = thr_mma_o.partition_fragment_A(sP);
        detail::warpgroup_gemm(mma_o, tOrP, tOrV, o_acc);
        if (lane == 0) EmptyBarrier::arrive(&smem.kv_empty[stage]);
      };
      int tile = 0;
      for (; !is_tail_tile(tile, num_tiles); ++tile, ++iteration) tile_step(tile, std::false_type{});
      for (; tile < num_tiles; ++tile, ++iteration) tile_step(tile, std::true_type{});

      // ---- epilogue: normalise, write out/lse (one split) or the partials (several) ----
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        row_sum[r] += __shfl_xor_sync(0xffffffff, row_sum[r], 1);
        row_sum[r] += __shfl_xor_sync(0xffffffff, row_sum[r], 2);
        if (lane % 4 == 0) smem.row_sum[warpgroup][row_local[r]] = row_sum[r];
      }
      detail::consumers_sync<kConsumerThreads>();
      float inv_sum[2];
      float lse[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        common::row_statistics(params, piece.is_split, smem.row_sum[0][row_local[r]] + smem.row_sum[1][row_local[r]],
                               row_max[r], inv_sum[r], lse[r]);
      }
      // O (or its partial) goes out through Q's buffer (both warpgroups' S are done), so every piece copies its Q.
      common::store_rows_bulk<Element, kBlockM, Traits::kColsPerWarpgroup, Traits::kColsPerWarpgroup, kStagingBytes>(
          params, piece, kv_head, row_base, row_local, warpgroup * Traits::kColsPerWarpgroup,
          warpgroup == 0 && lane % 4 == 0, o_acc, inv_sum, lse,
          reinterpret_cast<char*>(smem.q) + warpgroup * kStagingBytes, wg_tid, detail::kWarpgroupBarrier + warpgroup);
    }
    common::bulk_store_wait_read();  // shared memory must outlive the copies' reads
  }
}

}  // namespace flash_mla::sm90::column_split

namespace flash_mla::sm90 {

template <typename Element>
void ColumnSplitDecode<Element>::launch(const DecodeParams& params, cudaStream_t stream) {
  using Traits = column_split::KernelTraits<Element>;
  static_assert(Traits::kThreads == 32 * ColumnSplitDecode<Element>::kWarps);
  common::launch_decode_grid<Traits, column_split::splitkv_decode_kernel<Traits>>(params, stream);
}

template <typename Element>
int ColumnSplitDecode<Element>::smem_bytes() {
  return column_split::KernelTraits<Element>::kSmemBytes;
}

template <typename Element>
int ColumnSplitDecode<Element>::max_ctas_per_sm() {
  using Traits = column_split::KernelTraits<Element>;
  return common::max_ctas_per_sm<Traits>(column_split::splitkv_decode_kernel<Traits>);
}

}  // namespace flash_mla::sm90
