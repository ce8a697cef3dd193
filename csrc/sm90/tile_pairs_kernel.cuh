// Hopper (sm90a) split-KV MLA decode kernel, tile-pair schedule (groups of more than 64 query rows a
// KV head; column_split_kernel.cuh serves smaller ones): wgmma for both matrix products, the KV tiles
// brought in by the tensor memory accelerator (TMA) completing on mbarriers.
//
// One CTA = one (64-row m_block, kv_head, sm_part), 256 threads, no producer warpgroup (so each thread
// may hold up to 255 registers). A piece's 64-token tiles alternate between two shared-memory stages:
// the even tiles in stage 0, the odd ones in stage 1. Warpgroup w owns O's columns [256 w, 256 w + 256)
// and computes S = Q K^T (64 x 64 x 576) and the softmax of the tiles of stage w. A pair (even a, odd b):
//   warpgroup 0                                      warpgroup 1
//   softmax(a): row maxima, scale_even; P(a) at      (S(b) issued at the end of the last pair)
//     a's maxima -> stage 0's RoPE chunk  -> EvenReady  wait EvenReady; O *= scale_even
//   O *= scale_even; O += P(a) V(a)[:, 0:256]        O += P(a) V(a)[:, 256:512]  (P(a) from smem)
//   refill stage 0's left half (tile a + 2)          softmax(b) after a's maxima: scale_odd;
//   wait OddReady; O *= scale_odd                      P(b) -> p_odd  -> OddReady
//   O += P(b) V(b)[:, 0:256]  (P(b) from smem)       refill stage 0's right half (tile a + 2)
//   once P(b) V(b) is done: refill stage 1's left   O *= scale_odd; O += P(b) V(b)[:, 256:512]
//     half (tile b + 2)                              refill stage 1's right half (tile b + 2)
//   S(a + 2): left half, then right, as they land    S(b + 2), under softmax(a + 2)
// So the tensor cores have one warpgroup's wgmmas while the other runs its softmax, and each stage half
// is refilled by the warpgroup that reads it last, the moment it is done (a stage's left half is V's
// columns 0-255, chunks 0-3; the right half chunks 4-8). Every P V is a wgmma with P in registers: a
// warpgroup's own P straight from its softmax, the other's loaded from shared memory with ldmatrix
// (0.8% faster than a wgmma reading it there, run 72).
// The hand-offs between the warpgroups (EvenReady, OddReady) are mbarriers the producing warpgroup's
// 128 threads arrive at (release) and the other warpgroup waits on (acquire), completing once a pair.
// A named barrier with bar.arrive on one side orders the same accesses for PTX, but compute-sanitizer's
// racecheck does not model bar.arrive (benchmarks/sanitizer/ shows it reporting hazards on a correct
// arrive -> sync hand-off), and both sides syncing cost 4-5% on the 256-row rows (run 75).
// Q (64 x 576) comes into shared memory once per sequence: by TMA (nine boxes, one thread, on q_full) where
// one box a chunk covers an m_block's rows (s_q == 1, or heads_per_kv a multiple of 64: 1.008-1.041x faster
// than cp.async, benchmarks/NOTES.md run 139; issued for the next sequence in the epilogue, as soon as both
// warpgroups are past their last S: 0.2-1.3% on the 4096 rows, run 147), else by every thread's cp.async at
// the piece's start. V's rows past a piece's end are zeroed before P V (the TMA copies whole pages, and NaN
// stored past a sequence's length must not meet a zero weight); K's are masked in S. Page ids past a
// sequence's last page are never read.
// The epilogue stages O (both warpgroups' columns, whole rows) in stage 1 and leaves it there: the next piece's
// start copies it out (one bulk copy a row, by warpgroup 1's first 64 threads) while warpgroup 0 loads tile 0
// into stage 0 and starts on it; warpgroup 1 loads tile 1 into stage 1 once the copies have read it. With the
// copies issued at the end of the epilogue, before the walk's barrier, a piece cost ~1 us more at 256 rows
// (benchmarks/NOTES.md, runs 246-250: the copies, not the staging, were most of a piece's cost).
// The KV copies are marked evict-first: 2-4% faster on these rows (4-5% slower on the 16-row ones, which
// the column split serves). History and measurements: benchmarks/NOTES.md, runs 42-52 and 70-74.
#pragma once

#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cute/arch/copy_sm80.hpp>
#include <cute/arch/copy_sm90_desc.hpp>
#include <cute/arch/copy_sm90_tma.hpp>
#include <cutlass/arch/barrier.h>

#include <type_traits>

#include "../common/cuda_check.h"
#include "../common/work_pieces.cuh"
#include "kernel_common_sm90.cuh"
#include "tile_pairs_traits.h"
#include "kv_tensor_map.h"
#include "splitkv_decode_sm90.h"

