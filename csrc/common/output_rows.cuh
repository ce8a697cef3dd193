// Where a query row's results go, for every kernel family and the split combine. The query rows that
// share a KV head are numbered row = s * heads_per_kv + head (s: the query token, head: within the KV
// head's group); out and lse are indexed by (batch, s, query head), the split partials by split slot.
#pragma once

#include <cstdint>

#include "decode_params.h"

namespace flash_mla {

// Row `row` of KV head kv_head of sequence batch_idx in out: its first element (column 0).
template <typename Element>
__device__ __forceinline__ Element* out_row(const DecodeParams& params, int batch_idx, int kv_head, int row) {
  const int s_idx = row / params.heads_per_kv;
  const int h_idx = kv_head * params.heads_per_kv + row % params.heads_per_kv;
  return reinterpret_cast<Element*>(params.out) + batch_idx * params.out_batch_stride + s_idx * params.out_seq_stride +
         h_idx * params.out_head_stride;
}

// The same row's lse in the final output, (batch, h_q, s_q).
__device__ __forceinline__ float* lse_of_row(const DecodeParams& params, int batch_idx, int kv_head, int row) {
  const int s_idx = row / params.heads_per_kv;
  const int h_idx = kv_head * params.heads_per_kv + row % params.heads_per_kv;
  return params.lse + (int64_t(batch_idx) * params.num_heads_q + h_idx) * params.seqlen_q + s_idx;
}

// The row's index in the partials of split slot `slot`: out_accum rows of kHeadDimV, lse_accum.
__device__ __forceinline__ int64_t partial_row(const DecodeParams& params, int slot, int kv_head, int row) {
  return (int64_t(slot) * params.num_heads_k + kv_head) * params.rows_per_kv + row;
}

}  // namespace flash_mla
