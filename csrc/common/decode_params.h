// Plain-old-data parameters shared by the host glue (csrc/api), the scheduler and combine kernels
// (csrc/smxx) and every decode kernel family (csrc/sm8x, later csrc/sm90). No torch headers here.
#pragma once

#include <cstdint>

namespace flash_mla {

// MLA head dimensions (DeepSeek V2/V3/R1): K carries 512 latent + 64 RoPE values, V is the first 512.
constexpr int kHeadDimQK = 576;
constexpr int kHeadDimV = 512;

// Query tokens per request a decode kernel takes (MTP / speculative decoding): flash_mla's
// MAX_SEQLEN_Q, checked again by the host glue. The kernels rely on it: a causal mask reaches at most
// kMaxSeqlenQ - 1 tokens back from a sequence's end, so only a piece's last tiles can need one
// (kTailTiles, common/work_pieces.cuh).
constexpr int kMaxSeqlenQ = 16;

// The scheduler splits every sequence at multiples of this many tokens. Every kernel tile size
// (kBlockN) divides it, so a split boundary is always a tile boundary.
constexpr int kScheduleBlockTokens = 64;
// Per-sequence fixed cost in schedule blocks (loading Q, the epilogue, one more split to combine) that
// the scheduler assumes: a kernel family's launch plan names its own (the scheduler takes it as an
// argument); this is the default. Also the slack a part's payload gets beyond the mean: with 2, a batch
// of equal sequences slightly fewer than the parts (128 x 8192 tokens on 132) had every sequence cut one
// block short, and the fp32 partials and the combine of 64 rows a head cost 6% (run 58). Measured on the
// Hopper kernel, H200, same call: 4 against 2, time 0.94 on 8192/64/1 fixed, 0.96 on 4096 fixed with 128
// rows, geomean 0.985 over the 24-row grid, no row slower by more than 1%; 3 fixed only the first.
constexpr int kScheduleFixedCostBlocks = 4;

// One row of the tile-scheduler metadata (int32), one row per "SM part": a CTA column that walks
// the contiguous range of work [(begin_batch, begin_block), (end_batch, end_block)).
struct SchedulerMetadataRow {
  int begin_batch;        // first sequence of the part
  int begin_block;        // first schedule block of begin_batch
  int end_batch;          // last sequence of the part (inclusive); < begin_batch: empty part
  int end_block;          // one past the last schedule block of end_batch
  int begin_split;        // split ordinal of the piece (begin_batch, begin_block) within its sequence
  int reserved[3];
};
constexpr int kSchedulerMetadataInts = sizeof(SchedulerMetadataRow) / sizeof(int);
static_assert(kSchedulerMetadataInts == 8, "metadata rows are 8 int32");

struct DecodeParams {
  // Shapes.
  int batch;
  int seqlen_q;             // s_q: query tokens per request
  int num_heads_q;          // h_q
  int num_heads_k;          // h_kv
  int heads_per_kv;         // h_q / h_kv
  int rows_per_kv;          // s_q * h_q / h_kv: query rows sharing one KV head
  int page_block_size;
  int num_sm_parts;         // rows of the scheduler metadata
  int deterministic_chunk_blocks;  // > 0: splits fall only at multiples of this many schedule blocks
  bool is_causal;
  float softmax_scale;
  float softmax_scale_log2;  // softmax_scale * log2(e)

  // Inputs. Strides are in elements.
  const void* __restrict__ q;  // (batch, s_q, h_q, 576)
  int64_t q_batch_stride, q_seq_stride, q_head_stride;
  const void* __restrict__ k_cache;  // (num_blocks, page_block_size, h_kv, 576)
  int64_t k_block_stride, k_token_stride, k_head_stride;
  int num_cache_blocks;  // k_cache.size(0) (the TMA descriptor's extent)
  const int* __restrict__ block_table;  // (batch, max_blocks_per_seq)
  int64_t block_table_batch_stride;
  const int* __restrict__ seqlens_k;  // (batch,)

  // Outputs.
  void* __restrict__ out;  // (batch, s_q, h_q, 512)
  int64_t out_batch_stride, out_seq_stride, out_head_stride;
  float* __restrict__ lse;  // (batch, h_q, s_q), contiguous

  // Split-KV partials: (num_split_slots, h_kv, rows_per_kv, 512) and (num_split_slots, h_kv, rows_per_kv).
  // out_accum's element is the kernel family's partial type: float for sm8x, the 16-bit input type for sm90.
  void* __restrict__ out_accum;
  float* __restrict__ lse_accum;

  const int* __restrict__ scheduler_metadata;  // (num_sm_parts, kSchedulerMetadataInts)
  const int* __restrict__ num_splits_prefix;   // (batch + 1,): splits of sequence i are slots [p[i], p[i+1])
};

}  // namespace flash_mla
