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
};

// Q in registers (q_in_smem false): each warp holds its 16 rows' slice of the 576 columns for the
// whole sequence, so shared memory holds only the KV stages (block_n x 576, rows padded to 1168 B),
// the partial S sums of the k-split warps (fp32), the P tile and a few block_m-sized row arrays.
// sm80 (163 KB):
//   m16,  4 warps (1 x 1 x 4):  2 x 64-token stages 146 KB + partial S 12 KB + P 2 KB = 160 KB.
//   m32, 16 warps (2 x 2 x 4):  4 x 32-token stages 146 KB + partial S 12 KB + P 2.5 KB = 161 KB.
// sm86 / sm89 (99 KB):
//   m16,  8 warps (1 x 2 x 4):  2 x 32-token stages 73 KB + partial S  6 KB + P 1.3 KB = 80 KB.
//   m32, 16 warps (2 x 2 x 4):  2 x 32-token stages 73 KB + partial S 12 KB + P 2.5 KB = 88 KB.
// (rows x tokens x k-split warp grid of S = Q K^T.) Registers per thread: O = block_m * 512 /
// (32 * num_warps) fp32 (32-64) plus the Q slice, 16 rows x 576 / k_split columns = 36 (k_split 4):
// 128-147 for the 8- and 16-warp tiles, no spills. 16 warps instead of v2's 8 for m32 (and 8 instead
// of 4 for the 99 KB m16) give each SM more warps to hide one warp's ldmatrix and barrier waits
// behind another's MMAs, and put 4 warps instead of 2 on the softmax.
//
// A 64-row tile cannot keep Q in registers: O and Q of 64 rows are 128 KB + 72 KB of the SM's 256 KB
// register file, and the rest does not hold S, fragments and addresses (measured: 36-84 B of spills
// with 8 warps, 132-160 B with 16). So sm80's m64 tile keeps Q in shared memory (73 KB, loaded once
// per sequence) and runs 16 warps, twice v1's, so that one warp's ldmatrix latency hides behind
// another's MMAs:
//   m64, 16 warps: Q 73 KB + 2 x 32-token stages 73 KB + partial S 8 KB + P 5 KB = 160 KB.
// S = Q K^T on a 4 (rows) x 2 (tokens) x 2 (k-split) warp grid: 16 x 16 S per warp over 288 columns;
// O = P V with each warp owning all 64 rows of a 32-column slice (64 registers).
// The 99 KB targets cannot hold Q and two stages of a 64-row tile: their groups of more than 32
// rows run as several 32-row CTAs, which read the same KV tiles close together in time (adjacent
// blockIdx.x), mostly from L2.
constexpr TileShape tile_shape(Target target, int block_m) {
  if (target == Target::kSm80) {
    if (block_m == 64) return TileShape{64, 32, 16, 2, true, 2};
    return block_m == 16 ? TileShape{16, 64, 4, 2} : TileShape{32, 32, 16, 4, false, 2};
  }
  return block_m == 16 ? TileShape{16, 32, 8, 2, false, 2} : TileShape{32, 32, 16, 2, false, 2};
}

constexpr bool has_block_m64(Target target) { return target == Target::kSm80; }

// Rows per CTA for a group of `rows` query rows sharing one KV head.
constexpr int choose_block_m(Target target, int rows) {
  if (rows <= 16) return 16;
  if (rows <= 32 || !has_block_m64(target)) return 32;
  return 64;
}

}  // namespace flash_mla::sm8x
