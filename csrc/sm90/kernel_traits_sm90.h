// Compile-time plan of the Hopper (sm90a) decode kernel: thread roles, shared-memory layouts and
// the two warpgroup matrix products. See splitkv_decode_sm90.cuh for how they are used.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cute/arch/mma_sm90.hpp>
#include <cute/atom/mma_atom.hpp>
#include <cute/tensor.hpp>
#include <cutlass/numeric_types.h>

#include <type_traits>

#include "../common/decode_params.h"

namespace flash_mla::sm90 {

template <typename Element_>
struct KernelTraits {
  using Element = Element_;
  static_assert(sizeof(Element) == 2, "bf16 or fp16");
  // The same 16 bits as CUTLASS's type, which its wgmma selectors and shared-memory layouts take.
  using MmaElement = std::conditional_t<std::is_same_v<Element, __half>, cutlass::half_t, cutlass::bfloat16_t>;

  // One CTA: 64 query rows (the M of one wgmma) of one KV head, against 64-token KV tiles.
  static constexpr int kBlockM = 64;
  static constexpr int kBlockN = 64;
  static_assert(kBlockN == kScheduleBlockTokens, "a tile is one schedule block: splits fall on tile edges");
  static constexpr int kStages = 2;

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
  // O = P V:   each takes half of the 512 output columns (64 x 256 fp32: 128 registers a thread).
  static constexpr int kTokensPerWarpgroup = kBlockN / kConsumerWarpgroups;
  static constexpr int kKBlocksPerWarpgroup = kHeadDimQK / 16 / kConsumerWarpgroups;
  static constexpr int kColsPerWarpgroup = kHeadDimV / kConsumerWarpgroups;

  // Q, K and P live in 128-byte-swizzled K-major layouts: 64-column chunks of (rows x 128 B), each
  // 1024-byte aligned, which is both what the TMA writes (one box per chunk) and what wgmma reads.
  static constexpr int kChunkCols = 64;
  static constexpr int kChunks = kHeadDimQK / kChunkCols;  // 9
  using SmemAtom = cute::GMMA::Layout_K_SW128_Atom<MmaElement>;
  using SmemLayoutQ = decltype(cute::tile_to_shape(SmemAtom{}, cute::Shape<cute::Int<kBlockM>, cute::Int<kHeadDimQK>>{}));
  using SmemLayoutK = decltype(cute::tile_to_shape(SmemAtom{}, cute::Shape<cute::Int<kBlockN>, cute::Int<kHeadDimQK>>{}));
  using SmemLayoutP = decltype(cute::tile_to_shape(SmemAtom{}, cute::Shape<cute::Int<kBlockM>, cute::Int<kBlockN>>{}));
  // V^T: the same bytes as K's first 512 columns, seen as (512 columns x 64 tokens), column-major
  // within each 64-column chunk: the MN-major operand B of O = P V.
  using SmemLayoutVt = decltype(cute::tile_to_shape(cute::GMMA::Layout_MN_SW128_Atom<MmaElement>{},
                                                    cute::Shape<cute::Int<kHeadDimV>, cute::Int<kBlockN>>{},
                                                    cute::Step<cute::_2, cute::_1>{}));

  using TiledMmaS = decltype(cute::make_tiled_mma(
      cute::GMMA::ss_op_selector<MmaElement, MmaElement, float,
                                 cute::Shape<cute::Int<kBlockM>, cute::Int<kBlockN>, cute::_16>>()));
  using TiledMmaO = decltype(cute::make_tiled_mma(
      cute::GMMA::ss_op_selector<MmaElement, MmaElement, float,
                                 cute::Shape<cute::Int<kBlockM>, cute::Int<kColsPerWarpgroup>, cute::_16>,
                                 cute::GMMA::Major::K, cute::GMMA::Major::MN>()));

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
  static_assert(cute::cosize_v<SmemLayoutK> == kBlockN * kHeadDimQK, "K tile is dense");
  static_assert(cute::cosize_v<SmemLayoutVt> == kBlockN * kHeadDimV, "V^T view covers the first 512 columns");
  // Dynamic shared memory is only guaranteed 16-byte alignment: the kernel rounds its base up to 1024.
  static constexpr int kSmemBytes = int(sizeof(SharedStorage)) + 1024;
  static_assert(kSmemBytes <= 227 * 1024, "H100 offers 227 KB of shared memory per block");
};

}  // namespace flash_mla::sm90
