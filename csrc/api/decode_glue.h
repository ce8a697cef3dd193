// torch glue shared by every kernel-family module (flash_mla._sm80, _sm86, _sm89, _sm90): argument
// checks, the scheduler-metadata op, output allocation and DecodeParams. Each module's *_ops.cpp
// adds its kernel dispatch and registers the ops under its variant's name.
//
// The Python layer (flash_mla/) validates arguments first and raises errors that name them; the
// checks here are the backstop for direct torch.ops calls.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <Python.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "../common/decode_params.h"
#include "../smxx/scheduler_metadata.h"

#define FLASH_MLA_STR2(x) #x
#define FLASH_MLA_STR(x) FLASH_MLA_STR2(x)
#define FLASH_MLA_CAT2(a, b) a##b
#define FLASH_MLA_CAT(a, b) FLASH_MLA_CAT2(a, b)
// The name of op `name` of this module's variant: flash_mla::<variant>_<name>.
#define FLASH_MLA_OP(name) FLASH_MLA_STR(FLASH_MLA_VARIANT) "_" name

// A Python module so that `import flash_mla._<variant>` loads the library (and with it the op
// registrations); it defines no functions of its own.
#define FLASH_MLA_DEFINE_PYTHON_MODULE()                                                                     \
  extern "C" PyObject* FLASH_MLA_CAT(PyInit__, FLASH_MLA_VARIANT)(void) {                                     \
    static PyModuleDef module = {PyModuleDef_HEAD_INIT, "_" FLASH_MLA_STR(FLASH_MLA_VARIANT), nullptr, -1,    \
                                 nullptr};                                                                   \
    return PyModule_Create(&module);                                                                         \
  }

// The three ops of a variant module, flash_mla::<variant>_{launch_plan,scheduler_metadata,decode}.
// smem_per_block: the shared memory per block the kernel's tile may assume (0: the device's with
// query_device / at a launch, else the target's); only the sm80 module has a tile that depends on it.
#define FLASH_MLA_REGISTER_OPS(launch_plan_fn, scheduler_metadata_fn, decode_fn)                             \
  TORCH_LIBRARY_FRAGMENT(flash_mla, m) {                                                                    \
    m.def(FLASH_MLA_OP("launch_plan") "(int rows_per_kv, bool query_device, int smem_per_block) -> int[]",    \
          &launch_plan_fn);                                                                                  \
    m.def(FLASH_MLA_OP("scheduler_metadata") "(Tensor cache_seqlens, int num_sm_parts, "                    \
                                             "int deterministic_chunk_blocks, int fixed_cost_blocks, "      \
                                             "int no_split_slack_blocks) "                                  \
                                             "-> (Tensor, Tensor)");                                         \
    m.def(FLASH_MLA_OP("decode") "(Tensor q, Tensor k_cache, Tensor block_table, Tensor cache_seqlens, "      \
                                 "Tensor tile_scheduler_metadata, Tensor num_splits, float softmax_scale, "  \
                                 "bool causal, int deterministic_chunk_blocks, int smem_per_block) "        \
                                 "-> (Tensor out, Tensor softmax_lse)");                                     \
  }                                                                                                         \
  TORCH_LIBRARY_IMPL(flash_mla, CUDA, m) {                                                                  \
    m.impl(FLASH_MLA_OP("scheduler_metadata"), &scheduler_metadata_fn);                                     \
    m.impl(FLASH_MLA_OP("decode"), &decode_fn);                                                             \
  }

#define CHECK_ARG(cond, ...) TORCH_CHECK_VALUE(cond, "flash_mla.", variant, ": ", __VA_ARGS__)