namespace flash_mla::sm90::tile_pairs {

namespace detail {

using common::Chunk;
using flash_mla::fast_exp2;
using flash_mla::pack_two;

// Named barriers.
enum NamedBarrierId : uint32_t {
  kPieceSync = 0,       // all 256 threads: piece boundaries, the epilogue's row sums
  kWarpgroupSync = 1,   // + warpgroup: one warpgroup's 128 threads (1 and 2)
};

__device__ __forceinline__ void sync_all(uint32_t id) { cutlass::arch::NamedBarrier::sync(256, id); }

// A one-way hand-off between the warpgroups on an mbarrier (in shared memory) that one warpgroup's 128
// threads arrive at, each after its own shared-memory writes (release), and the other's wait on
// (acquire) by phase parity. The "memory" clobbers keep the compiler's own accesses on their side
// (CUTLASS's ClusterBarrier arrive and wait have none; its init, below, needs none).
__device__ __forceinline__ void hand_off_arrive(uint64_t* barrier) {
  asm volatile("mbarrier.arrive.release.cta.shared::cta.b64 _, [%0];" ::"r"(cute::cast_smem_ptr_to_uint(barrier))
               : "memory");
}
__device__ __forceinline__ void hand_off_wait(uint64_t* barrier, int phase) {
  asm volatile(
      "{\n\t.reg .pred done;\n"
      "WAIT_HAND_OFF:\n\t"
      "mbarrier.try_wait.parity.acquire.cta.shared::cta.b64 done, [%0], %1;\n\t"
      "@!done bra WAIT_HAND_OFF;\n}" ::"r"(cute::cast_smem_ptr_to_uint(barrier)),
      "r"(phase)
      : "memory");
}

// k-block k of a shared-memory operand's descriptors, its address word pinned by an empty asm so that
// ptxas computes it next to its wgmma instead of holding all 36 of S's descriptors in registers.
template <typename Tensor>
__device__ __forceinline__ auto pinned_k_block(const Tensor& t, int k) {
  cute::GMMA::DescriptorIterator it = t(cute::_, cute::_, k).data();
  asm volatile("" : "+r"(it.desc_.reg32_[0]));
  return cute::make_tensor(it, t(cute::_, cute::_, k).layout());
}

// Issue acc = A B (kZeroInit) or acc += A B over k-blocks [kBegin, kEnd) (default: all) as one wgmma
// batch; the caller waits.
template <bool kZeroInit, int kBegin = 0, int kEnd = -1, typename TiledMma, typename TensorA, typename TensorB,
          typename TensorC>
__device__ __forceinline__ void issue_gemm(TiledMma& mma, TensorA& a, const TensorB& b, TensorC& acc) {
  constexpr int kLast = kEnd < 0 ? int(decltype(cute::size<2>(b))::value) : kEnd;
  constexpr bool kRegisterA = !std::is_base_of_v<cute::GMMA::DescriptorIterator, typename TiledMma::FrgTypeA>;
  if constexpr (kRegisterA) cute::warpgroup_fence_operand(a);
  cute::warpgroup_fence_operand(acc);
  cute::warpgroup_arrive();
  mma.accumulate_ = kZeroInit ? cute::GMMA::ScaleOut::Zero : cute::GMMA::ScaleOut::One;
  CUTE_UNROLL
  for (int k = kBegin; k < kLast; ++k) {
    if constexpr (kRegisterA) {
      cute::gemm(mma, a(cute::_, cute::_, k), pinned_k_block(b, k), acc);
    } else {
      cute::gemm(mma, pinned_k_block(a, k), pinned_k_block(b, k), acc);
    }
    mma.accumulate_ = cute::GMMA::ScaleOut::One;
  }
  cute::warpgroup_commit_batch();
  cute::warpgroup_fence_operand(acc);
  if constexpr (kRegisterA) cute::warpgroup_fence_operand(a);
}

template <int kPending, typename TensorC>
__device__ __forceinline__ void wait_gemms(TensorC& acc) {
  cute::warpgroup_wait<kPending>();
  cute::warpgroup_fence_operand(acc);
}

// The page ids of the tile [tile_token, tile_end) (at most 64 / 16 pages of 1 << page_shift tokens).
__device__ __forceinline__ void read_page_ids(const int* block_table, int tile_token, int tile_end, int page_shift,
                                              int (&ids)[4]) {
  const int num_pages = ((tile_end - 1) >> page_shift) - (tile_token >> page_shift) + 1;
#pragma unroll
  for (int i = 0; i < 4; ++i) ids[i] = i < num_pages ? block_table[(tile_token >> page_shift) + i] : 0;
}

}  // namespace detail

// kQByTma: Q comes by TMA (q_map, one thread, completing on q_full) rather than by every thread's cp.async;
// the host chooses it where one box a chunk covers an m_block's rows (make_q_tensor_map).
template <typename Traits, bool kQByTma>
__global__ void __launch_bounds__(Traits::kThreads, 1)
splitkv_decode_kernel(const __grid_constant__ DecodeParams params, const __grid_constant__ CUtensorMap kv_map,
                      const __grid_constant__ CUtensorMap q_map) {
  using namespace cute;
  using Element = typename Traits::Element;
  using MmaElement = typename Traits::MmaElement;
  using Storage = typename Traits::SharedStorage;
  using FullBarrier = cutlass::arch::ClusterTransactionBarrier;
  using std::integral_constant;
  constexpr int kBlockM = Traits::kBlockM;
  constexpr int kBlockN = Traits::kBlockN;
  constexpr int kChunks = Traits::kChunks;
  constexpr int kChunkCols = Traits::kChunkCols;
  constexpr int kLeftChunks = Traits::kLeftChunks;
  constexpr int kChunkElems = kBlockN * kChunkCols;
  constexpr int kRopeChunk = (kChunks - 1) * kChunkElems;  // a stage's RoPE chunk (elements)
  static_assert(kMaxSeqlenQ <= kBlockN, "is_tail_tile: a causal mask must stay within a piece's last tiles");

  // The split combine may be scheduled as soon as every CTA of this grid has started (it waits for the
  // grid's end itself: smxx/combine_splits.cu), so its launch latency hides under this kernel's tail.
  asm volatile("griddepcontrol.launch_dependents;");
  common::wait_for_preceding_grid();
  const SchedulerMetadataRow meta =
      reinterpret_cast<const SchedulerMetadataRow*>(params.scheduler_metadata)[blockIdx.z];
  if (meta.begin_batch > meta.end_batch) return;  // an empty part: the whole CTA leaves

  // Declared 1024-byte aligned (PTX `.extern .shared .align 1024`, the SW128 layouts' period): every
  // member's address is then a constant offset, and the wgmma descriptors of a stage a uniform value.
  extern __shared__ __align__(1024) char smem_raw[];
  Storage& smem = *reinterpret_cast<Storage*>(smem_raw);

  const int m_block = blockIdx.x;
  const int kv_head = blockIdx.y;
  const int tid = threadIdx.x;
  const int warpgroup = __shfl_sync(0xffffffff, tid / 128, 0);  // warp-uniform: descriptors in uniform registers
  const int wg_tid = tid % 128;
  const int warp_in_wg = wg_tid / 32;
  const int lane = tid % 32;

  if (tid == 0) {
#pragma unroll
    for (int s = 0; s < Traits::kStages; ++s) {
      FullBarrier::init(&smem.kv_full[s][0], 1);
      FullBarrier::init(&smem.kv_full[s][1], 1);
    }
    if constexpr (kQByTma) {
      FullBarrier::init(&smem.q_full, 1);
      smem.q_batch = -1;
      smem.q_loads = 0;
      smem.end_batch = meta.end_batch;
    }
    cutlass::arch::ClusterBarrier::init(&smem.even_ready, 128);  // the hand-offs: one warpgroup's threads arrive
    cutlass::arch::ClusterBarrier::init(&smem.odd_ready, 128);
    cutlass::arch::fence_barrier_init();
  }
  if (wg_tid == 0) cute::prefetch_tma_descriptor(reinterpret_cast<const cute::TmaDescriptor*>(&kv_map));
  if (kQByTma && tid == 0) cute::prefetch_tma_descriptor(reinterpret_cast<const cute::TmaDescriptor*>(&q_map));
  __syncthreads();

  // This thread's two rows of every accumulator (S and O): wgmma's 64 x N fragment layout.
  const int row_local[2] = {warp_in_wg * 16 + lane / 4, warp_in_wg * 16 + lane / 4 + 8};
  const int col_in_quad = 2 * (lane % 4);
  const int rows_per_kv = params.rows_per_kv;
  const int row_base = m_block * kBlockM;
  const int page = params.page_block_size;
  const int page_shift = page_shift_of(params);

  Tensor sQ = make_tensor(make_smem_ptr(smem.q), typename Traits::SmemLayoutQ{});
  typename Traits::TiledMmaS mma_s;
  typename Traits::TiledMmaO mma_o;
  typename Traits::TiledMmaORegP mma_o_regp;
  auto thr_mma_s = mma_s.get_thread_slice(wg_tid);
  auto thr_mma_o = mma_o.get_thread_slice(wg_tid);
  auto thr_mma_o_regp = mma_o_regp.get_thread_slice(wg_tid);
  Tensor tSrQ = thr_mma_s.partition_fragment_A(sQ);
  Tensor s_acc = partition_fragment_C(mma_s, Shape<Int<kBlockM>, Int<kBlockN>>{});  // S, then P (fp32)
  Tensor o_acc = partition_fragment_C(mma_o, Shape<Int<kBlockM>, Int<Traits::kColsPerWarpgroup>>{});
  // This warpgroup's own tile's P as the A operand of its P V (16-bit, wgmma's A register layout,
  // which holds the values in the accumulator's order).
  Tensor p_regs = make_tensor<MmaElement>(Shape<Shape<_2, _2, _2>, _1, Int<kBlockN / 16>>{});
  Tensor p_words = recast<uint32_t>(p_regs);
  static_assert(decltype(size(s_acc))::value == 32 && decltype(size(p_words))::value == 16, "64 x 64 per warpgroup");
  static_assert(decltype(size(o_acc))::value == 128, "128 O values a thread");

  // The stage tensors: K (S's B), and this warpgroup's half of V^T (P V's B).
  auto stage_k = [&](int stage) {
    return thr_mma_s.partition_fragment_B(make_tensor(make_smem_ptr(smem.kv[stage]), typename Traits::SmemLayoutK{}));
  };
  auto stage_vt_half = [&](int stage) {
    Tensor sVt = make_tensor(make_smem_ptr(smem.kv[stage]), typename Traits::SmemLayoutVt{});
    return local_tile(sVt, Shape<Int<Traits::kColsPerWarpgroup>, Int<kBlockN>>{}, make_coord(warpgroup, _0{}));
  };

  // One stage half's TMA boxes for the tile [tile_token, tile_end): kHalf 0 = chunks 0-3, 1 = chunks 4-8.
  auto load_half = [&](auto half_c, int stage, int tile_token, int tile_end, const int (&page_ids)[4]) {
    constexpr int kHalf = decltype(half_c)::value;
    constexpr int kFirst = kHalf == 0 ? 0 : kLeftChunks;
    constexpr int kLast = kHalf == 0 ? kLeftChunks : kChunks;
    const int num_pages = ((tile_end - 1) >> page_shift) - (tile_token >> page_shift) + 1;
    const uint32_t bytes = num_pages * (kLast - kFirst) * page * kChunkCols * sizeof(Element);
    FullBarrier::arrive_and_expect_tx(&smem.kv_full[stage][kHalf], bytes);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      if (i >= num_pages) break;
#pragma unroll
      for (int c = kFirst; c < kLast; ++c) {
        // Chunk c of the tile holds rows [0, 64) x 128 B; page i fills rows [i * page, (i + 1) * page).
        MmaElement* dst = smem.kv[stage] + c * kChunkElems + i * page * kChunkCols;
        cute::SM90_TMA_LOAD_4D::copy(&kv_map, &smem.kv_full[stage][kHalf],
                                     static_cast<uint64_t>(cute::TMA::CacheHintSm90::EVICT_FIRST), dst,
                                     c * kChunkCols, kv_head, 0, page_ids[i]);
      }
    }
  };

