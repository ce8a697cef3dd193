#include "scheduler_metadata.h"

#include <climits>

#include "../common/decode_params.h"

namespace flash_mla {
namespace {

constexpr int kSchedulerThreads = 256;

__device__ __forceinline__ int num_schedule_blocks(int seqlen) {
  return (seqlen + kScheduleBlockTokens - 1) / kScheduleBlockTokens;
}

// The greedy walk over (part, sequence) at a payload: each part takes whole sequences while they fit and
// cuts the one that does not; the last part takes whatever is left, so every sequence is always covered.
// With kWrite it writes the metadata rows and num_splits_prefix and returns the number of splits (pieces
// beyond one a sequence); without, it only tells whether there is a split (1 at the first, else 0).
template <bool kWrite>
__device__ int walk_parts(const int* __restrict__ seqlens_k, int batch, int num_sm_parts, int chunk_blocks,
                          int fixed_cost_blocks, int payload, SchedulerMetadataRow* __restrict__ metadata,
                          int* __restrict__ num_splits_prefix) {
  const bool deterministic = chunk_blocks > 0;
  int batch_idx = 0;   // sequence being walked
  int block_idx = 0;   // next schedule block of that sequence
  int split_idx = 0;   // ordinal of the piece starting at (batch_idx, block_idx)
  int prefix = 0;
  int splits = 0;
  if (kWrite) num_splits_prefix[0] = 0;
  for (int part = 0; part < num_sm_parts; ++part) {
    SchedulerMetadataRow row;
    row.begin_batch = batch_idx;
    row.begin_block = block_idx;
    row.begin_split = split_idx;
    row.reserved[0] = row.reserved[1] = row.reserved[2] = 0;
    int remain = part == num_sm_parts - 1 ? INT_MAX : payload;
    while (batch_idx < batch) {
      const int num_blocks = num_schedule_blocks(seqlens_k[batch_idx]);
      const int rest = num_blocks - block_idx;
      if (remain >= rest + fixed_cost_blocks) {
        remain -= rest + fixed_cost_blocks;
        if (deterministic) {
          const int chunks = (num_blocks + chunk_blocks - 1) / chunk_blocks;
          prefix += chunks > 1 ? chunks : 1;
        } else {
          prefix += split_idx + 1;
        }
        if (kWrite) num_splits_prefix[batch_idx + 1] = prefix;
        ++batch_idx;
        block_idx = 0;
        split_idx = 0;
        continue;
      }
      int cut = block_idx + remain - fixed_cost_blocks;
      if (deterministic) {  // nearest chunk boundary; block_idx is one already
        cut = (cut + chunk_blocks / 2) / chunk_blocks * chunk_blocks;
      }
      if (cut > block_idx && cut < num_blocks) {
        block_idx = cut;
        ++split_idx;
        ++splits;
        if (!kWrite) return 1;
      }
      break;
    }
    if (kWrite) {
      if (block_idx > 0) {
        row.end_batch = batch_idx;
        row.end_block = block_idx;
      } else {
        row.end_batch = batch_idx - 1;
        row.end_block = batch_idx > 0 ? num_schedule_blocks(seqlens_k[batch_idx - 1]) : 0;
      }
      metadata[part] = row;
    }
  }
  return splits;
}

// One CTA. The cost reduction is parallel; the walks are serial and O(num_sm_parts + batch), ~90 ns a sequence
// (a dependent global load an iteration): 18 us for 128 sequences, 240 us for 4096 on an H100 (run 234). It runs
// once a decoding step (get_mla_metadata), not once a layer.
// The payload is the mean cost a part plus one fixed cost, unless one up to no_split_slack_blocks larger needs
// no split at all (and the mean's does): then that one, since a split costs more than its fixed cost says (fp32
// partials, and the combine kernel after the whole grid). Where a batch of equal sequences is a little short of
// k whole ones a part (128 x 8192 tokens on 66 parts), the mean cut 62 sequences two blocks short for two blocks
// of balance, 3% slower on the Hopper kernel than one or two idle parts; the Ampere-class kernel, twice as long,
// gains more from the balance than the combine costs it (1%; benchmarks/NOTES.md runs 229-234), and passes 0.
// Varied lengths always need splits, so their walk is the mean's. Not in the deterministic mode, whose splits
// depend on each length alone.
__global__ void __launch_bounds__(kSchedulerThreads)
scheduler_metadata_kernel(const int* __restrict__ seqlens_k, int batch, int num_sm_parts, int chunk_blocks,
                          int fixed_cost_blocks, int no_split_slack_blocks, SchedulerMetadataRow* __restrict__ metadata,
                          int* __restrict__ num_splits_prefix) {
  __shared__ int s_partial_cost[kSchedulerThreads];
  int cost = 0;
  for (int i = threadIdx.x; i < batch; i += kSchedulerThreads) {
    cost += num_schedule_blocks(seqlens_k[i]) + fixed_cost_blocks;
  }
  s_partial_cost[threadIdx.x] = cost;
  __syncthreads();
  for (int stride = kSchedulerThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) s_partial_cost[threadIdx.x] += s_partial_cost[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x != 0) return;

  const int total_cost = s_partial_cost[0];
  int payload = (total_cost + num_sm_parts - 1) / num_sm_parts + fixed_cost_blocks;
  auto splits_at = [&](int at) {
    return walk_parts<false>(seqlens_k, batch, num_sm_parts, chunk_blocks, fixed_cost_blocks, at, metadata,
                             num_splits_prefix);
  };
  const bool whole_sequences_within_slack = chunk_blocks == 0 && no_split_slack_blocks > 0 &&
                                            splits_at(payload + no_split_slack_blocks) == 0 && splits_at(payload) > 0;
  if (whole_sequences_within_slack) {
    payload += no_split_slack_blocks;
  }
  walk_parts<true>(seqlens_k, batch, num_sm_parts, chunk_blocks, fixed_cost_blocks, payload, metadata,
                   num_splits_prefix);
}

}  // namespace

void launch_scheduler_metadata(const int* seqlens_k, int batch, int num_sm_parts, int deterministic_chunk_blocks,
                               int fixed_cost_blocks, int no_split_slack_blocks, int* metadata, int* num_splits_prefix,
                               cudaStream_t stream) {
  scheduler_metadata_kernel<<<1, kSchedulerThreads, 0, stream>>>(
      seqlens_k, batch, num_sm_parts, deterministic_chunk_blocks, fixed_cost_blocks, no_split_slack_blocks,
      reinterpret_cast<SchedulerMetadataRow*>(metadata), num_splits_prefix);
}

}  // namespace flash_mla
