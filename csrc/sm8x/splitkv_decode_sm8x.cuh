// Ampere-class split-KV MLA decode kernel: mma.sync m16n8k16, ldmatrix, cp.async multistage.
//
// One CTA = one (m_block, kv_head, sm_part). It walks the pieces of work the scheduler gave its
// part (csrc/smxx/scheduler_metadata.cu) with common/work_pieces.cuh. For each piece it streams the
// KV tiles of one sequence once, and each tile serves as K (all 576 columns) and V (the first 512),
// for all kBlockM query rows at once:
//   phase A  S = Q K^T: warp (warp_m, warp_n, k_split) multiplies 16 query rows, whose Q columns it
//            holds in registers (or reads from shared memory: kQInSmem), by its kTokensPerWarp
//            tokens over a kKSplit-th of the 576 columns; the partial sums of k_split > 0 go to
//            shared memory.                                                  __syncthreads
//   phase B  the k_split == 0 warps add the partials, mask and run the online softmax (quad shuffles;
//            with kWarpsN > 1 the row maxima of the token halves meet in shared memory:
//            __syncthreads), then write P (16-bit) and the rescale factors.  __syncthreads
//   phase C  O = O * scale + P V: each warp owns all rows of a 512/kNWarps column slice of O, so the
//            fp32 accumulator is spread over every thread of the CTA.
// Tokens past the piece's end are zero-filled by cp.async (src-size 0): NaN stored in cache slots
// past a sequence's length never reaches the products, and the block table past a sequence's last
// page is never read.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cute/arch/copy_sm75.hpp>
#include <cute/arch/copy_sm80.hpp>
#include <cute/arch/mma_sm80.hpp>

#include "../common/cuda_check.h"
#include "../common/online_softmax.cuh"
#include "../common/work_pieces.cuh"
#include "kernel_traits_sm8x.h"
#include "splitkv_decode_sm8x.h"

namespace flash_mla::sm8x {

namespace detail {

using flash_mla::fast_exp2;
using flash_mla::pack_two;

using Chunk = cute::uint128_t;  // 16 bytes: one cp.async, one ldmatrix row

__device__ __forceinline__ void ldsm_x4(const void* smem, uint32_t& r0, uint32_t& r1, uint32_t& r2,
                                        uint32_t& r3) {
  cute::SM75_U32x4_LDSM_N::copy(*reinterpret_cast<const Chunk*>(smem), r0, r1, r2, r3);
}
__device__ __forceinline__ void ldsm_x2(const void* smem, uint32_t& r0, uint32_t& r1) {
  cute::SM75_U32x2_LDSM_N::copy(*reinterpret_cast<const Chunk*>(smem), r0, r1);
}
__device__ __forceinline__ void ldsm_x4_trans(const void* smem, uint32_t& r0, uint32_t& r1,
                                              uint32_t& r2, uint32_t& r3) {
  cute::SM75_U16x8_LDSM_T::copy(*reinterpret_cast<const Chunk*>(smem), r0, r1, r2, r3);
}
// 16-byte global->shared copy; pred == false writes 16 zero bytes and reads nothing.
__device__ __forceinline__ void cp_async_zfill(void* smem, const void* gmem, bool pred) {
  cute::SM80_CP_ASYNC_CACHEGLOBAL_ZFILL<Chunk>::copy(*reinterpret_cast<const Chunk*>(gmem),
                                                     *reinterpret_cast<Chunk*>(smem), pred);
}

template <typename Element>
__device__ __forceinline__ void mma_16x8x16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                            uint32_t b1) {
  MmaAtom<Element>::Op::fma(d[0], d[1], d[2], d[3], a[0], a[1], a[2], a[3], b0, b1, d[0], d[1], d[2],
                            d[3]);
}

}  // namespace detail