  // Rows [valid_tokens, 64) of this warpgroup's V half (chunks 4w .. 4w + 3) of a stage -> 0. Only a
  // piece's tail tiles can be partial (is_tail_tile); may_be_partial_c false (a pair step's tile with two
  // more after it, kNextEven / kNextOdd) leaves the code out, so that the steady-state loop does not jump
  // over it (taken branches to far targets cost instruction-fetch stalls: run 87).
  auto zero_v_rows_past_end = [&](auto may_be_partial_c, int stage, int valid_tokens) {
    if constexpr (!decltype(may_be_partial_c)::value) return;
    if (valid_tokens >= kBlockN) return;
    constexpr int kRowUnits = kChunkCols * 2 / 16;  // 8 units of 16 bytes a row
    for (int i = wg_tid; i < (kBlockN - valid_tokens) * kRowUnits * kLeftChunks; i += 128) {
      const int chunk = warpgroup * kLeftChunks + i / ((kBlockN - valid_tokens) * kRowUnits);
      const int rest = i % ((kBlockN - valid_tokens) * kRowUnits);
      char* row = reinterpret_cast<char*>(smem.kv[stage] + chunk * kChunkElems) + (valid_tokens + rest / kRowUnits) * 128;
      *reinterpret_cast<detail::Chunk*>(row + (rest % kRowUnits) * 16) = detail::Chunk{};
    }
    cutlass::arch::fence_view_async_shared();
    cutlass::arch::NamedBarrier::sync(128, detail::kWarpgroupSync + warpgroup);
  };

