// Launchers of the Ampere-class split-KV decode kernel (declarations). Bodies live in
// splitkv_decode_sm8x.cuh; one explicit instantiation per (target, dtype, tile) lives in
// instantiations/.
#pragma once

#include <cuda_runtime.h>

#include "../common/decode_params.h"
#include "tile_configs.h"

namespace flash_mla::sm8x {

template <typename Element, Target kTarget, int kBlockM, int kBlockN>
struct SplitKVDecode {
  static void launch(const DecodeParams& params, cudaStream_t stream);
  // Dynamic shared memory of one CTA, in bytes.
  static int smem_bytes();
  // CTAs of this kernel that fit on one SM of the current device.
  static int max_ctas_per_sm();
};

}  // namespace flash_mla::sm8x