template <typename Traits>
__global__ void __launch_bounds__(Traits::kThreads, 1)
splitkv_decode_kernel(const __grid_constant__ DecodeParams params) {
  using Element = typename Traits::Element;
  constexpr int kBlockM = Traits::kBlockM;
  constexpr int kBlockN = Traits::kBlockN;
  static_assert(kMaxSeqlenQ <= kBlockN, "is_tail_tile: a causal mask must stay within a piece's last tiles");
  constexpr int kStages = Traits::kStages;
  constexpr int kThreads = Traits::kThreads;
  constexpr int kRowStride = Traits::kRowStride;
  constexpr int kPRowStride = Traits::kPRowStride;
  constexpr int kKSplit = Traits::kKSplit;
  constexpr int kKStepsPerWarp = Traits::kKStepsPerWarp;
  constexpr int kNTilesS = Traits::kNTilesS;
  constexpr int kMSlabs = Traits::kMSlabs;
  constexpr int kWarpCols = Traits::kWarpCols;
  constexpr int kNTilesO = Traits::kNTilesO;

  const int m_block = blockIdx.x;
  const int kv_head = blockIdx.y;
  const SchedulerMetadataRow meta =
      reinterpret_cast<const SchedulerMetadataRow*>(params.scheduler_metadata)[blockIdx.z];
  if (meta.begin_batch > meta.end_batch) return;

  constexpr int kWarpsN = Traits::kWarpsN;
  constexpr int kTokensPerWarp = Traits::kTokensPerWarp;

  extern __shared__ __align__(128) char smem[];
  Element* sQ = reinterpret_cast<Element*>(smem + Traits::kSmemQOffset);  // (kBlockM, kRowStride) if kQInSmem
  Element* sKV = reinterpret_cast<Element*>(smem + Traits::kSmemKVOffset);  // (kStages, kBlockN, kRowStride)
  float4* sPartial = reinterpret_cast<float4*>(smem + Traits::kSmemPartialOffset);  // (kWarpsM, kKSplit-1, kNTilesS, 32)
  Element* sP = reinterpret_cast<Element*>(smem + Traits::kSmemPOffset);    // (kBlockM, kPRowStride)
  float* sScale = reinterpret_cast<float*>(smem + Traits::kSmemRowOffset);  // (kBlockM)
  float* sInvSum = sScale + kBlockM;                                         // (kBlockM)
  float* sLse = sInvSum + kBlockM;                                           // (kBlockM)
  float* sRowPart = reinterpret_cast<float*>(smem + Traits::kSmemRowPartOffset);  // (kWarpsN, kBlockM)

  const int tid = threadIdx.x;
  __builtin_assume(tid >= 0 && tid < kThreads);  // lets divisions by powers of two be plain shifts
  const int warp = tid / 32;
  const int lane = tid % 32;
  const int warp_m = warp % Traits::kWarpsM;                // 16-row slab of the S product
  const int warp_n = (warp / Traits::kWarpsM) % kWarpsN;     // which kTokensPerWarp tokens of a tile
  const int k_split = warp / (Traits::kWarpsM * kWarpsN);    // which kKSplit-th of the 576 columns
  const bool owns_rows = k_split == 0;         // holds full S rows after the reduction
  const int quad_row = lane / 4;  // row within an m16n8 accumulator fragment (and +8)
  const int quad_col = 2 * (lane % 4);

  // The two S rows of this thread (block-local).
  const int s_row[2] = {warp_m * 16 + quad_row, warp_m * 16 + quad_row + 8};
  const int rows_per_kv = params.rows_per_kv;
  const int row_base = m_block * kBlockM;
  const int page_shift = page_shift_of(params);  // (common/work_pieces.cuh)
  const int page_mask = params.page_block_size - 1;

  const Element* q_base = reinterpret_cast<const Element*>(params.q);
  const Element* k_base = reinterpret_cast<const Element*>(params.k_cache) + kv_head * params.k_head_stride;
  const int s_tile = warp_m * kWarpsN + warp_n;  // this warp's (rows, tokens) tile of S
  float4* sPartial_warp = sPartial + (s_tile * (kKSplit - 1) + (k_split - 1)) * kNTilesS * 32 + lane;

  uint32_t q_frag[Traits::kQInSmem ? 1 : kKStepsPerWarp][4];  // A-fragments of this warp's Q slice

  PieceSource<Traits::kWalkInSmem> pieces(params, blockIdx.z,
                                          reinterpret_cast<SharedPieceWalk*>(smem + Traits::kSmemWalkOffset), tid);
  WorkPiece piece;
  while (pieces.next(piece)) {
    const int batch_idx = piece.batch_idx;
    const int seqlen = piece.seqlen;
    const int token_begin = piece.token_begin;
    const int token_end = piece.token_end;
    const int num_tiles = piece.num_tiles(kBlockN);
    const int* block_table = params.block_table + batch_idx * params.block_table_batch_stride;

    // Query row `row` of this KV head (clamped to the last one) -> its first element in q:
    // row -> (s, h) = (row / heads_per_kv, kv_head * heads_per_kv + row % heads_per_kv).
    auto q_row_start = [&](int row) {
      row = min(row, rows_per_kv - 1);
      return q_base + batch_idx * params.q_batch_stride + (row / params.heads_per_kv) * params.q_seq_stride +
             (kv_head * params.heads_per_kv + row % params.heads_per_kv) * params.q_head_stride;
    };

    // Q rows -> registers (unless kQInSmem: then they go to shared memory with the first KV stage).
    // Visible tokens of each S row: [0, limit). Causal rows see up to seqlen - s_q + s.
    int limit[2];
    {
      const Element* q_row[2];
      bool q_valid[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int row = row_base + s_row[r];
        q_valid[r] = row < rows_per_kv;
        const int s_idx = min(row, rows_per_kv - 1) / params.heads_per_kv;
        q_row[r] = q_row_start(row) + k_split * kKStepsPerWarp * 16 + quad_col;
        limit[r] = params.is_causal ? max(0, seqlen - params.seqlen_q + s_idx + 1) : seqlen;
      }
#pragma unroll
      for (int kk = 0; kk < (Traits::kQInSmem || !piece.first_of_sequence ? 0 : kKStepsPerWarp); ++kk) {
#pragma unroll
        for (int half = 0; half < 2; ++half) {  // columns +0..7 and +8..15 of the k-step
#pragma unroll
          for (int r = 0; r < 2; ++r) {
            q_frag[kk][half * 2 + r] =
                q_valid[r] ? *reinterpret_cast<const uint32_t*>(q_row[r] + kk * 16 + half * 8) : 0u;
          }
        }
      }
    }

    __syncthreads();  // the previous piece is done with every shared buffer

    if constexpr (Traits::kQInSmem) {
      // Q rows of this sequence -> shared memory, once per sequence, in the first stage's cp.async
      // group. Rows past rows_per_kv are zero-filled.
      if (piece.first_of_sequence) {
        constexpr int kRowsPerPass = kThreads / Traits::kLoadThreadsPerRow;
#pragma unroll
        for (int r = tid / Traits::kLoadThreadsPerRow; r < kBlockM; r += kRowsPerPass) {
          const bool valid = row_base + r < rows_per_kv;
          const Element* src = q_row_start(row_base + r);
#pragma unroll
          for (int c = 0; c < Traits::kChunksPerLoadThread; ++c) {
            const int col = (c * Traits::kLoadThreadsPerRow + tid % Traits::kLoadThreadsPerRow) * 8;
            detail::cp_async_zfill(sQ + r * kRowStride + col, src + col, valid);
          }
        }
      }
    }

    // Each loading thread copies rows tid / 8 + i * kLoadRowStride of a tile. The page ids of the tile
    // to load next are read from the block table one tile ahead (fetch_pages), so the global-load
    // latency of the table hides behind a tile's MMAs instead of stalling the copy issue. -1: the
    // token is past the piece (zero-filled, and the table entry is never read).
    constexpr int kLoadRowStride = kThreads / Traits::kLoadThreadsPerRow;
    constexpr int kLoadRowsPerThread = (kBlockN + kLoadRowStride - 1) / kLoadRowStride;
    auto page_of = [&](int tile, int row) {  // the page holding token `row` of `tile`, -1 past the piece
      const int token = token_begin + tile * kBlockN + row;
      return row < kBlockN && tile < num_tiles && token < token_end ? block_table[token >> page_shift] : -1;
    };
    auto token_src = [&](int page_id, int token, int col) {
      return k_base + int64_t(page_id) * params.k_block_stride + (token & page_mask) * params.k_token_stride + col;
    };
    int pages[kLoadRowsPerThread];
    auto fetch_pages = [&](int tile) {
#pragma unroll
      for (int i = 0; i < kLoadRowsPerThread; ++i) {
        const int r = tid / Traits::kLoadThreadsPerRow + i * kLoadRowStride;
        pages[i] = page_of(tile, r);
      }
    };
    auto load_kv_tile = [&](int tile, int stage) {
      Element* dst = sKV + stage * Traits::kSmemKVStageElems;
      const int tile_token = token_begin + tile * kBlockN;
#pragma unroll
      for (int i = 0; i < kLoadRowsPerThread; ++i) {
        const int r = tid / Traits::kLoadThreadsPerRow + i * kLoadRowStride;
        if (r >= kBlockN) break;
        const int token = tile_token + r;
        const bool valid = pages[i] >= 0;
        const Element* src = valid ? token_src(pages[i], token, 0) : k_base;
#pragma unroll
        for (int c = 0; c < Traits::kChunksPerLoadThread; ++c) {
          const int col = (c * Traits::kLoadThreadsPerRow + tid % Traits::kLoadThreadsPerRow) * 8;
          detail::cp_async_zfill(dst + r * kRowStride + col, src + col, valid);
        }
      }
    };

    // kEarlyVCopy (the 227 KB tile): each warp copies the V column slice it reads in phase C (columns
    // [w, w + 1) * kWarpCols, K's first 512 too) of tile t + kStages into tile t's stage as soon as its
    // own P V of tile t is done, so the CTA's copies leave spread over the warps' finishing times,
    // beside other warps' MMAs, instead of as one burst of every thread after the next barrier (the
    // burst: lg_throttle at 7% of samples, runs 80 and 103). The RoPE columns (P of tile t) follow after
    // that barrier, by all threads. cp.async groups in issue order: RoPE(t + kStages - 1) at the top of
    // tile t, V(t + kStages) at its end; the prologue V(0), RoPE(0), V(1), ..., V(kStages - 1). 1.5-2.5%
    // faster there; the other tiles keep the burst: a lane's V page id and the RoPE rows' are one
    // register more across the tile than `pages`, which spills the 128- and 255-register tiles, and on
    // the 163 KB m64 tile it was 3% slower (runs 111-112).
    constexpr bool kEarlyV = Traits::kEarlyVCopy;
    constexpr int kVChunksPerRow = kWarpCols * 2 / 16;
    constexpr int kVLanesPerRow = kVChunksPerRow < 8 ? kVChunksPerRow : 8;  // 8 x 16 B: a 128 B segment
    constexpr int kVChunksPerLane = kVChunksPerRow / kVLanesPerRow;
    constexpr int kVRowsPerGroup = kBlockN / (32 / kVLanesPerRow);  // a lane group's consecutive rows
    static_assert(16 % kVRowsPerGroup == 0, "a lane group's rows lie in one page (pages of 16, 32 or 64 tokens)");
    constexpr int kRopeRowsPerPass = kThreads / 8;
    constexpr int kRopePasses = (kBlockN + kRopeRowsPerPass - 1) / kRopeRowsPerPass;
    const int v_first_row = (lane / kVLanesPerRow) * kVRowsPerGroup;
    const int v_col = warp * kWarpCols + (lane % kVLanesPerRow) * 8;
    const int rope_col = kHeadDimV + (tid % 8) * 8;
    auto copy_v_slice = [&](int tile, int stage, int page_id) {
      const int first_token = token_begin + tile * kBlockN + v_first_row;
      Element* dst = sKV + stage * Traits::kSmemKVStageElems + v_first_row * kRowStride + v_col;
      const Element* src = page_id >= 0 ? token_src(page_id, first_token, v_col) : k_base;
#pragma unroll
      for (int r = 0; r < kVRowsPerGroup; ++r) {
        const bool valid = page_id >= 0 && first_token + r < token_end;
#pragma unroll
        for (int c = 0; c < kVChunksPerLane; ++c) {
          detail::cp_async_zfill(dst + r * kRowStride + c * 64, src + r * params.k_token_stride + c * 64, valid);
        }
      }
    };
    auto copy_rope = [&](int tile, int stage, const int (&page_ids)[kRopePasses]) {
#pragma unroll
      for (int p = 0; p < kRopePasses; ++p) {
        const int r = tid / 8 + p * kRopeRowsPerPass;
        if (r >= kBlockN) break;
        const bool valid = page_ids[p] >= 0;
        detail::cp_async_zfill(sKV + stage * Traits::kSmemKVStageElems + r * kRowStride + rope_col,
                               valid ? token_src(page_ids[p], token_begin + tile * kBlockN + r, rope_col) : k_base, valid);
      }
    };
    auto rope_pages_of = [&](int tile, int (&page_ids)[kRopePasses]) {
#pragma unroll
      for (int p = 0; p < kRopePasses; ++p) page_ids[p] = page_of(tile, tid / 8 + p * kRopeRowsPerPass);
    };
    int rope_pages[kRopePasses];
    int v_page = -1;

    if constexpr (kEarlyV) {
#pragma unroll
      for (int k = 0; k < kStages; ++k) {
        if (k < num_tiles) copy_v_slice(k, k, page_of(k, v_first_row));
        cute::cp_async_fence();  // V(k) (the first with Q)
        if (k + 1 < kStages) {
          rope_pages_of(k, rope_pages);
          if (k < num_tiles) copy_rope(k, k, rope_pages);
          cute::cp_async_fence();  // RoPE(k)
        }
      }
      rope_pages_of(kStages - 1, rope_pages);  // copied at the top of tile 0
    } else {
#pragma unroll
      for (int stage = 0; stage < kStages - 1; ++stage) {
        if (stage < num_tiles) {
          fetch_pages(stage);
          load_kv_tile(stage, stage);
        }
        cute::cp_async_fence();
      }
      if (kStages - 1 < num_tiles) fetch_pages(kStages - 1);  // for the first load inside the loop
    }

    float o_acc[kMSlabs][kNTilesO][4];
#pragma unroll
    for (int ms = 0; ms < kMSlabs; ++ms)
#pragma unroll
      for (int nt = 0; nt < kNTilesO; ++nt)
#pragma unroll
        for (int i = 0; i < 4; ++i) o_acc[ms][nt][i] = 0.f;
    float row_max[2] = {-INFINITY, -INFINITY};  // raw (unscaled) S units; valid in owns_rows warps
    float row_sum[2] = {0.f, 0.f};

    for (int tile = 0; tile < num_tiles; ++tile) {
      // (kEarlyV: left in flight, the 2 kStages - 3 groups issued after tile's RoPE)
      cute::cp_async_wait<kEarlyV ? 2 * kStages - 3 : kStages - 2>();
      __syncthreads();  // tile `tile` visible to all; stage of tile-1 free for reuse
      if constexpr (kEarlyV) {
        if (tile + kStages - 1 < num_tiles) copy_rope(tile + kStages - 1, (tile + kStages - 1) % kStages, rope_pages);
        if (tile + kStages < num_tiles) {  // page ids a tile (RoPE) or most of one (V) ahead of their copies
          rope_pages_of(tile + kStages, rope_pages);
          v_page = page_of(tile + kStages, v_first_row);
        }
      } else {
        if (tile + kStages - 1 < num_tiles) load_kv_tile(tile + kStages - 1, (tile + kStages - 1) % kStages);
        if (tile + kStages < num_tiles) fetch_pages(tile + kStages);  // used one iteration later
      }
      cute::cp_async_fence();

      const Element* sK = sKV + (tile % kStages) * Traits::kSmemKVStageElems;
      Element* sP_tile = Traits::kPInStage ? sKV + (tile % kStages) * Traits::kSmemKVStageElems + kHeadDimV : sP;
      const int tile_token = token_begin + tile * kBlockN;

      // ---- phase A: partial S = Q K^T over this warp's columns, all kBlockN tokens ----
      float s_acc[kNTilesS][4];
#pragma unroll
      for (int nt = 0; nt < kNTilesS; ++nt)
#pragma unroll
        for (int i = 0; i < 4; ++i) s_acc[nt][i] = 0.f;
      const Element* sK_warp = sK + (warp_n * kTokensPerWarp + (lane / 16) * 8 + lane % 8) * kRowStride +
                               ((lane / 8) % 2) * 8 + k_split * kKStepsPerWarp * 16;
      const Element* sQ_warp = sQ + (warp_m * 16 + lane % 16) * kRowStride + (lane / 16) * 8 +
                               k_split * kKStepsPerWarp * 16;
      // The K fragments of step kk+1 are loaded before the MMAs of step kk issue (ldmatrix and mma
      // are volatile asm: source order is issue order), hiding the shared-memory latency.
      uint32_t b_frag[2][kNTilesS][2];
      auto load_k_fragments = [&](int kk, int buf) {
#pragma unroll
        for (int nt = 0; nt < kNTilesS; nt += 2) {
          detail::ldsm_x4(sK_warp + nt * 8 * kRowStride + kk * 16, b_frag[buf][nt][0], b_frag[buf][nt][1],
                          b_frag[buf][nt + 1][0], b_frag[buf][nt + 1][1]);
        }
      };
      load_k_fragments(0, 0);
#pragma unroll
      for (int kk = 0; kk < kKStepsPerWarp; ++kk) {
        if (kk + 1 < kKStepsPerWarp) load_k_fragments(kk + 1, (kk + 1) % 2);
        uint32_t a_smem[4];  // Q from shared memory: one k-step at a time (registers are the limit)
        if constexpr (Traits::kQInSmem) {
          detail::ldsm_x4(sQ_warp + kk * 16, a_smem[0], a_smem[1], a_smem[2], a_smem[3]);
        }
        const uint32_t(&a)[4] = Traits::kQInSmem ? a_smem : q_frag[Traits::kQInSmem ? 0 : kk];
#pragma unroll
        for (int nt = 0; nt < kNTilesS; ++nt) {
          detail::mma_16x8x16<Element>(s_acc[nt], a, b_frag[kk % 2][nt][0], b_frag[kk % 2][nt][1]);
        }
      }
      if constexpr (kKSplit > 1) {
        if (!owns_rows) {
#pragma unroll
          for (int nt = 0; nt < kNTilesS; ++nt) {
            sPartial_warp[nt * 32] = make_float4(s_acc[nt][0], s_acc[nt][1], s_acc[nt][2], s_acc[nt][3]);
          }
        }
        __syncthreads();
      }

      // ---- phase B (row-owning warps): sum the partials, mask, online softmax, P to shared ----
      float tile_max[2] = {-INFINITY, -INFINITY};
      if (owns_rows) {
#pragma unroll
        for (int split = 1; split < kKSplit; ++split) {
          const float4* partial = sPartial + (s_tile * (kKSplit - 1) + (split - 1)) * kNTilesS * 32 + lane;
#pragma unroll
          for (int nt = 0; nt < kNTilesS; ++nt) {
            const float4 v = partial[nt * 32];
            s_acc[nt][0] += v.x;
            s_acc[nt][1] += v.y;
            s_acc[nt][2] += v.z;
            s_acc[nt][3] += v.w;
          }
        }
        // Tokens a row cannot see (past the piece, past the sequence, causal) get -inf; only a piece's
        // tail tiles can hold any (is_tail_tile).
        if (is_tail_tile(tile, num_tiles)) {
#pragma unroll
          for (int nt = 0; nt < kNTilesS; ++nt) {
#pragma unroll
            for (int i = 0; i < 4; ++i) {
              const int token = tile_token + warp_n * kTokensPerWarp + nt * 8 + quad_col + (i & 1);
              if (token >= limit[i / 2] || token >= token_end) s_acc[nt][i] = -INFINITY;
            }
          }
        }
#pragma unroll
        for (int nt = 0; nt < kNTilesS; ++nt) {
#pragma unroll
          for (int i = 0; i < 4; ++i) tile_max[i / 2] = fmaxf(tile_max[i / 2], s_acc[nt][i]);
        }
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffff, tile_max[r], 1));
          tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffff, tile_max[r], 2));
          if (kWarpsN > 1 && lane % 4 == 0) sRowPart[warp_n * kBlockM + s_row[r]] = tile_max[r];
        }
      }
      if constexpr (kWarpsN > 1) __syncthreads();  // every token slice's row maxima are out
      bool any_rescale = false;  // some row of this warp moved its reference maximum
      if (owns_rows) {
        float scale[2];
        float max_scaled[2];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          if constexpr (kWarpsN > 1) {
#pragma unroll
            for (int n = 0; n < kWarpsN; ++n) tile_max[r] = fmaxf(tile_max[r], sRowPart[n * kBlockM + s_row[r]]);
          }
          // (Lazy: after the first tiles every scale is exactly 1 and phase C skips O's rescale.)
          const RowMaxUpdate update = update_row_max(row_max[r], tile_max[r], params.softmax_scale_log2);
          max_scaled[r] = update.max_scaled;
          scale[r] = update.scale;
          any_rescale |= update.raised;
          row_max[r] = update.max;
        }
        float tile_sum[2] = {0.f, 0.f};
