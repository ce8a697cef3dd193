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
};

// Shared memory: Q tile block_m x 576 (+16 B row pad), `stages` KV tiles block_n x 576 (+16 B),
// P tile block_m x block_n (+16 B), and a few block_m-sized reduction arrays:
//   row of 576 bf16/fp16 + pad = 1168 B.
// sm80 (163 KB):
//   m16: Q 18.3 KB + 3 x 32-token stages 109.5 KB = 128 KB: three stages keep 73 KB in flight.
//   m32: Q 36.5 KB + 2 x 32-token stages  73.0 KB = 111 KB.
//   m64: Q 73.0 KB + 2 x 32-token stages  73.0 KB = 152 KB (64-token stages would need 219 KB).
// sm86 / sm89 (99 KB):
//   m16: Q 18.3 KB + 2 x 32-token stages  73.0 KB =  93 KB.
//   m32: Q 36.5 KB + 3 x 16-token stages  54.8 KB =  93 KB (two 32-token stages would need 110 KB).
//   m64 does not fit beside two stages (Q alone is 73 KB): 64-row groups run as two 32-row CTAs
//   that read the same KV tiles close together in time, mostly from L2.
// O accumulator registers per thread = block_m * 512 / (32 * num_warps): 64 (m16, 4 warps),
// 128 (m32, 4 warps), 128 (m64, 8 warps).
constexpr TileShape tile_shape(Target target, int block_m) {
  if (target == Target::kSm80) {
    return block_m == 16   ? TileShape{16, 32, 4, 3}
           : block_m == 32 ? TileShape{32, 32, 4, 2}
                           : TileShape{64, 32, 8, 2};
  }
  return block_m == 16 ? TileShape{16, 32, 4, 2} : TileShape{32, 16, 4, 3};
}

// Largest rows-per-CTA a target instantiates.
constexpr int max_block_m(Target target) { return target == Target::kSm80 ? 64 : 32; }

// Rows per CTA for a group of `rows` query rows sharing one KV head: the smallest tile that holds
// them all, else the largest (several CTAs per KV range).
constexpr int choose_block_m(Target target, int rows) {
  return rows <= 16 ? 16 : (rows <= 32 || max_block_m(target) == 32) ? 32 : 64;
}

}  // namespace flash_mla::sm8x
