// The walk over one SM part's work, shared by every decode kernel family (and, within the Hopper
// kernel, by its producer and consumer warps, which must see the same sequence of tiles).
//
// An SM part (a row of the scheduler metadata, csrc/smxx/scheduler_metadata.cu) covers the
// contiguous range [(begin_batch, begin_block), (end_batch, end_block)) of schedule blocks. It falls
// into pieces: one per sequence, or, in the deterministic mode, one per fixed chunk of a sequence.
// Each piece ends in one output: the final out/lse when the sequence has a single split, else one
// split slot of the fp32 partials that the combine kernel merges.
#pragma once

#include "decode_params.h"

namespace flash_mla {

struct WorkPiece {
  int batch_idx;
  int seqlen;         // the sequence's cache length
  int token_begin;    // first KV token of the piece
  int token_end;      // one past the last; token_end <= token_begin for an empty sequence
  int slot;           // split slot of the partials (when is_split)
  bool is_split;      // the sequence has several splits: write partials, not the final output
  bool first_of_sequence;  // the first piece of this sequence in this part (Q must be loaded)

  __device__ __forceinline__ int num_tiles(int block_n) const {
    return token_end > token_begin ? (token_end - token_begin + block_n - 1) / block_n : 0;
  }
};

// Calls fn(const WorkPiece&) for every piece of `meta`'s range, in order.
template <typename Fn>
__device__ __forceinline__ void for_each_work_piece(const DecodeParams& params, const SchedulerMetadataRow& meta,
                                                    Fn&& fn) {
  for (int batch_idx = meta.begin_batch; batch_idx <= meta.end_batch; ++batch_idx) {
    const int seqlen = params.seqlens_k[batch_idx];
    const int num_blocks = (seqlen + kScheduleBlockTokens - 1) / kScheduleBlockTokens;
    const int begin_block = batch_idx == meta.begin_batch ? meta.begin_block : 0;
    const int end_block = batch_idx == meta.end_batch ? meta.end_block : num_blocks;
    if (begin_block >= end_block && num_blocks > 0) continue;  // nothing of this sequence here
    const int first_slot = params.num_splits_prefix[batch_idx];
    const bool is_split = params.num_splits_prefix[batch_idx + 1] - first_slot > 1;
    const int chunk = params.deterministic_chunk_blocks;
    int split_ordinal = batch_idx == meta.begin_batch ? meta.begin_split : 0;
    int piece_begin = begin_block;
    do {
      const int piece_end = chunk > 0 ? min(end_block, (piece_begin / chunk + 1) * chunk) : end_block;
      WorkPiece piece;
      piece.batch_idx = batch_idx;
      piece.seqlen = seqlen;
      piece.token_begin = piece_begin * kScheduleBlockTokens;
      piece.token_end = min(piece_end * kScheduleBlockTokens, seqlen);
      piece.slot = first_slot + (chunk > 0 ? piece_begin / chunk : split_ordinal);
      piece.is_split = is_split;
      piece.first_of_sequence = piece_begin == begin_block;
      fn(piece);
      piece_begin = piece_end;
      ++split_ordinal;
    } while (piece_begin < end_block);
  }
}

}  // namespace flash_mla
