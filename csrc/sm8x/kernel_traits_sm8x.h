// Everything the Ampere-class kernel derives from a TileShape: warp roles, fragment counts and the
// shared-memory plan. Compile-time only.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cute/arch/mma_sm80.hpp>

#include "../common/decode_params.h"
#include "../common/work_pieces.cuh"
#include "tile_configs.h"

namespace flash_mla::sm8x {

template <typename Element>
struct MmaAtom;
template <>
struct MmaAtom<__nv_bfloat16> {
  using Op = cute::SM80_16x8x16_F32BF16BF16F32_TN;
};
template <>
struct MmaAtom<__half> {
  using Op = cute::SM80_16x8x16_F32F16F16F32_TN;
};

template <typename Element_, Target kTarget_, int kBlockM_, int kBlockN_>
struct KernelTraits {
  using Element = Element_;
  static constexpr Target kTarget = kTarget_;
  static constexpr TileShape kShape = tile_shape(kTarget_, kBlockM_, kBlockN_);
  static constexpr int kBlockM = kShape.block_m;
  static constexpr int kBlockN = kShape.block_n;
  static constexpr int kNWarps = kShape.num_warps;
  static constexpr int kStages = kShape.stages;
  static constexpr int kThreads = kNWarps * 32;
  static_assert(kBlockM == kBlockM_ && kBlockN == kBlockN_, "tile_shape must honour the requested tile");
  static_assert(kScheduleBlockTokens % kBlockN == 0, "a tile never straddles a split boundary");
  static_assert(kStages >= 2, "one stage loads while another computes");

  // KV rows in shared memory are 576 elements plus 16 bytes: 1168 B, so the 8 rows an ldmatrix
  // phase reads fall into 8 different 16-byte bank groups (1168 mod 128 = 16).
  static constexpr int kRowStride = kHeadDimQK + 8;
  static constexpr int kChunksPerRow = kHeadDimQK * 2 / 16;  // 72 chunks of 16 B
  static constexpr int kLoadThreadsPerRow = 8;                // 8 x 16 B = one 128 B segment
  static constexpr int kChunksPerLoadThread = kChunksPerRow / kLoadThreadsPerRow;  // 9
  // P (kBlockM x kBlockN, 16-bit) either has its own buffer or, for a 64 x 64 tile, takes the place of
  // the current stage's RoPE columns (512..575: S is done with them, V does not use them), rows kRowStride
  // apart like K's. Phase A and phase B are separated by a barrier when kKSplit > 1 or kWarpsN > 1.
  static constexpr bool kPInStage = kShape.block_m == 64 && kShape.block_n == 64;
  static constexpr int kPRowStride = kPInStage ? kHeadDimQK + 8 : kBlockN + 8;  // rows 16 B apart in banks

  // S = Q K^T: warp (warp_m, warp_n, k_split) multiplies 16 query rows by kTokensPerWarp tokens of
  // the tile over one kKSplit-th of the 576 columns. Q's A-fragments come from registers (each warp
  // holds its slice for the whole sequence, so the loop reads only K from shared memory) or, for
  // tiles too tall for that (kQInSmem), from a copy of Q in shared memory. The kKSplit partial sums
  // meet in shared memory; the k_split == 0 warps then own full S rows (of their tokens).
  static constexpr bool kQInSmem = kShape.q_in_smem;
  static constexpr bool kEarlyVCopy = kShape.early_v_copy;
  static constexpr int kWarpsM = kBlockM / 16;
  static constexpr int kWarpsN = kShape.qk_warps_n;
  static constexpr int kKSplit = kNWarps / (kWarpsM * kWarpsN);
  static_assert(kNWarps % (kWarpsM * kWarpsN) == 0, "warps must tile the query rows and tokens");
  static constexpr int kTokensPerWarp = kBlockN / kWarpsN;
  static constexpr int kKStepsQK = kHeadDimQK / 16;  // 36
  static_assert(kKStepsQK % kKSplit == 0, "each warp takes a whole number of 16-column k-steps");
  static constexpr int kKStepsPerWarp = kKStepsQK / kKSplit;
  static constexpr int kNTilesS = kTokensPerWarp / 8;
  static_assert(kNTilesS % 2 == 0, "K fragments are loaded two n-tiles at a time");

  // O += P V: every warp owns all kBlockM rows of a kWarpCols-wide column slice of O.
  static constexpr int kMSlabs = kBlockM / 16;
  static constexpr int kWarpCols = kHeadDimV / kNWarps;
  static constexpr int kNTilesO = kWarpCols / 8;
  static_assert(kNTilesO % 2 == 0, "V fragments are loaded two n-tiles at a time");
  static constexpr int kKStepsPV = kBlockN / 16;
  static_assert(kBlockN % 16 == 0, "P V steps over 16 tokens");

  // Shared-memory plan, byte offsets.
  static constexpr int kSmemQOffset = 0;  // (kBlockM, kRowStride) when kQInSmem
  static constexpr int kSmemQBytes = kQInSmem ? kBlockM * kRowStride * 2 : 0;
  static constexpr int kSmemKVOffset = kSmemQOffset + kSmemQBytes;
  static constexpr int kSmemKVStageElems = kBlockN * kRowStride;
  static constexpr int kSmemKVBytes = kStages * kSmemKVStageElems * 2;
  static constexpr int kSmemPartialOffset = kSmemKVOffset + kSmemKVBytes;  // partial S of k_split > 0
  static constexpr int kSmemPartialFloats = kWarpsM * kWarpsN * (kKSplit - 1) * kNTilesS * 32 * 4;
  static constexpr int kSmemPOffset = kSmemPartialOffset + kSmemPartialFloats * 4;
  static constexpr int kSmemPBytes = kPInStage ? 0 : kBlockM * kPRowStride * 2;
  static constexpr int kSmemRowOffset = kSmemPOffset + kSmemPBytes;  // scale, 1/l, lse per row
  static constexpr int kSmemRowBytes = 3 * kBlockM * 4;
  // Per-row maxima (then sums) of each warp_n's tokens, exchanged between the kWarpsN row owners.
  static constexpr int kSmemRowPartOffset = kSmemRowOffset + kSmemRowBytes;
  static constexpr int kSmemRowPartBytes = kWarpsN > 1 ? kWarpsN * kBlockM * 4 : 0;
  static constexpr bool kWalkInSmem = kShape.walk_in_smem;
  static constexpr int kSmemWalkOffset = (kSmemRowPartOffset + kSmemRowPartBytes + 15) / 16 * 16;
  static constexpr int kSmemWalkBytes = kWalkInSmem ? int(sizeof(SharedPieceWalk)) : 0;
  static constexpr int kSmemBytes = kWalkInSmem ? kSmemWalkOffset + kSmemWalkBytes : kSmemRowPartOffset + kSmemRowPartBytes;
  static_assert(kSmemBytes <= smem_budget(kTarget_, kBlockM_, kBlockN_), "tile config exceeds its shared-memory budget");
  static_assert(!kPInStage || kKSplit > 1 || kWarpsN > 1, "P over K's RoPE columns needs a barrier after S");
};

}  // namespace flash_mla::sm8x
