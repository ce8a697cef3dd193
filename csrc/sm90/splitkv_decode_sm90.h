// Launcher of the Hopper (sm90a) split-KV decode kernel (declaration). The body lives in
// splitkv_decode_sm90.cuh; one explicit instantiation per dtype lives in instantiations/.
#pragma once

#include <cuda_runtime.h>

#include "../common/decode_params.h"

namespace flash_mla::sm90 {

// Query rows per CTA: the M of one wgmma.
constexpr int kBlockM = 64;

template <typename Element>
struct SplitKVDecode {
  static void launch(const DecodeParams& params, cudaStream_t stream);
  // Dynamic shared memory of one CTA, in bytes.
  static int smem_bytes();
  // CTAs of this kernel that fit on one SM of the current device.
  static int max_ctas_per_sm();
};

}  // namespace flash_mla::sm90