  // P (fp32, in s_acc) as 16-bit pairs into a 64 x 64 SW128 K-major tile: row r's 16-byte unit u sits
  // at r * 128 + ((u ^ (r % 8)) * 16); both of this thread's rows are lane / 4 modulo 8. The empty asm
  // keeps ptxas from precomputing the 16 store addresses.
  auto store_p = [&](MmaElement* tile, const float (&row_scale)[2]) {
    char* p_rows = reinterpret_cast<char*>(tile) + row_local[0] * 128 + 2 * col_in_quad;
    int unit_swizzle = lane / 4;
    asm volatile("" : "+r"(unit_swizzle));
#pragma unroll
    for (int v = 0; v < 32; v += 2) {
      const int r = (v / 2) % 2;
      *reinterpret_cast<uint32_t*>(p_rows + r * 8 * 128 + ((unit_swizzle ^ (v / 4)) * 16)) =
          detail::pack_two<Element>(s_acc(v) * row_scale[r], s_acc(v + 1) * row_scale[r]);
    }
  };

  // This warpgroup's own P (fp32 in s_acc) as 16-bit into p_regs, the A operand of its P V.
  auto pack_p = [&]() {
#pragma unroll
    for (int v = 0; v < 32; v += 2) p_words(v / 2) = detail::pack_two<Element>(s_acc(v), s_acc(v + 1));
  };
  // The other warpgroup's P (a 64 x 64 SW128 tile written by store_p) into p_regs with ldmatrix: k-block
  // kb's four 8 x 8 matrices are wgmma's A registers 4 kb .. 4 kb + 3 (rows +0/+8, columns +0/+8); lane l
  // gives the address of row l % 16 of this warp's 16, 16-byte unit 2 kb + l / 16.
  auto load_p = [&](const MmaElement* tile) {
    const int row = warp_in_wg * 16 + lane % 16;
    const uint32_t row_addr = cute::cast_smem_ptr_to_uint(tile) + row * 128;
#pragma unroll
    for (int kb = 0; kb < kBlockN / 16; ++kb) {
      const uint32_t addr = row_addr + (((2 * kb + lane / 16) ^ (row % 8)) * 16);
      asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                   : "=r"(p_words(4 * kb)), "=r"(p_words(4 * kb + 1)), "=r"(p_words(4 * kb + 2)), "=r"(p_words(4 * kb + 3))
                   : "r"(addr));
    }
  };

  int full_phase = 0;  // phase of this warpgroup's stage's full barriers (warpgroup w waits on stage w only)
  int hand_off_phase = 0;  // phase of even_ready and odd_ready (both complete once a pair)
  // Q of sequence `batch` (this CTA's m_block and KV head) into sQ by TMA: 9 boxes of 64 rows x 64 columns on
  // q_full. Thread 0 only; smem.q_loads counts them, so every thread waits for the latest with parity
  // (q_loads - 1) & 1.
  auto issue_q_tma = [&](int batch) {
    ++smem.q_loads;
    const int s_idx = row_base / params.heads_per_kv;
    const int head = row_base - s_idx * params.heads_per_kv;
    FullBarrier::arrive_and_expect_tx(&smem.q_full, kBlockM * kHeadDimQK * sizeof(Element));
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      cute::SM90_TMA_LOAD_5D::copy(&q_map, &smem.q_full, static_cast<uint64_t>(cute::TMA::CacheHintSm90::EVICT_FIRST),
                                   smem.q + c * kBlockM * kChunkCols, c * kChunkCols, head, kv_head, s_idx, batch);
    }
  };
  float row_sum[2];
  // The walk waits in shared memory between pieces: near the register limit (249 a thread with the walk in
  // registers, 242 without), state needed only at piece boundaries has no place in the tile loop (runs 124
  // and 126-127: the sm8x m64 tiles ran 9-18% faster for it, this kernel 0.7%). One CTA barrier a piece: thread
  // 0, the walk's leader, walks on from its own epilogue, where the others have taken their copy of the
  // finished piece before the epilogue's barrier, and every later step of its epilogue and of the next piece's
  // start only touches what that barrier has freed (Q, the row maxima and sums, stage 0), or waits for it itself
  // (stage 1, which holds the last O until warpgroup 1 has copied it out: copy_out_staged_o).
  PieceSource<true, true> pieces(params, blockIdx.z, &smem.walk, tid);
  // The leader issues a piece's Q before the other threads see the piece, where Q comes by TMA and the last
  // epilogue did not prefetch it: every thread is past its last S (the epilogue's barrier).
  auto load_q_early = [&](const WorkPiece& next) {
    if constexpr (kQByTma) {
      // A wrong prefetch (not expected: without deterministic chunks a part holds one piece a sequence,
      // and the epilogue guesses the next sequence) must land before Q's buffer is loaded again.
      const int prefetched = smem.q_batch;
      if (next.first_of_sequence && prefetched != next.batch_idx) {
        if (prefetched >= 0) FullBarrier::wait(&smem.q_full, (smem.q_loads - 1) & 1);
        issue_q_tma(next.batch_idx);
      }
    }
  };
  // The last piece's O, staged in stage 1 by its epilogue (whole rows: both warpgroups' columns) and not yet
  // copied out, and where its rows go (the sequence's out rows, or the split slot's partials).
  constexpr int kStagedRowCols = 2 * Traits::kColsPerWarpgroup;
  bool o_staged = false;
  int staged_batch = 0, staged_slot = 0;
  bool staged_split = false;
  // Warpgroup 1 (every thread): its first 64 threads copy the staged rows out of stage 1 (one bulk copy a row,
  // evict-last in the L2 for partials, as common::store_rows_bulk) and wait for the copies' reads; after the
  // warpgroup's barrier stage 1 may be refilled.
  auto copy_out_staged_o = [&]() {
    common::copy_staged_rows<Element, kBlockM, kStagedRowCols, sizeof(Storage::kv[0])>(
        params, row_base, reinterpret_cast<const char*>(smem.kv[1]), wg_tid, staged_split, [&](int row) {
          return common::result_row<Element>(params, staged_split, staged_batch, staged_slot, kv_head, row);
        });
    common::bulk_store_wait_read();
    cutlass::arch::NamedBarrier::sync(128, detail::kWarpgroupSync + 1);
  };
  WorkPiece piece;
  while (pieces.next(piece, load_q_early)) {
    const int* block_table = params.block_table + piece.batch_idx * params.block_table_batch_stride;
    const int num_tiles = piece.num_tiles(kBlockN);
    // Visible tokens of a row: [0, limit), causal rows seeing up to seqlen - s_q + s. Every row sees
    // [0, mask_from), so only the tiles reaching past it are masked.
    const int mask_from = common::mask_from(params, piece);
    auto tile_begin = [&](int tile) { return piece.token_begin + tile * kBlockN; };
    auto tile_end = [&](int tile) { return min(tile_begin(tile) + kBlockN, piece.token_end); };

    // The running maxima: each warp of warpgroup 0 resets its own rows, which it reads first (the even
    // tiles' softmax); warpgroup 1 reads them after the even_ready hand-off, the epilogue after a barrier.
    if (warpgroup == 0 && lane % 4 == 0) smem.row_max[row_local[0]] = smem.row_max[row_local[1]] = -INFINITY;
    __syncwarp();
    // The first two tiles: warpgroup w loads tile w whole into stage w. Stage 0 is free (the epilogue's barrier);
    // stage 1 holds the last piece's O, which warpgroup 1 copies out first. (Thread 0 issuing both tiles before
    // the walk's barrier, with the page ids read there, was 0.3-1.7% slower under ncu: 247 registers, run 149.)
    if (warpgroup == 1 && o_staged) copy_out_staged_o();
    o_staged = false;
    if (wg_tid == 0 && warpgroup < num_tiles) {
      int ids[4];
      detail::read_page_ids(block_table, tile_begin(warpgroup), tile_end(warpgroup), page_shift, ids);
      load_half(integral_constant<int, 0>{}, warpgroup, tile_begin(warpgroup), tile_end(warpgroup), ids);
      load_half(integral_constant<int, 1>{}, warpgroup, tile_begin(warpgroup), tile_end(warpgroup), ids);
    }
    if (piece.first_of_sequence) {
      if constexpr (kQByTma) {
        FullBarrier::wait(&smem.q_full, (smem.q_loads - 1) & 1);
      } else {  // Q rows -> shared memory (rows past rows_per_kv zero-filled), 64 x 72 chunks of 16 bytes
        common::copy_q_async<Element, kBlockM, Traits::kThreads>(params, piece, kv_head, row_base, tid, sQ);
        cute::cp_async_fence();
        cute::cp_async_wait<0>();
        cutlass::arch::fence_view_async_shared();  // generic-proxy writes -> wgmma (async proxy) reads
        detail::sync_all(detail::kPieceSync);
      }
    }

    clear(o_acc);
    row_sum[0] = row_sum[1] = 0.f;

    // Mask S of the tile at tile_token, take its row maxima, hand the maxima on, and turn S into P
    // (fp32 in s_acc, 16-bit in p_regs). Returns the maxima's change factor for this tile. may_mask_c
    // false: not a tail tile (is_tail_tile; the pair steps know it as kNextEven / kNextOdd), no mask code.
    auto softmax = [&](auto may_mask_c, int tile_token, float* scale_out, float (&scale)[2]) __attribute__((always_inline)) {
      if (decltype(may_mask_c)::value && tile_token + kBlockN > mask_from) {
        int limit[2];
        common::visible_limits(params, piece, rows_per_kv, row_base, row_local, limit);
#pragma unroll
        for (int v = 0; v < 32; ++v) {
          const int token = tile_token + (v / 4) * 8 + col_in_quad + v % 2;
          if (token >= limit[(v / 2) % 2]) s_acc(v) = -INFINITY;
        }
      }
      float max_scaled[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float tile_max = -INFINITY;
#pragma unroll
        for (int v = 2 * r; v < 32; v += 4) tile_max = fmaxf(tile_max, fmaxf(s_acc(v), s_acc(v + 1)));
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffff, tile_max, 1));
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffff, tile_max, 2));
        const float old_max = smem.row_max[row_local[r]];
        const RowMaxUpdate update = update_row_max(old_max, tile_max, params.softmax_scale_log2);
        max_scaled[r] = update.max_scaled;
        scale[r] = update.scale;
        const float new_max = update.max;
        __syncwarp();  // the quad has read the old maximum
        if (lane % 4 == 0) {
          smem.row_max[row_local[r]] = new_max;
          scale_out[row_local[r]] = scale[r];
        }
      }
      float sum[2] = {0.f, 0.f};
