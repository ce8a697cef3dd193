// The walk over one SM part's work, shared by every decode kernel family (and, within the Hopper
// kernel, by its producer and consumer warps, which must see the same sequence of tiles).
//
// An SM part (a row of the scheduler metadata, csrc/smxx/scheduler_metadata.cu) covers the
// contiguous range [(begin_batch, begin_block), (end_batch, end_block)) of schedule blocks. It falls
// into pieces: one per sequence, or, in the deterministic mode, one per fixed chunk of a sequence.
// Each piece ends in one output: the final out/lse when the sequence has a single split, else one
// split slot of the partials that the combine kernel merges (fp32 on sm8x, 16-bit on sm90).
#pragma once

#include "decode_params.h"

namespace flash_mla {

// Only a piece's last kTailTiles tiles can hold tokens past its end or reach the causal mask, which reaches
// at most kMaxSeqlenQ - 1 tokens back from a sequence's end; every kernel's tiles hold at least kMaxSeqlenQ
// tokens (each asserts it). The other tiles need no mask and no zero-fill, and the kernels keep that code
// out of their steady-state loops (benchmarks/NOTES.md, runs 87, 88 and 90).
constexpr int kTailTiles = 2;
__device__ __forceinline__ bool is_tail_tile(int tile, int num_tiles) { return tile + kTailTiles >= num_tiles; }

// Pages hold 16, 32 or 64 tokens (the host glue checks): token t sits in page t >> page_shift_of(params),
// slot t & (page_block_size - 1). Every kernel takes pages this way, never by division by the run-time
// size (~25 dependent instructions each: on a refill's issue path and at each sm8x tile's top they cost
// 2-9%, benchmarks/NOTES.md runs 113-114).
__device__ __forceinline__ int page_shift_of(const DecodeParams& params) { return __ffs(params.page_block_size) - 1; }

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

// Where a walk stands between two pieces: plain data, so that a kernel may keep it in shared memory
// between pieces instead of in registers through its tile loop (SharedPieceWalk below).
struct WalkState {
  int batch_idx, seqlen, end_block, first_slot, split_ordinal, piece_begin;
  bool in_sequence, first_of_sequence, is_split;
};

// Yields the pieces of one part's range, in order: `while (walker.next(piece)) { ... }`. (An
// iterator rather than a callback: a kernel-sized lambda is not always inlined, and its captured
// accumulators would then live on the stack.)
class WorkPieceWalker {
 public:
  // `part` is the part's row of the scheduler metadata. Its fields are read from global memory when a
  // sequence starts rather than held in registers for the whole kernel (the Hopper consumers have
  // none to spare).
  __device__ __forceinline__ WorkPieceWalker(const DecodeParams& params, int part)
      : params_(params), part_(part), batch_idx_(meta().begin_batch) {}
  // Resumes a walk from its state().
  __device__ __forceinline__ WorkPieceWalker(const DecodeParams& params, int part, const WalkState& s)
      : params_(params), part_(part), batch_idx_(s.batch_idx), in_sequence_(s.in_sequence),
        first_of_sequence_(s.first_of_sequence), is_split_(s.is_split), seqlen_(s.seqlen), end_block_(s.end_block),
        first_slot_(s.first_slot), split_ordinal_(s.split_ordinal), piece_begin_(s.piece_begin) {}
  __device__ __forceinline__ WalkState state() const {
    return {batch_idx_, seqlen_, end_block_, first_slot_, split_ordinal_, piece_begin_, in_sequence_, first_of_sequence_,
            is_split_};
  }

  __device__ __forceinline__ bool next(WorkPiece& piece) {
    while (!in_sequence_) {
      const SchedulerMetadataRow& meta = this->meta();
      if (batch_idx_ > meta.end_batch) return false;
      seqlen_ = params_.seqlens_k[batch_idx_];
      const int num_blocks = (seqlen_ + kScheduleBlockTokens - 1) / kScheduleBlockTokens;
      const int begin_block = batch_idx_ == meta.begin_batch ? meta.begin_block : 0;
      end_block_ = batch_idx_ == meta.end_batch ? meta.end_block : num_blocks;
      if (begin_block >= end_block_ && num_blocks > 0) {  // nothing of this sequence here
        ++batch_idx_;
        continue;
      }
      first_slot_ = params_.num_splits_prefix[batch_idx_];
      is_split_ = params_.num_splits_prefix[batch_idx_ + 1] - first_slot_ > 1;
      split_ordinal_ = batch_idx_ == meta.begin_batch ? meta.begin_split : 0;
      piece_begin_ = begin_block;
      first_of_sequence_ = true;
      in_sequence_ = true;  // an empty sequence still yields one (empty) piece: its out 0, lse +inf
    }
    const int chunk = params_.deterministic_chunk_blocks;
    const int piece_end = chunk > 0 ? min(end_block_, (piece_begin_ / chunk + 1) * chunk) : end_block_;
    piece.batch_idx = batch_idx_;
    piece.seqlen = seqlen_;
    piece.token_begin = piece_begin_ * kScheduleBlockTokens;
    piece.token_end = min(piece_end * kScheduleBlockTokens, seqlen_);
    piece.slot = first_slot_ + (chunk > 0 ? piece_begin_ / chunk : split_ordinal_);
    piece.is_split = is_split_;
    piece.first_of_sequence = first_of_sequence_;
    first_of_sequence_ = false;
    piece_begin_ = piece_end;
    ++split_ordinal_;
    if (piece_begin_ >= end_block_) {
      in_sequence_ = false;
      ++batch_idx_;
    }
    return true;
  }

