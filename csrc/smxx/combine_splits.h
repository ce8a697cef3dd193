// Split-KV combine: merges the partial outputs of a sequence's splits by their log-sum-exp.
// Arch-agnostic; compiled into every kernel-family module.
#pragma once

#include <cuda_runtime.h>

#include "../common/decode_params.h"

namespace flash_mla {

// Reads params.out_accum / lse_accum for every sequence with more than one split and writes
// params.out / params.lse. Sequences with a single split were written by the decode kernel itself.
template <typename Element>
void launch_combine_splits(const DecodeParams& params, cudaStream_t stream);

}  // namespace flash_mla