#pragma unroll
        for (int nt = 0; nt < kNTilesS; ++nt) {
          float p[4];
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            p[i] = detail::fast_exp2(s_acc[nt][i] * params.softmax_scale_log2 - max_scaled[i / 2]);
            tile_sum[i / 2] += p[i];
          }
          const int col = warp_n * kTokensPerWarp + nt * 8 + quad_col;
          *reinterpret_cast<uint32_t*>(sP_tile + s_row[0] * kPRowStride + col) = detail::pack_two<Element>(p[0], p[1]);
          *reinterpret_cast<uint32_t*>(sP_tile + s_row[1] * kPRowStride + col) = detail::pack_two<Element>(p[2], p[3]);
        }
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          tile_sum[r] += __shfl_xor_sync(0xffffffff, tile_sum[r], 1);
          tile_sum[r] += __shfl_xor_sync(0xffffffff, tile_sum[r], 2);
          row_sum[r] = row_sum[r] * scale[r] + tile_sum[r];
        }
        if (warp_n == 0 && lane % 4 == 0) {
          sScale[s_row[0]] = scale[0];
          sScale[s_row[1]] = scale[1];
        }
      }
      // (A barrier that also tells every warp whether any row's scale differs from 1.)
      const bool rescale_o = __syncthreads_or(any_rescale);

      // ---- phase C (all warps): O = O * scale + P V over this warp's column slice ----
