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

template <typename Fn>
decltype(auto) dispatch_block_m(int block_m, Fn&& fn) {
  switch (block_m) {
    case 16:
      return fn(std::integral_constant<int, 16>{});
    case 32:
      return fn(std::integral_constant<int, 32>{});
    case 64:
      return fn(std::integral_constant<int, 64>{});
    default:
      TORCH_CHECK(false, "flash_mla: no ", variant, " kernel with block_m=", block_m);
  }
}

// [block_m, block_n, num_warps, stages, smem_bytes, max_ctas_per_sm (0 without a GPU)]
std::vector<int64_t> launch_plan(int64_t rows_per_kv, bool query_device) {
  CHECK_ARG(rows_per_kv >= 1, "rows_per_kv must be >= 1, got ", rows_per_kv);
  const int block_m = choose_block_m(kTarget, static_cast<int>(rows_per_kv));
  const TileShape shape = tile_shape(kTarget, block_m);
  return dispatch_block_m(block_m, [&](auto bm) {
    using Kernel = SplitKVDecode<__nv_bfloat16, kTarget, decltype(bm)::value>;
    return std::vector<int64_t>{shape.block_m, shape.block_n,       shape.num_warps,
                                shape.stages,  Kernel::smem_bytes(), query_device ? Kernel::max_ctas_per_sm() : 0};
  });
}

std::tuple<at::Tensor, at::Tensor> scheduler_metadata(const at::Tensor& seqlens_k, int64_t num_sm_parts,
                                                      int64_t deterministic_chunk_blocks) {
  return api::scheduler_metadata(variant, seqlens_k, num_sm_parts, deterministic_chunk_blocks);
}

std::tuple<at::Tensor, at::Tensor> decode(const at::Tensor& q, const at::Tensor& k_cache,
                                          const at::Tensor& block_table, const at::Tensor& seqlens_k,
                                          const at::Tensor& metadata, const at::Tensor& num_splits,
                                          double softmax_scale, bool causal, int64_t deterministic_chunk_blocks) {
  const c10::cuda::CUDAGuard guard(q.device());
  const api::DecodeLaunch launch = api::prepare_decode(variant, q, k_cache, block_table, seqlens_k, metadata, num_splits,
                                                       softmax_scale, causal, deterministic_chunk_blocks);
  const int block_m = choose_block_m(kTarget, launch.params.rows_per_kv);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  api::dispatch_dtype(variant, q.scalar_type(), [&](auto element) {
    using Element = decltype(element);
    dispatch_block_m(block_m, [&](auto bm) { SplitKVDecode<Element, kTarget, decltype(bm)::value>::launch(launch.params, stream); });
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    launch_combine_splits<Element>(launch.params, stream);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {launch.out, launch.lse};
}

}  // namespace

FLASH_MLA_REGISTER_OPS(launch_plan, scheduler_metadata, decode)

}  // namespace flash_mla::sm8x
