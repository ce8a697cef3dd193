// Split-KV tile scheduler: decides, on the device, which CTA column ("SM part") processes which
// contiguous range of (sequence, schedule block) work, so that every part gets the same number of
// KV tiles whatever the sequence lengths. Arch-agnostic; compiled into every kernel-family module.
#pragma once

#include <cuda_runtime.h>

namespace flash_mla {

// seqlens_k: (batch,) int32 on the device. Writes metadata (num_sm_parts, kSchedulerMetadataInts)
// and num_splits_prefix (batch + 1). deterministic_chunk_blocks > 0 places split boundaries only at
// multiples of that many schedule blocks, so each sequence's splits depend on its length alone.
// fixed_cost_blocks: what a sequence costs a part beyond its blocks (the kernel's launch plan;
// kScheduleFixedCostBlocks in decode_params.h). no_split_slack_blocks: how much a part's payload may grow
// beyond the mean's when that lets every sequence go whole (0: never; the launch plan's, as the fixed cost).
void launch_scheduler_metadata(const int* seqlens_k, int batch, int num_sm_parts, int deterministic_chunk_blocks,
                               int fixed_cost_blocks, int no_split_slack_blocks, int* metadata, int* num_splits_prefix,
                               cudaStream_t stream);

}  // namespace flash_mla
