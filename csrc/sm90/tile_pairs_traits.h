// Compile-time plan of the Hopper (sm90a) decode kernel's tile-pair schedule: its threads and shared
// storage on top of the shared tiles (tile_layouts_sm90.h). See tile_pairs_kernel.cuh for how they are
// used.
#pragma once

#include <cstdint>

#include "../common/work_pieces.cuh"
#include "tile_layouts_sm90.h"

namespace flash_mla::sm90::tile_pairs {

template <typename Element_>
struct KernelTraits : TileLayouts<Element_> {
  using Base = TileLayouts<Element_>;
  using typename Base::MmaElement;
  using typename Base::SmemLayoutK;
  using typename Base::SmemLayoutP;
  using typename Base::SmemLayoutQ;
  using Base::kBlockM;
  using Base::kStages;

  // Two warpgroups, no producer: each issues the TMA copies of the stage halves it is the last to
  // read, so every thread may hold up to 255 registers (256 threads, one CTA per SM).
  static constexpr int kWarpgroups = 2;
  static constexpr int kThreads = 128 * kWarpgroups;

  // Tiles alternate between the two stages; warpgroup 0 computes S and the softmax of the even tiles
  // (stage 0), warpgroup 1 of the odd ones (stage 1), each S = Q K^T over all 576 columns (36 wgmma
  // 64 x 64 x 16). O = P V: warpgroup w owns output columns [256 w, 256 w + 256) and multiplies both
  // tiles' P by its half of their V, P in registers: its own tile's from its softmax, the other's
  // loaded from shared memory (ldmatrix).
  // A stage is loaded, and refilled, in two halves: chunks 0-3 (V's columns 0-255, read only by
  // warpgroup 0's P V) and chunks 4-8 (V's columns 256-511 and the RoPE columns).
  static constexpr int kLeftChunks = 4;

  struct SharedStorage {
    alignas(1024) MmaElement q[cute::cosize_v<SmemLayoutQ>];
    alignas(1024) MmaElement kv[kStages][cute::cosize_v<SmemLayoutK>];
    // P of the odd tile (warpgroup 1's), read by warpgroup 0. The even tile's P goes over stage 0's
    // RoPE chunk, which only warpgroup 0's S reads and which warpgroup 1 refills after reading P.
    alignas(1024) MmaElement p_odd[cute::cosize_v<SmemLayoutP>];
    float row_max[kBlockM];           // running maxima (raw S units), handed from warpgroup to warpgroup
    float scale_even[kBlockM];        // exp2 of the maxima's change in the even tile's softmax
    float scale_odd[kBlockM];         // ... and in the odd tile's
    float row_sum[kWarpgroups][kBlockM];  // each warpgroup's sums, met in the epilogue
    SharedPieceWalk walk;             // the walk over the pieces between pieces (PieceSource<true>)
    alignas(8) uint64_t kv_full[kStages][2];  // a stage half's TMA bytes have landed
    alignas(8) uint64_t q_full;               // Q's TMA bytes have landed (kernels that load Q by TMA)
    int q_batch;     // the sequence whose Q a piece's epilogue has prefetched into q (-1: none); thread 0's
    int q_loads;     // Q's TMA loads issued so far (thread 0's): the latest completes q_full's phase q_loads - 1
    int end_batch;   // the part's last sequence (its metadata row), for the prefetch
    // The hand-offs between the warpgroups, each completing once a pair: warpgroup 0's even tile is
    // ready (its maxima, scale_even and P), warpgroup 1's odd one is (scale_odd, P(odd)).
    alignas(8) uint64_t even_ready;
    alignas(8) uint64_t odd_ready;
  };
  // The kernel declares its dynamic shared memory 1024-byte aligned: no padding.
  static constexpr int kSmemBytes = int(sizeof(SharedStorage));
  static_assert(kSmemBytes <= 227 * 1024, "H100 offers 227 KB of shared memory per block");
};

}  // namespace flash_mla::sm90::tile_pairs