#pragma unroll
      for (int ms = 0; ms < kMSlabs && rescale_o; ++ms) {
        const float scale_lo = sScale[ms * 16 + quad_row];
        const float scale_hi = sScale[ms * 16 + quad_row + 8];
#pragma unroll
        for (int nt = 0; nt < kNTilesO; ++nt) {
          o_acc[ms][nt][0] *= scale_lo;
          o_acc[ms][nt][1] *= scale_lo;
          o_acc[ms][nt][2] *= scale_hi;
          o_acc[ms][nt][3] *= scale_hi;
        }
      }
      const Element* sP_thread = sP_tile + (lane % 16) * kPRowStride + (lane / 16) * 8;
      const Element* sV_thread = sK + (lane % 8 + ((lane / 8) % 2) * 8) * kRowStride + warp * kWarpCols +
                                 (lane / 16) * 8;
#pragma unroll
      for (int kt = 0; kt < Traits::kKStepsPV; ++kt) {
        // All of this warp's V fragments for 16 tokens, then one P fragment per 16-row slab.
        uint32_t v_frag[kNTilesO / 2][4];
        const Element* sV_step = sV_thread + kt * 16 * kRowStride;
#pragma unroll
        for (int np = 0; np < kNTilesO / 2; ++np) {
          detail::ldsm_x4_trans(sV_step + np * 16, v_frag[np][0], v_frag[np][1], v_frag[np][2], v_frag[np][3]);
        }
#pragma unroll
        for (int ms = 0; ms < kMSlabs; ++ms) {
          uint32_t p_frag[4];
          detail::ldsm_x4(sP_thread + ms * 16 * kPRowStride + kt * 16, p_frag[0], p_frag[1], p_frag[2], p_frag[3]);
#pragma unroll
          for (int np = 0; np < kNTilesO / 2; ++np) {
            detail::mma_16x8x16<Element>(o_acc[ms][2 * np], p_frag, v_frag[np][0], v_frag[np][1]);
            detail::mma_16x8x16<Element>(o_acc[ms][2 * np + 1], p_frag, v_frag[np][2], v_frag[np][3]);
          }
        }
      }
      if constexpr (kEarlyV) {
        // This warp's V slice of the stage is read (the MMAs above consumed every ldmatrix of it): copy
        // tile + kStages's slice into it.
        __syncwarp();
        if (tile + kStages < num_tiles) copy_v_slice(tile + kStages, tile % kStages, v_page);
        cute::cp_async_fence();
      }
    }
    cute::cp_async_wait<0>();  // no copy into a buffer the next piece reuses is left in flight

    // ---- epilogue: normalise, write out/lse (one split) or the fp32 partials (several) ----
    if constexpr (kWarpsN > 1) {  // each token slice summed its own exponentials: add them up
      if (owns_rows && lane % 4 == 0) {
        sRowPart[warp_n * kBlockM + s_row[0]] = row_sum[0];
        sRowPart[warp_n * kBlockM + s_row[1]] = row_sum[1];
      }
      __syncthreads();
      if (owns_rows) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          row_sum[r] = 0.f;
#pragma unroll
          for (int n = 0; n < kWarpsN; ++n) row_sum[r] += sRowPart[n * kBlockM + s_row[r]];
        }
      }
    }
    const WorkPiece& done = pieces.finished(piece);  // (PieceSource<true>: from shared memory again)
    if (owns_rows && warp_n == 0 && lane % 4 == 0) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const bool seen = row_sum[r] > 0.f;
        sInvSum[s_row[r]] = seen ? 1.f / row_sum[r] : 0.f;
        // An empty row: lse +inf in the final output (FlashMLA's convention), -inf in a partial
        // so that the combine gives it zero weight.
        sLse[s_row[r]] = seen ? row_max[r] * params.softmax_scale + logf(row_sum[r])
                              : (done.is_split ? -INFINITY : INFINITY);
      }
    }
    __syncthreads();

    const bool is_split = done.is_split;
    const int slot = done.slot;
    const int out_batch = done.batch_idx;
    // The out / lse / partial-row indices are common/output_rows.cuh's, written out here: through
    // those helpers the 128-register sm80 m32n32 tile's sm_90 cubin spilled 16 bytes (2026-11-26).