 private:
  __device__ __forceinline__ const SchedulerMetadataRow& meta() const {
    return reinterpret_cast<const SchedulerMetadataRow*>(params_.scheduler_metadata)[part_];
  }

  const DecodeParams& params_;
  int part_;
  int batch_idx_;
  bool in_sequence_ = false;
  bool first_of_sequence_ = false;
  bool is_split_ = false;
  int seqlen_ = 0, end_block_ = 0, first_slot_ = 0, split_ordinal_ = 0, piece_begin_ = 0;
};

// A walk kept in shared memory between pieces (PieceSource<true>): thread 0 advances it, every thread
// reads the piece it yielded.
struct SharedPieceWalk {
  WalkState state;
  WorkPiece piece;
  int has_piece;
};

// The pieces of one part, for a kernel whose every thread walks them together: `while (pieces.next(piece))`.
// PieceSource<false> holds the walk in each thread's registers (WorkPieceWalker). PieceSource<true> keeps it
// in shared memory between pieces, for a tile loop with no registers to spare for state it needs only at
// piece boundaries; it costs two CTA barriers a piece. Either way `finished(piece)` is the piece for the
// epilogue: the same registers, or read again from shared memory after the loop.
// PieceSource<true, kOneBarrier = true> costs one barrier a piece: the leader walks on as soon as it is done
// with the last piece, without waiting for the others. A kernel may use it where
//   - every thread takes its copy of finished() before a CTA barrier that ends the piece for the leader too
//     (the leader may overwrite the shared piece right after that barrier), and
//   - nothing else of shared memory that the next piece's start touches is still in use by then, unless
//     that start waits for it itself.
template <bool kInSharedMemory, bool kOneBarrier = false>
class PieceSource;

template <>
class PieceSource<false> {
 public:
  __device__ __forceinline__ PieceSource(const DecodeParams& params, int part, SharedPieceWalk*, int)
      : walker_(params, part) {}
  __device__ __forceinline__ bool next(WorkPiece& piece) { return walker_.next(piece); }
  __device__ __forceinline__ const WorkPiece& finished(const WorkPiece& piece) const { return piece; }

 private:
  WorkPieceWalker walker_;
};

template <bool kOneBarrier>
class PieceSource<true, kOneBarrier> {
 public:
  __device__ __forceinline__ PieceSource(const DecodeParams& params, int part, SharedPieceWalk* walk, int tid)
      : params_(params), part_(part), walk_(walk), leader_(tid == 0) {
    if (leader_) walk_->state = WorkPieceWalker(params, part).state();
  }
  __device__ __forceinline__ bool next(WorkPiece& piece) {
    return next(piece, [](const WorkPiece&) {});
  }
  // The same, and the leader calls leader_start(piece) with each piece before the other threads see it:
  // work such as issuing its first loads then needs no barrier of its own.
  template <typename LeaderStart>
  __device__ __forceinline__ bool next(WorkPiece& piece, const LeaderStart& leader_start) {
    if constexpr (!kOneBarrier) __syncthreads();  // every thread is done with the last piece
    if (leader_) {
      WorkPieceWalker walker(params_, part_, walk_->state);
      WorkPiece next_piece;
      const bool has_piece = walker.next(next_piece);
      walk_->has_piece = has_piece;
      walk_->piece = next_piece;
      walk_->state = walker.state();
      if (has_piece) leader_start(next_piece);
    }
    __syncthreads();
    if (!walk_->has_piece) return false;
    piece = walk_->piece;
    return true;
  }
  // kOneBarrier: valid until the kernel's next CTA barrier (see above); take a copy.
  __device__ __forceinline__ const WorkPiece& finished(const WorkPiece&) const { return walk_->piece; }

 private:
  const DecodeParams& params_;
  int part_;
  SharedPieceWalk* walk_;
  bool leader_;
};

}  // namespace flash_mla
