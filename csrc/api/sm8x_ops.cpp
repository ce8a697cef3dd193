// torch glue of one Ampere-class target module (flash_mla._sm80, _sm86 or _sm89): the kernel dispatch
// and the op registrations. setup.py compiles this file once per target with
// -DFLASH_MLA_SM8X_TARGET=kSm80|kSm86|kSm89 and -DFLASH_MLA_VARIANT=sm80|sm86|sm89; every op name
// carries the variant, so all target modules load side by side in one process.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <tuple>
#include <vector>

#include "../sm8x/splitkv_decode_sm8x.h"
#include "../smxx/combine_splits.h"
#include "decode_glue.h"

#ifndef FLASH_MLA_SM8X_TARGET
#error "compile with -DFLASH_MLA_SM8X_TARGET=kSm80|kSm86|kSm89"
#endif
#ifndef FLASH_MLA_VARIANT
#error "compile with -DFLASH_MLA_VARIANT=sm80|sm86|sm89"
#endif

FLASH_MLA_DEFINE_PYTHON_MODULE()

namespace flash_mla::sm8x {
namespace {

constexpr Target kTarget = Target::FLASH_MLA_SM8X_TARGET;
constexpr const char* variant = FLASH_MLA_STR(FLASH_MLA_VARIANT);

// Calls fn(block_m, block_n) with the tile's compile-time constants.
template <typename Fn>
decltype(auto) dispatch_tile(TileKey tile, Fn&& fn) {
  using std::integral_constant;
  switch (tile.block_m) {
    case 16:
      return fn(integral_constant<int, 16>{}, integral_constant<int, default_block_n(kTarget, 16)>{});
    case 32:
      return fn(integral_constant<int, 32>{}, integral_constant<int, default_block_n(kTarget, 32)>{});
    case 64:
      if constexpr (has_wide_tile(kTarget)) {
        if (tile.block_n == 64) return fn(integral_constant<int, 64>{}, integral_constant<int, 64>{});
      }
      return fn(integral_constant<int, 64>{}, integral_constant<int, default_block_n(kTarget, 64)>{});
    default:
      TORCH_CHECK(false, "flash_mla: no ", variant, " kernel with block_m=", tile.block_m);
  }
}

// Shared memory per block the tile choice may assume: `smem_per_block` when > 0 (flash_mla/targets.py
// passes the device's, capped, or the target's own in forward-compat mode, so that an A100 tile runs on
// an H100), else the current device's with query_device, else the target's. (No device query at a
// launch: the Python side has the device's figure cached.)
int tile_budget(int64_t smem_per_block, bool query_device) {
  if (smem_per_block > 0) return static_cast<int>(smem_per_block);
  if (!query_device) return max_smem_per_block(kTarget);
  int device = 0;
  int optin = 0;
  C10_CUDA_CHECK(cudaGetDevice(&device));
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  return optin;
}

// [block_m, block_n, num_warps, stages, smem_bytes, max_ctas_per_sm (0 without a GPU),
//  schedule_fixed_cost_blocks, schedule_no_split_slack_blocks]
std::vector<int64_t> launch_plan(int64_t rows_per_kv, bool query_device, int64_t smem_per_block) {
  CHECK_ARG(rows_per_kv >= 1, "rows_per_kv must be >= 1, got ", rows_per_kv);
  CHECK_ARG(smem_per_block >= 0, "smem_per_block must be >= 0, got ", smem_per_block);
  const TileKey tile = choose_tile(kTarget, static_cast<int>(rows_per_kv), tile_budget(smem_per_block, query_device));
  return dispatch_tile(tile, [&](auto bm, auto bn) {
    constexpr TileShape shape = tile_shape(kTarget, decltype(bm)::value, decltype(bn)::value);
    using Kernel = SplitKVDecode<__nv_bfloat16, kTarget, decltype(bm)::value, decltype(bn)::value>;
    return std::vector<int64_t>{shape.block_m,
                                shape.block_n,
                                shape.num_warps,
                                shape.stages,
                                Kernel::smem_bytes(),
                                query_device ? Kernel::max_ctas_per_sm() : 0,
                                kScheduleFixedCostBlocks,
                                0};  // never a larger payload to keep sequences whole (scheduler_metadata.cu, run 234)
  });
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
                                          int64_t smem_per_block) {
  const c10::cuda::CUDAGuard guard(q.device());
  CHECK_ARG(smem_per_block >= 0, "smem_per_block must be >= 0, got ", smem_per_block);
  const api::DecodeLaunch launch = api::prepare_decode(variant, q, k_cache, block_table, seqlens_k, metadata, num_splits,
                                                       softmax_scale, causal, deterministic_chunk_blocks,
                                                       /*partials_in_input_dtype=*/false);
  const TileKey tile = choose_tile(kTarget, launch.params.rows_per_kv, tile_budget(smem_per_block, /*query_device=*/true));
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  api::dispatch_dtype(variant, q.scalar_type(), [&](auto element) {
    using Element = decltype(element);
    dispatch_tile(tile, [&](auto bm, auto bn) {
      SplitKVDecode<Element, kTarget, decltype(bm)::value, decltype(bn)::value>::launch(launch.params, stream);
    });
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    launch_combine_splits<Element, float>(launch.params, stream);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {launch.out, launch.lse};
}

}  // namespace

FLASH_MLA_REGISTER_OPS(launch_plan, scheduler_metadata, decode)

}  // namespace flash_mla::sm8x
