// torch glue of the Hopper module flash_mla._sm90 (sm_90a only): the kernel dispatch (one of two
// schedules by the query rows a KV head: splitkv_decode_sm90.h) and the op registrations,
// flash_mla::sm90_{launch_plan,scheduler_metadata,decode}.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <stdexcept>
#include <tuple>
#include <vector>

#include "../sm90/splitkv_decode_sm90.h"
#include "../smxx/combine_splits.h"
#include "decode_glue.h"

#define FLASH_MLA_VARIANT sm90

FLASH_MLA_DEFINE_PYTHON_MODULE()

namespace flash_mla::sm90 {
namespace {

constexpr const char* variant = "sm90";

// [block_m, block_n, num_warps, stages, smem_bytes, max_ctas_per_sm (0 without a GPU),
//  schedule_fixed_cost_blocks, schedule_no_split_slack_blocks]
std::vector<int64_t> launch_plan(int64_t rows_per_kv, bool query_device, int64_t /*smem_per_block*/) {
  CHECK_ARG(rows_per_kv >= 1, "rows_per_kv must be >= 1, got ", rows_per_kv);
  // The scheduler's no-split slack is one fixed cost for both schedules (csrc/smxx/scheduler_metadata.cu; measured
  // on the tile pairs' rows, run 233: the standard grid's column-split rows need no split at the mean already).
  auto plan = [&](auto kernel) {
    using Kernel = decltype(kernel);
    const int64_t fixed_cost = Kernel::schedule_fixed_cost_blocks(rows_per_kv);
    return std::vector<int64_t>{kBlockM, kScheduleBlockTokens, Kernel::kWarps, 2, Kernel::smem_bytes(),
                                query_device ? Kernel::max_ctas_per_sm() : 0, fixed_cost, fixed_cost};
  };
  return uses_tile_pairs(rows_per_kv) ? plan(TilePairsDecode<__nv_bfloat16>{}) : plan(ColumnSplitDecode<__nv_bfloat16>{});
}

std::tuple<at::Tensor, at::Tensor> scheduler_metadata(const at::Tensor& seqlens_k, int64_t num_sm_parts,
                                                      int64_t deterministic_chunk_blocks, int64_t fixed_cost_blocks,
                                                      int64_t no_split_slack_blocks) {
  return api::scheduler_metadata(variant, seqlens_k, num_sm_parts, deterministic_chunk_blocks, fixed_cost_blocks,
                                 no_split_slack_blocks);
}

std::tuple<at::Tensor, at::Tensor> decode(const at::Tensor& q, const at::Tensor& k_cache,
                                          const at::Tensor& block_table, const at::Tensor& seqlens_k,
                                          const at::Tensor& metadata, const at::Tensor& num_splits,
                                          double softmax_scale, bool causal, int64_t deterministic_chunk_blocks,
                                          int64_t /*smem_per_block: one tile*/) {
  const c10::cuda::CUDAGuard guard(q.device());
  const api::DecodeLaunch launch = api::prepare_decode(variant, q, k_cache, block_table, seqlens_k, metadata, num_splits,
                                                       softmax_scale, causal, deterministic_chunk_blocks,
                                                       /*partials_in_input_dtype=*/true);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  api::dispatch_dtype(variant, q.scalar_type(), [&](auto element) {
    using Element = decltype(element);
    try {
      if (uses_tile_pairs(launch.params.rows_per_kv)) {
        TilePairsDecode<Element>::launch(launch.params, stream);
      } else {
        ColumnSplitDecode<Element>::launch(launch.params, stream);
      }
    } catch (const std::invalid_argument& error) {  // k_cache the TMA cannot describe
      CHECK_ARG(false, error.what());
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    launch_combine_splits<Element, Element>(launch.params, stream, /*after_programmatic_trigger=*/true);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {launch.out, launch.lse};
}

}  // namespace

FLASH_MLA_REGISTER_OPS(launch_plan, scheduler_metadata, decode)

}  // namespace flash_mla::sm90
