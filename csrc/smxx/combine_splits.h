// Split-KV combine: merges the partial outputs of a sequence's splits by their log-sum-exp.
// Arch-agnostic; compiled into every kernel-family module.
#pragma once

#include <cuda_runtime.h>

#include "../common/decode_params.h"

namespace flash_mla {

// Reads params.out_accum (of Partial: float, or the 16-bit Element) / lse_accum for every sequence with more
// than one split and writes params.out / params.lse. Sequences with a single split were written by the decode
// kernel itself.
// With `after_programmatic_trigger` (sm90: the decode kernel's CTAs execute griddepcontrol.launch_dependents
// as they start), the combine is launched as a programmatic dependent of the decode kernel: its CTAs
// are scheduled as the decode CTAs leave and wait (griddepcontrol.wait) for the whole decode grid's
// writes, which hides the launch latency between the two kernels.
template <typename Element, typename Partial>
void launch_combine_splits(const DecodeParams& params, cudaStream_t stream, bool after_programmatic_trigger = false);

}  // namespace flash_mla