#pragma unroll
      for (int v = 0; v < 32; v += 2) {
        const int r = (v / 2) % 2;
        const float p0 = detail::fast_exp2(s_acc(v) * params.softmax_scale_log2 - max_scaled[r]);
        const float p1 = detail::fast_exp2(s_acc(v + 1) * params.softmax_scale_log2 - max_scaled[r]);
        s_acc(v) = p0;
        s_acc(v + 1) = p1;
        sum[r] += p0 + p1;
      }
      return std::make_pair(sum[0], sum[1]);
    };
    auto rescale_o = [&](const float (&factor)[2]) {
      if (__any_sync(0xffffffff, factor[0] != 1.f || factor[1] != 1.f)) {
#pragma unroll
        for (int v = 0; v < 128; ++v) o_acc(v) *= factor[(v / 2) % 2];
      }
    };

    // S = Q K^T of the tile in `stage`, as two wgmma batches: the left half's 16 k-blocks (chunks 0-3)
    // once they have landed, the right half's 20 once those have. (A batch a chunk, each on its own
    // barrier, was 7-9% slower on the 256-row rows: run 77.)
    constexpr int kLeftKBlocks = kLeftChunks * kChunkCols / 16;
    auto issue_s = [&](int stage) __attribute__((always_inline)) {
      Tensor tSrK = stage_k(stage);
      FullBarrier::wait(&smem.kv_full[stage][0], full_phase);
      detail::issue_gemm<true, 0, kLeftKBlocks>(mma_s, tSrQ, tSrK, s_acc);
      FullBarrier::wait(&smem.kv_full[stage][1], full_phase);
      full_phase ^= 1;
      detail::issue_gemm<false, kLeftKBlocks>(mma_s, tSrQ, tSrK, s_acc);
    };

    // One pair of tiles (2 pair, 2 pair + 1); kHasOdd: the odd tile exists; kNextEven / kNextOdd: the
    // tiles 2 pair + 2 / + 3 exist (their S is issued and their stages refilled here).
    auto pair_step = [&](int pair, auto has_odd_c, auto next_even_c, auto next_odd_c) __attribute__((always_inline)) {
      constexpr bool kHasOdd = decltype(has_odd_c)::value;
      constexpr bool kNextEven = decltype(next_even_c)::value;
      constexpr bool kNextOdd = decltype(next_odd_c)::value;
      const int even = 2 * pair;
      const int odd = even + 1;
      const float no_scale[2] = {1.f, 1.f};
      int next_even_pages[4], next_odd_pages[4];
      if (kNextEven && wg_tid == 0) detail::read_page_ids(block_table, tile_begin(even + 2), tile_end(even + 2), page_shift, next_even_pages);
      if (kNextOdd && wg_tid == 0) detail::read_page_ids(block_table, tile_begin(odd + 2), tile_end(odd + 2), page_shift, next_odd_pages);
      if (warpgroup == 0) {
        // ---- softmax of the even tile; its P (at the tile's maxima) -> stage 0's RoPE chunk ----
        float even_scale[2];
        const auto sums = softmax(integral_constant<bool, !kNextEven>{}, tile_begin(even), smem.scale_even, even_scale);
        pack_p();
        store_p(smem.kv[0] + kRopeChunk, no_scale);
        cutlass::arch::fence_view_async_shared();
        detail::hand_off_arrive(&smem.even_ready);
        rescale_o(even_scale);
        row_sum[0] = row_sum[0] * even_scale[0] + sums.first;
        row_sum[1] = row_sum[1] * even_scale[1] + sums.second;
        // ---- O += P(even) V(even) over columns 0-255 (P from registers); then stage 0's left half is free ----
        zero_v_rows_past_end(integral_constant<bool, !kNextEven>{}, 0, tile_end(even) - tile_begin(even));
        Tensor tOrV = thr_mma_o_regp.partition_fragment_B(stage_vt_half(0));
        detail::issue_gemm<false>(mma_o_regp, p_regs, tOrV, o_acc);
        detail::wait_gemms<0>(o_acc);
        if (kNextEven && wg_tid == 0) load_half(integral_constant<int, 0>{}, 0, tile_begin(even + 2), tile_end(even + 2), next_even_pages);
        // ---- the odd tile's maxima and P: O to the pair's final maxima, O += P(odd) V(odd) ----
        detail::hand_off_wait(&smem.odd_ready, hand_off_phase);
        const float odd_scale[2] = {smem.scale_odd[row_local[0]], smem.scale_odd[row_local[1]]};
        rescale_o(odd_scale);
        row_sum[0] *= odd_scale[0];
        row_sum[1] *= odd_scale[1];
        if constexpr (kHasOdd) {
          zero_v_rows_past_end(integral_constant<bool, !kNextOdd>{}, 1, tile_end(odd) - tile_begin(odd));
          load_p(smem.p_odd);
          Tensor tOrVodd = thr_mma_o_regp.partition_fragment_B(stage_vt_half(1));
          detail::issue_gemm<false>(mma_o_regp, p_regs, tOrVodd, o_acc);
        }
        // Stage 1's left half is free once P(odd) V(odd) is done: refill it (tile odd + 2) before S of
        // the next even tile is issued. Warpgroup 1 needs it for S(odd + 2) right after its own P V, so
        // every wgmma queued ahead of the refill is latency it cannot hide (run 77: 5-6% on the 256-row
        // rows against issuing S(even + 2)'s left half first).
        if constexpr (kHasOdd && kNextOdd) {
          detail::wait_gemms<0>(o_acc);
          if (wg_tid == 0) load_half(integral_constant<int, 0>{}, 1, tile_begin(odd + 2), tile_end(odd + 2), next_odd_pages);
        }
        if constexpr (kNextEven) issue_s(0);  // S of the next even tile, while warpgroup 1 runs its P V and S
        detail::wait_gemms<0>(o_acc);
        cute::warpgroup_fence_operand(s_acc);
      } else {
        // ---- O += P(even) V(even) over columns 256-511 (P from stage 0's RoPE chunk) ----
        detail::hand_off_wait(&smem.even_ready, hand_off_phase);
        const float even_scale[2] = {smem.scale_even[row_local[0]], smem.scale_even[row_local[1]]};
        rescale_o(even_scale);
        row_sum[0] *= even_scale[0];
        row_sum[1] *= even_scale[1];
        zero_v_rows_past_end(integral_constant<bool, !kNextEven>{}, 0, tile_end(even) - tile_begin(even));
        load_p(smem.kv[0] + kRopeChunk);
        Tensor tOrVeven = thr_mma_o_regp.partition_fragment_B(stage_vt_half(0));
        detail::issue_gemm<false>(mma_o_regp, p_regs, tOrVeven, o_acc);
        // ---- softmax of the odd tile (after the even one's maxima) while that runs ----
        float odd_scale[2] = {1.f, 1.f};
        float sums[2] = {0.f, 0.f};
        if constexpr (kHasOdd) {
          const auto s2 = softmax(integral_constant<bool, !kNextOdd>{}, tile_begin(odd), smem.scale_odd, odd_scale);
          sums[0] = s2.first;
          sums[1] = s2.second;
          store_p(smem.p_odd, no_scale);
          cutlass::arch::fence_view_async_shared();
        } else if (lane % 4 == 0) {
          smem.scale_odd[row_local[0]] = 1.f;
          smem.scale_odd[row_local[1]] = 1.f;
        }
        detail::hand_off_arrive(&smem.odd_ready);
        // Stage 0's right half (and P(even) in its RoPE chunk) is free once P(even) V(even) is done.
        detail::wait_gemms<0>(o_acc);
        if (kNextEven && wg_tid == 0) load_half(integral_constant<int, 1>{}, 0, tile_begin(even + 2), tile_end(even + 2), next_even_pages);
        rescale_o(odd_scale);
        row_sum[0] = row_sum[0] * odd_scale[0] + sums[0];
        row_sum[1] = row_sum[1] * odd_scale[1] + sums[1];
        if constexpr (kHasOdd) {  // O += P(odd) V(odd) over columns 256-511, P from registers
          pack_p();
          zero_v_rows_past_end(integral_constant<bool, !kNextOdd>{}, 1, tile_end(odd) - tile_begin(odd));
          Tensor tOrV = thr_mma_o_regp.partition_fragment_B(stage_vt_half(1));
          detail::issue_gemm<false>(mma_o_regp, p_regs, tOrV, o_acc);
          detail::wait_gemms<0>(o_acc);
          if (kNextOdd && wg_tid == 0) load_half(integral_constant<int, 1>{}, 1, tile_begin(odd + 2), tile_end(odd + 2), next_odd_pages);
        }
        if constexpr (kNextOdd) {  // S of the next odd tile, while warpgroup 0 runs its softmax
          issue_s(1);
          detail::wait_gemms<0>(s_acc);
        }
      }
      hand_off_phase ^= 1;
    };

    if (num_tiles > 0) {
      // S of each warpgroup's first tile.
      if (warpgroup < num_tiles) {
        issue_s(warpgroup);
        detail::wait_gemms<0>(s_acc);
      }
      const int num_pairs = (num_tiles + 1) / 2;
      const bool even_count = num_tiles % 2 == 0;
      integral_constant<bool, true> yes;
      integral_constant<bool, false> no;
      int pair = 0;
      for (; pair + 2 < num_pairs; ++pair) pair_step(pair, yes, yes, yes);
      if (pair + 1 < num_pairs) {
        if (even_count) {
          pair_step(pair, yes, yes, yes);
        } else {
          pair_step(pair, yes, yes, no);
        }
        ++pair;
      }
      if (even_count) {
        pair_step(pair, yes, no, no);
      } else {
        pair_step(pair, no, no, no);
      }
    }

    // ---- epilogue: normalise, write out/lse (one split) or the partials (several) ----
    detail::wait_gemms<0>(o_acc);
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      row_sum[r] += __shfl_xor_sync(0xffffffff, row_sum[r], 1);
      row_sum[r] += __shfl_xor_sync(0xffffffff, row_sum[r], 2);
      if (lane % 4 == 0) smem.row_sum[warpgroup][row_local[r]] = row_sum[r];
    }
    const WorkPiece done = pieces.finished(piece);  // read again from shared memory, before the leader walks on
    detail::sync_all(detail::kPieceSync);
    if constexpr (kQByTma) {
      // Both warpgroups are past their last S: Q's buffer is free, and the next sequence's Q can come now.
      // Without deterministic chunks the part's next piece is the next sequence's, if it has one.
      if (tid == 0) {
        const int next = done.batch_idx + 1;
        const bool prefetch = params.deterministic_chunk_blocks == 0 && next <= smem.end_batch;
        if (prefetch) issue_q_tma(next);
        smem.q_batch = prefetch ? next : -1;
      }
    }
    float inv_sum[2];
    float lse[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      common::row_statistics(params, done.is_split, smem.row_sum[0][row_local[r]] + smem.row_sum[1][row_local[r]],
                             smem.row_max[row_local[r]], inv_sum[r], lse[r]);
    }
    // O (both warpgroups' columns, whole rows) into stage 1, copied out at the next piece's start (or below,
    // after the last piece): after the sync above both warpgroups are past their last wgmma, and warpgroup 1
    // has waited for the reads of the copies out of stage 1 at this piece's start.
    common::store_rows_bulk<Element, kBlockM, Traits::kColsPerWarpgroup, kStagedRowCols, sizeof(Storage::kv[0]),
                            /*kIssueCopies=*/false>(
        params, done, kv_head, row_base, row_local, warpgroup * Traits::kColsPerWarpgroup,
        warpgroup == 0 && lane % 4 == 0, o_acc, inv_sum, lse, reinterpret_cast<char*>(smem.kv[1]), tid,
        detail::kPieceSync);
    o_staged = true;
    staged_batch = done.batch_idx;
    staged_slot = done.slot;
    staged_split = done.is_split;
  }
  if (warpgroup == 1 && o_staged) copy_out_staged_o();  // the part's last O
  if constexpr (kQByTma) {
    // The last epilogue's prefetch with no piece after it (the part's last sequence had no blocks here):
    // shared memory must outlive its writes.
    if (tid == 0 && smem.q_batch >= 0) FullBarrier::wait(&smem.q_full, (smem.q_loads - 1) & 1);
  }
}

}  // namespace flash_mla::sm90::tile_pairs

namespace flash_mla::sm90 {

template <typename Element>
void TilePairsDecode<Element>::launch(const DecodeParams& params, cudaStream_t stream) {
  using Traits = tile_pairs::KernelTraits<Element>;
  static_assert(Traits::kThreads == 32 * TilePairsDecode<Element>::kWarps);
  CUtensorMap q_map{};
  if (make_q_tensor_map<Element>(params, Traits::kBlockM, Traits::kChunkCols, q_map)) {
    common::launch_decode_grid<Traits, tile_pairs::splitkv_decode_kernel<Traits, true>>(params, stream, q_map);
  } else {  // (q_map unused)
    common::launch_decode_grid<Traits, tile_pairs::splitkv_decode_kernel<Traits, false>>(params, stream, q_map);
  }
}

template <typename Element>
int TilePairsDecode<Element>::smem_bytes() {
  return tile_pairs::KernelTraits<Element>::kSmemBytes;
}

template <typename Element>
int TilePairsDecode<Element>::max_ctas_per_sm() {
  using Traits = tile_pairs::KernelTraits<Element>;
  return common::max_ctas_per_sm<Traits>(tile_pairs::splitkv_decode_kernel<Traits, true>);
}

}  // namespace flash_mla::sm90