namespace flash_mla::api {

template <typename Fn>
decltype(auto) dispatch_dtype(const char* variant, at::ScalarType dtype, Fn&& fn) {
  switch (dtype) {
    case at::kBFloat16:
      return fn(__nv_bfloat16{});
    case at::kHalf:
      return fn(__half{});
    default:
      CHECK_ARG(false, "q must be bfloat16 or float16, got ", dtype);
  }
}

inline std::tuple<at::Tensor, at::Tensor> scheduler_metadata(const char* variant, const at::Tensor& seqlens_k,
                                                             int64_t num_sm_parts, int64_t deterministic_chunk_blocks,
                                                             int64_t fixed_cost_blocks, int64_t no_split_slack_blocks) {
  CHECK_ARG(seqlens_k.is_cuda() && seqlens_k.dtype() == at::kInt && seqlens_k.dim() == 1 &&
                seqlens_k.is_contiguous(),
            "cache_seqlens must be a contiguous 1-D int32 CUDA tensor");
  CHECK_ARG(num_sm_parts >= 1, "num_sm_parts must be >= 1, got ", num_sm_parts);
  CHECK_ARG(fixed_cost_blocks >= 0 && fixed_cost_blocks <= 1024, "fixed_cost_blocks must be in [0, 1024], got ",
            fixed_cost_blocks);
  CHECK_ARG(no_split_slack_blocks >= 0 && no_split_slack_blocks <= 1024,
            "no_split_slack_blocks must be in [0, 1024], got ", no_split_slack_blocks);
  const c10::cuda::CUDAGuard guard(seqlens_k.device());
  const auto opts = seqlens_k.options();
  at::Tensor metadata = at::empty({num_sm_parts, kSchedulerMetadataInts}, opts);
  at::Tensor num_splits = at::empty({seqlens_k.size(0) + 1}, opts);
  launch_scheduler_metadata(seqlens_k.data_ptr<int>(), static_cast<int>(seqlens_k.size(0)),
                            static_cast<int>(num_sm_parts), static_cast<int>(deterministic_chunk_blocks),
                            static_cast<int>(fixed_cost_blocks), static_cast<int>(no_split_slack_blocks),
                            metadata.data_ptr<int>(), num_splits.data_ptr<int>(),
                            c10::cuda::getCurrentCUDAStream().stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {metadata, num_splits};
}

// The outputs, the split-KV partials (kept alive until the kernels are enqueued) and the kernel
// parameters of one decode call.
struct DecodeLaunch {
  at::Tensor out, lse, out_accum, lse_accum;
  DecodeParams params;
};

inline DecodeLaunch prepare_decode(const char* variant, const at::Tensor& q, const at::Tensor& k_cache,
                                   const at::Tensor& block_table, const at::Tensor& seqlens_k,
                                   const at::Tensor& metadata, const at::Tensor& num_splits, double softmax_scale,
                                   bool causal, int64_t deterministic_chunk_blocks, bool partials_in_input_dtype) {
  CHECK_ARG(q.is_cuda(), "q must be a CUDA tensor");
  CHECK_ARG(q.dim() == 4 && q.size(3) == kHeadDimQK, "q must be (batch, s_q, h_q, 576), got ", q.sizes());
  CHECK_ARG(k_cache.dim() == 4 && k_cache.size(3) == kHeadDimQK,
            "k_cache must be (num_blocks, page_block_size, h_kv, 576), got ", k_cache.sizes());
  CHECK_ARG(k_cache.dtype() == q.dtype(), "k_cache must have q's dtype");
  CHECK_ARG(q.stride(3) == 1 && k_cache.stride(3) == 1, "q and k_cache need a unit stride in the last dim");
  CHECK_ARG(block_table.dtype() == at::kInt && block_table.dim() == 2 && block_table.stride(1) == 1,
            "block_table must be a 2-D int32 tensor with unit stride in dim 1");
  CHECK_ARG(seqlens_k.dtype() == at::kInt && seqlens_k.dim() == 1 && seqlens_k.is_contiguous(),
            "cache_seqlens must be a contiguous 1-D int32 tensor");
  CHECK_ARG(metadata.dtype() == at::kInt && metadata.dim() == 2 && metadata.size(1) == kSchedulerMetadataInts &&
                metadata.is_contiguous(),
            "tile_scheduler_metadata must be (num_sm_parts, 8) int32");
  const int64_t batch = q.size(0), seqlen_q = q.size(1), num_heads_q = q.size(2);
  const int64_t num_heads_k = k_cache.size(2), page_block_size = k_cache.size(1);
  CHECK_ARG(num_heads_k >= 1 && num_heads_q % num_heads_k == 0, "h_q (", num_heads_q,
            ") must be a multiple of h_kv (", num_heads_k, ")");
  CHECK_ARG(page_block_size == 16 || page_block_size == 32 || page_block_size == 64,
            "page_block_size must be 16, 32 or 64, got ", page_block_size);
  CHECK_ARG(block_table.size(0) == batch && seqlens_k.size(0) == batch && num_splits.numel() == batch + 1,
            "block_table, cache_seqlens and num_splits must match q's batch size ", batch);
  for (const at::Tensor* t : {&k_cache, &block_table, &seqlens_k, &metadata, &num_splits}) {
    CHECK_ARG(t->device() == q.device(), "every tensor must be on q's device ", q.device());
  }

  CHECK_ARG(seqlen_q >= 1 && seqlen_q <= kMaxSeqlenQ, "q's s_q must be in [1, ", kMaxSeqlenQ, "] for a decode kernel, got ",
            seqlen_q);
  const int64_t heads_per_kv = num_heads_q / num_heads_k;
  const int64_t rows_per_kv = seqlen_q * heads_per_kv;
  const int64_t num_sm_parts = metadata.size(0);

  // Split slots: each part boundary adds at most one split; the deterministic mode splits every
  // sequence at fixed multiples of the chunk, so its bound comes from the block table's width.
  int64_t split_slots = batch + num_sm_parts;
  if (deterministic_chunk_blocks > 0) {
    const int64_t max_blocks = (block_table.size(1) * page_block_size + kScheduleBlockTokens - 1) / kScheduleBlockTokens;
    split_slots = batch * std::max<int64_t>(1, (max_blocks + deterministic_chunk_blocks - 1) / deterministic_chunk_blocks);
  }

  at::Tensor out = at::empty({batch, seqlen_q, num_heads_q, kHeadDimV}, q.options());
  at::Tensor lse = at::empty({batch, num_heads_q, seqlen_q}, q.options().dtype(at::kFloat));
  at::Tensor out_accum = at::empty({split_slots, num_heads_k, rows_per_kv, kHeadDimV},
                                   partials_in_input_dtype ? q.options() : q.options().dtype(at::kFloat));
  at::Tensor lse_accum = at::empty({split_slots, num_heads_k, rows_per_kv}, q.options().dtype(at::kFloat));

  DecodeLaunch launch{out, lse, out_accum, lse_accum, {}};
  DecodeParams& params = launch.params;
  params.batch = static_cast<int>(batch);
  params.seqlen_q = static_cast<int>(seqlen_q);
  params.num_heads_q = static_cast<int>(num_heads_q);
  params.num_heads_k = static_cast<int>(num_heads_k);
  params.heads_per_kv = static_cast<int>(heads_per_kv);
  params.rows_per_kv = static_cast<int>(rows_per_kv);
  params.page_block_size = static_cast<int>(page_block_size);
  params.num_sm_parts = static_cast<int>(num_sm_parts);
  params.deterministic_chunk_blocks = static_cast<int>(deterministic_chunk_blocks);
  params.is_causal = causal;
  params.softmax_scale = static_cast<float>(softmax_scale);
  params.softmax_scale_log2 = static_cast<float>(softmax_scale * M_LOG2E);
  params.q = q.data_ptr();
  params.q_batch_stride = q.stride(0);
  params.q_seq_stride = q.stride(1);
  params.q_head_stride = q.stride(2);
  params.k_cache = k_cache.data_ptr();
  params.k_block_stride = k_cache.stride(0);
  params.k_token_stride = k_cache.stride(1);
  params.k_head_stride = k_cache.stride(2);
  params.num_cache_blocks = static_cast<int>(k_cache.size(0));
  params.block_table = block_table.data_ptr<int>();
  params.block_table_batch_stride = block_table.stride(0);
  params.seqlens_k = seqlens_k.data_ptr<int>();
  params.out = out.data_ptr();
  params.out_batch_stride = out.stride(0);
  params.out_seq_stride = out.stride(1);
  params.out_head_stride = out.stride(2);
  params.lse = lse.data_ptr<float>();
  params.out_accum = out_accum.data_ptr();
  params.lse_accum = lse_accum.data_ptr<float>();
  params.scheduler_metadata = metadata.data_ptr<int>();
  params.num_splits_prefix = num_splits.data_ptr<int>();
  return launch;
}

}  // namespace flash_mla::api
