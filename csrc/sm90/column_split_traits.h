// Compile-time plan of the Hopper (sm90a) decode kernel's column-split schedule: its thread roles and
// shared storage on top of the shared tiles (tile_layouts_sm90.h). See column_split_kernel.cuh for how
// they are used.
#pragma once

#include <cstdint>

#include "tile_layouts_sm90.h"

namespace flash_mla::sm90::column_split {

template <typename Element_>
struct KernelTraits : TileLayouts<Element_> {
  using Base = TileLayouts<Element_>;
  using typename Base::MmaElement;
  using typename Base::SmemLayoutK;
  using typename Base::SmemLayoutQ;
  using Base::kBlockM;
  using Base::kBlockN;
  using Base::kStages;

  // Warpgroups 0 and 1 consume (matrix products and softmax), warpgroup 2 produces (TMA).
  static constexpr int kConsumerWarpgroups = 2;
  static constexpr int kConsumerThreads = 128 * kConsumerWarpgroups;
  static constexpr int kThreads = kConsumerThreads + 128;
  // setmaxnreg: 40 + 2 x 232 per 128 threads = 64512 of the SM's 65536 registers (one CTA per SM).
  static constexpr int kProducerRegisters = 40;
  static constexpr int kConsumerRegisters = 232;

  // S = Q K^T: each consumer warpgroup multiplies all 64 tokens over half of the 576 columns (18 of
  //            the 36 k-blocks: wgmma 64 x 64, half as many instructions and 2/3 of the shared-memory
  //            reads of splitting the tokens instead), then the two partial sums meet in shared
  //            memory and each warpgroup keeps the full S of its own 32 tokens;
  // O = P V:   each takes half of the 512 output columns.
  static constexpr int kTokensPerWarpgroup = kBlockN / kConsumerWarpgroups;
  static constexpr int kKBlocksPerWarpgroup = kHeadDimQK / 16 / kConsumerWarpgroups;

  struct SharedStorage {
    alignas(1024) MmaElement q[cute::cosize_v<SmemLayoutQ>];
    alignas(1024) MmaElement kv[kStages][cute::cosize_v<SmemLayoutK>];
    // Warpgroup 1's partial S for warpgroup 0's tokens, in accumulator-fragment order (the other
    // direction goes over the tile's RoPE chunk once S is done with it; P then takes its place).
    alignas(16) float s_partial[kConsumerThreads / 2 * kTokensPerWarpgroup / 2];
    float row_max[kConsumerWarpgroups][kBlockM];  // each warpgroup's tile maxima, exchanged per tile
    float row_sum[kConsumerWarpgroups][kBlockM];  // each warpgroup's sums, exchanged per piece
    alignas(8) uint64_t kv_full[kStages];   // TMA bytes of a stage have landed
    alignas(8) uint64_t kv_empty[kStages];  // every consumer warp is done with a stage
  };
  // Dynamic shared memory is only guaranteed 16-byte alignment: the kernel rounds its base up to 1024.
  static constexpr int kSmemBytes = int(sizeof(SharedStorage)) + 1024;
  static_assert(kSmemBytes <= 227 * 1024, "H100 offers 227 KB of shared memory per block");
};

}  // namespace flash_mla::sm90::column_split