#pragma unroll
    for (int ms = 0; ms < kMSlabs; ++ms) {
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int local_row = ms * 16 + quad_row + half * 8;
        const int row = row_base + local_row;
        if (row >= rows_per_kv) continue;
        const float inv_sum = sInvSum[local_row];
        if (!is_split) {
          const int s_idx = row / params.heads_per_kv;
          const int h_idx = kv_head * params.heads_per_kv + row % params.heads_per_kv;
          Element* out = reinterpret_cast<Element*>(params.out) + out_batch * params.out_batch_stride +
                         s_idx * params.out_seq_stride + h_idx * params.out_head_stride + warp * kWarpCols +
                         quad_col;
#pragma unroll
          for (int nt = 0; nt < kNTilesO; ++nt) {
            *reinterpret_cast<uint32_t*>(out + nt * 8) = detail::pack_two<Element>(
                o_acc[ms][nt][half * 2] * inv_sum, o_acc[ms][nt][half * 2 + 1] * inv_sum);
          }
        } else {
          float* out = static_cast<float*>(params.out_accum) +
                       ((int64_t(slot) * params.num_heads_k + kv_head) * rows_per_kv + row) * kHeadDimV +
                       warp * kWarpCols + quad_col;
#pragma unroll
          for (int nt = 0; nt < kNTilesO; ++nt) {
            *reinterpret_cast<float2*>(out + nt * 8) =
                make_float2(o_acc[ms][nt][half * 2] * inv_sum, o_acc[ms][nt][half * 2 + 1] * inv_sum);
          }
        }
      }
    }
    if (tid < kBlockM && row_base + tid < rows_per_kv) {
      const int row = row_base + tid;
      if (!is_split) {
        const int s_idx = row / params.heads_per_kv;
        const int h_idx = kv_head * params.heads_per_kv + row % params.heads_per_kv;
        params.lse[(int64_t(out_batch) * params.num_heads_q + h_idx) * params.seqlen_q + s_idx] = sLse[tid];
      } else {
        params.lse_accum[(int64_t(slot) * params.num_heads_k + kv_head) * rows_per_kv + row] = sLse[tid];
      }
    }
  }
}

