// The tiles both Hopper (sm90a) decode schedules share: 64 query rows (the M of one wgmma) of one KV
// head against 64-token KV tiles in two shared-memory stages, their 128-byte-swizzled layouts, and the
// wgmma shapes of S = Q K^T (64 x 64 per warpgroup) and O = P V (64 x 256 per warpgroup: each of the
// two warpgroups that compute O owns half of its 512 columns, 128 fp32 registers a thread).
// column_split_traits.h and tile_pairs_traits.h add each schedule's threads and shared storage.
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
struct TileLayouts {
  using Element = Element_;
  static_assert(sizeof(Element) == 2, "bf16 or fp16");
  // The same 16 bits as CUTLASS's type, which its wgmma selectors and shared-memory layouts take.
  using MmaElement = std::conditional_t<std::is_same_v<Element, __half>, cutlass::half_t, cutlass::bfloat16_t>;

  static constexpr int kBlockM = 64;
  static constexpr int kBlockN = 64;
  static_assert(kBlockN == kScheduleBlockTokens, "a tile is one schedule block: splits fall on tile edges");
  static constexpr int kStages = 2;
  static constexpr int kColsPerWarpgroup = kHeadDimV / 2;

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
  static_assert(cute::cosize_v<SmemLayoutK> == kBlockN * kHeadDimQK, "K tile is dense");
  static_assert(cute::cosize_v<SmemLayoutVt> == kBlockN * kHeadDimV, "V^T view covers the first 512 columns");

  using TiledMmaS = decltype(cute::make_tiled_mma(
      cute::GMMA::ss_op_selector<MmaElement, MmaElement, float,
                                 cute::Shape<cute::Int<kBlockM>, cute::Int<kBlockN>, cute::_16>>()));
  // O += P V with P from shared memory (TiledMmaO) or from registers (TiledMmaORegP).
  using TiledMmaO = decltype(cute::make_tiled_mma(
      cute::GMMA::ss_op_selector<MmaElement, MmaElement, float,
                                 cute::Shape<cute::Int<kBlockM>, cute::Int<kColsPerWarpgroup>, cute::_16>,
                                 cute::GMMA::Major::K, cute::GMMA::Major::MN>()));
  using TiledMmaORegP = decltype(cute::make_tiled_mma(
      cute::GMMA::rs_op_selector<MmaElement, MmaElement, float,
                                 cute::Shape<cute::Int<kBlockM>, cute::Int<kColsPerWarpgroup>, cute::_16>,
                                 cute::GMMA::Major::K, cute::GMMA::Major::MN>()));
};

}  // namespace flash_mla::sm90
