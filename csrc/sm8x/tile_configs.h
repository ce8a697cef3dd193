// Per-target tile configurations of the Ampere-class decode kernel (mma.sync + ldmatrix + cp.async).
// A target differs from another by a row of this table, never by a copy of the kernel body.
#pragma once

namespace flash_mla::sm8x {

enum class Target { kSm80, kSm86, kSm89 };

// Shared memory a block may use (cudaDevAttrMaxSharedMemoryPerBlockOptin), in bytes:
// A100 163 KB; GA10x (sm86) and AD10x (sm89) 99 KB.
constexpr int max_smem_per_block(Target target) {
  return target == Target::kSm80 ? 163 * 1024 : 99 * 1024;
}

struct TileShape {
  int block_m;    // query rows (s_q * heads of one KV head) per CTA; 16, 32 or 64
  int block_n;    // KV tokens per pipeline stage; divides kScheduleBlockTokens (64)
  int num_warps;  // every warp takes part in both products
  int stages;     // cp.async pipeline depth; >= 2 so a tile loads while the previous one computes
  bool q_in_smem = false;  // Q's A-fragments come from shared memory (ldmatrix) instead of registers
  int qk_warps_n = 1;      // warps side by side over a tile's tokens in S = Q K^T (1: each warp has all)
  // Each warp copies its V column slice of the tile kStages ahead right after its own P V, before the
  // next tile's barrier (false: after it). Spreads the copies over the warps' finishing times.
  bool early_v_copy = false;
  // The walk over the pieces waits in shared memory between pieces (PieceSource<true>) instead of in
  // registers through the tile loop: for a tile at the 255-register limit.
  bool walk_in_smem = false;
};

// Q in registers (q_in_smem false): each warp holds its 16 rows' slice of the 576 columns for the
// whole sequence, so shared memory holds only the KV stages (block_n x 576, rows padded to 1168 B),
// the partial S sums of the k-split warps (fp32), the P tile and a few block_m-sized row arrays.
// (rows x tokens x k-split warp grid of S = Q K^T; O = P V with every warp owning all rows of a
// 512 / num_warps column slice.)
// sm80 (163 KB):
//   m16,  4 warps (1 x 1 x 4):  2 x 64-token stages 146 KB + partial S 12 KB + P 2 KB = 160 KB.
//   m32, 16 warps (2 x 2 x 4):  4 x 32-token stages 146 KB + partial S 12 KB + P 2.5 KB = 161 KB.
//   m64,  8 warps (4 x 1 x 2):  the sm86 / sm89 tile below (Q in registers) with 3 stages: 110 KB +
//                               partial S 8 KB + P 5 KB = 123 KB; 252-255 registers, no spills. 3.3% faster
//                               than 2 stages, 4 stages only 1% (run 131). It replaced one with Q in
//                               shared memory (Q 73 KB + 2 x 32-token stages 73 KB + partial S 8 KB +
//                               P 5 KB = 160 KB, 210 registers), which sm86's tile beat by 4-7% on an
//                               H100 (run 121).
// sm86 / sm89 (99 KB):
//   m16,  8 warps (1 x 2 x 4):  2 x 32-token stages 73 KB + partial S  6 KB + P 1.3 KB = 80 KB.
//   m32,  8 warps (2 x 1 x 4):  2 x 32-token stages 73 KB + partial S 12 KB + P 2.5 KB = 88 KB.
//   m64,  8 warps (4 x 1 x 2):  2 x 32-token stages 73 KB + partial S  8 KB + P 5 KB = 86 KB;
//                               Q 72 + O 128 + S 16 registers, the piece walk in shared memory
//                               (walk_in_smem): 252-255 registers, no spills on sm_80/86/89/90/100/120.
//                               With the walk in registers it spilled its piece-level state (6-14 B,
//                               stored and reloaded once a piece) on sm_80, sm_90 and sm_120.
// Registers per thread: O = block_m * 512 / (32 * num_warps) fp32 plus the Q slice, 16 rows x 576 /
// k_split columns (36 for k_split 4, 72 for 2). The 8-warp m64 and m32 tiles (2 registers a thread
// for every 1 of the 16-warp ones they replaced) read Q once per k-step per warp instead of per
// 16-token slice: 1.06x (sm80 m64, Q in shared memory) and 1.02x (sm86 m32) faster (run 59). The
// 99 KB targets had no 64-row tile before run 60 (Q in shared memory does not fit beside two stages;
// Q in registers spilled with the 16-warp grids); with it their 64+ row groups run 1.33-1.41x
// faster, as fast as sm80's (run 60). Configs that spill and were not kept: 4 x 2 x 1 (454 B), 16 warps
// 4 x 1 x 4 (198 B). (m64 4 x 1 x 2 with 3 or 4 stages spilled 14 B until the piece walk moved to shared
// memory, run 124.)
constexpr TileShape tile_shape(Target target, int block_m, int block_n) {
  if (target == Target::kSm80) {
    if (block_m == 64) return block_n == 64 ? TileShape{64, 64, 8, 2, true, 2, true} : TileShape{64, 32, 8, 3, false, 1, false, true};
    return block_m == 16 ? TileShape{16, 64, 4, 2} : TileShape{32, 32, 16, 4, false, 2};
  }
  if (block_m == 64) return TileShape{64, 32, 8, 2, false, 1, false, true};
  return block_m == 16 ? TileShape{16, 32, 8, 2, false, 2} : TileShape{32, 32, 8, 2, false, 1};
}

// The sm80 module also runs on GPUs with more shared memory per block than the A100's 163 KB: sm100
// parts through its compute_80 PTX and, in forward-compat mode, H100/H200 (227 KB each). There its
// 64-row groups take a wide tile, 64-token stages with P over the current stage's RoPE columns:
//   m64n64, 8 warps (4 x 2 x 1): Q 73 KB + 2 x 64-token stages 146 KB = 220 KB; 220 registers.
// It reads Q and K once per 32 tokens a warp instead of 16 and halves the barriers per token:
// 0.89-0.92x the time of the 163 KB tile on an H100 (benchmarks/NOTES.md, run 67).
constexpr int kWideTileSmemPerBlock = 227 * 1024;
constexpr bool has_wide_tile(Target target) { return target == Target::kSm80; }

// Shared memory a tile may use: its target's, or kWideTileSmemPerBlock for the wide tile.
constexpr int smem_budget(Target target, int block_m, int block_n) {
  return has_wide_tile(target) && block_m == 64 && block_n == 64 ? kWideTileSmemPerBlock : max_smem_per_block(target);
}

// Tokens per stage of a target's tile of block_m rows within the target's own shared memory.
constexpr int default_block_n(Target target, int block_m) {
  return target == Target::kSm80 && block_m == 16 ? 64 : 32;
}

struct TileKey {
  int block_m;
  int block_n;
};

// The tile for `rows` query rows sharing one KV head on a device that grants `smem_per_block` bytes.
constexpr TileKey choose_tile(Target target, int rows, int smem_per_block) {
  const int block_m = rows <= 16 ? 16 : rows <= 32 ? 32 : 64;
  if (has_wide_tile(target) && block_m == 64 && smem_per_block >= kWideTileSmemPerBlock) return {64, 64};
  return {block_m, default_block_n(target, block_m)};
}

}  // namespace flash_mla::sm8x