template <typename Element, Target kTarget, int kBlockM, int kBlockN>
void SplitKVDecode<Element, kTarget, kBlockM, kBlockN>::launch(const DecodeParams& params, cudaStream_t stream) {
  using Traits = KernelTraits<Element, kTarget, kBlockM, kBlockN>;
  auto kernel = splitkv_decode_kernel<Traits>;
  static std::atomic<uint64_t> smem_raised{0};
  raise_dynamic_smem_once(kernel, Traits::kSmemBytes, smem_raised);
  const int num_m_blocks = (params.rows_per_kv + kBlockM - 1) / kBlockM;
  dim3 grid(num_m_blocks, params.num_heads_k, params.num_sm_parts);
  kernel<<<grid, Traits::kThreads, Traits::kSmemBytes, stream>>>(params);
}

template <typename Element, Target kTarget, int kBlockM, int kBlockN>
int SplitKVDecode<Element, kTarget, kBlockM, kBlockN>::smem_bytes() {
  return KernelTraits<Element, kTarget, kBlockM, kBlockN>::kSmemBytes;
}

template <typename Element, Target kTarget, int kBlockM, int kBlockN>
int SplitKVDecode<Element, kTarget, kBlockM, kBlockN>::max_ctas_per_sm() {
  using Traits = KernelTraits<Element, kTarget, kBlockM, kBlockN>;
  return flash_mla::max_ctas_per_sm(splitkv_decode_kernel<Traits>, Traits::kThreads, Traits::kSmemBytes);
}

}  // namespace flash_mla::sm8x
