// Launchers of the Hopper (sm90a) split-KV decode kernel's two schedules (declarations). Both run one
// CTA per (64-row m_block, kv_head, sm_part) over the same work pieces, tiles and combine:
//   ColumnSplitDecode (column_split_kernel.cuh): a producer warpgroup and two consumer warpgroups
//     that split each tile's S by columns and O by columns; fastest for up to 64 query rows a KV
//     head (the memory-bound groups);
//   TilePairsDecode (tile_pairs_kernel.cuh): two warpgroups that take alternate tiles (S and softmax
//     of their own tile, O by columns over both), so one's softmax runs under the other's wgmmas;
//     fastest for more than 64 rows a KV head: 0.92-0.98x the column split's time on the 256-row rows
//     (runs 72-76), and since its refills lost their integer divisions (run 114) 0.945-0.97x on 6 of
//     the 8 128-row rows (1.01-1.04x on the 4096 varlen ones; run 116). benchmarks/NOTES.md.
// One explicit instantiation per schedule and dtype lives in instantiations/.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "../common/decode_params.h"

namespace flash_mla::sm90 {

// Query rows per CTA: the M of one wgmma.
constexpr int kBlockM = 64;

// Whether a group of rows_per_kv query rows a KV head runs the tile-pair schedule.
constexpr bool uses_tile_pairs(int64_t rows_per_kv) { return rows_per_kv > kBlockM; }

template <typename Element>
struct ColumnSplitDecode {
  static constexpr int kWarps = 12;
  // What a sequence costs the scheduler beyond its blocks, by the group's query rows (a split's partials
  // and its share of the combine grow with them). Up to 32 rows the default 4: 6 was 0.5-2.3% slower on the
  // varlen 16/x rows (runs 230, 231), 2 and below no better (run 158). Above 32, 6: 1.1-1.2% faster on 4096
  // varlen 64/1 in runs 230-232 (5 0.6%, 6 0.3% in run 198), 8192 varlen 64/1 and the fixed 64/1 rows level.
  static constexpr int schedule_fixed_cost_blocks(int64_t rows_per_kv) {
    return rows_per_kv > 32 ? 6 : flash_mla::kScheduleFixedCostBlocks;
  }
  static void launch(const DecodeParams& params, cudaStream_t stream);
  static int smem_bytes();       // dynamic shared memory of one CTA, in bytes
  static int max_ctas_per_sm();  // CTAs that fit on one SM of the current device
};

template <typename Element>
struct TilePairsDecode {
  static constexpr int kWarps = 8;
  // What a sequence costs this schedule's scheduler beyond its blocks. A piece costs it ~6 tiles at 128 rows
  // (run 134), and fewer splits save fp32 partials and combine work. 6 was 0.5-1.4% faster than the default 4
  // on the varlen 128/x rows and 4096/128/2 (ncu, runs 154, 155); 8 was 0.4-0.9% slower on the 4096 varlen
  // ones (runs 229-231), 10 and 12 within 0.5% of 6 (run 231). 8 was 3.1% faster on 8192 fixed 64/2 and
  // 128/1, where 6 cut 62 sequences two blocks short of two whole ones a part: the scheduler now takes a
  // payload one fixed cost up where that needs no split (csrc/smxx/scheduler_metadata.cu), the same at 6.
  static constexpr int schedule_fixed_cost_blocks(int64_t /*rows_per_kv*/) { return 6; }
  static void launch(const DecodeParams& params, cudaStream_t stream);
  static int smem_bytes();
  static int max_ctas_per_sm();
};

}  // namespace flash_mla::sm90
