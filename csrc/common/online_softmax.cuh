// The online softmax's per-row arithmetic, shared by both kernel families (csrc/sm8x, csrc/sm90):
// exp2, the lazy update of a row's reference maximum, and the 16-bit packing of P and O.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

namespace flash_mla {

// How far (in exp2 units) a row's maximum may grow past the reference maximum that P is taken
// against before the reference moves and O is rescaled.
constexpr float kLazyRescaleLog2 = 8.f;

__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// One row's reference maximum after a tile whose scores reach `seen_max` (raw S units).
struct RowMaxUpdate {
  float max;         // the new reference maximum (raw S units)
  float max_scaled;  // max * scale_log2, or 0 for a row that has seen no token (exp2 then gives 0, not NaN)
  float scale;       // exp2 of the move, which O and the row sum are multiplied by; exactly 1 when none
  bool raised;       // the reference moved
};

// Lazy rescaling: the reference moves only when the tile's maximum exceeds it by more than
// 2^kLazyRescaleLog2 in P's units (P then stays <= 2^8, well inside bf16 and fp16), so after the first
// tiles every scale is exactly 1 and the kernels skip O's rescale. A row that has seen no token keeps
// -inf (-inf + 8 is -inf), so its first finite maximum always moves it.
__device__ __forceinline__ RowMaxUpdate update_row_max(float old_max, float seen_max, float scale_log2) {
  const bool raised = seen_max * scale_log2 > old_max * scale_log2 + kLazyRescaleLog2;
  const float new_max = raised ? seen_max : old_max;
  const float max_scaled = new_max == -INFINITY ? 0.f : new_max * scale_log2;
  return {new_max, max_scaled, raised ? fast_exp2(old_max * scale_log2 - max_scaled) : 1.f, raised};
}

template <typename Element>
__device__ __forceinline__ uint32_t pack_two(float lo, float hi) {
  static_assert(std::is_same_v<Element, __half> || std::is_same_v<Element, __nv_bfloat16>, "bf16 or fp16");
  if constexpr (std::is_same_v<Element, __half>) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
  } else {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
  }
}

}  // namespace flash_mla
