// Host side: the TMA descriptors (CUtensorMap) of the paged KV cache and of Q, built per call.
//
// The cache (num_blocks, page_block_size, h_kv, 576) is described as a 4-D tensor
// {576 columns, h_kv, page_block_size, num_blocks} with its real strides, and one box is
// {64 columns, 1 head, page_block_size tokens, 1 block}: 128-byte rows, 128-byte swizzled, i.e. one
// 64-column chunk of a page in exactly the layout wgmma reads. A 64-token tile is 9 chunks x
// (64 / page_block_size) pages of boxes.
//
// L2 promotion 128 bytes, a box row (as CuTe's TMA copies default to). With 256 bytes, 1.23x the read
// requests reached L2's tag lookup and hit there (where at 128 the other m_block CTA's request for a line
// joins the pending miss), and the far L2 partition moved 1.46x the sectors: 4096/128/1 under ncu, 40.6 M
// L2 sectors against 31.2 M (upstream 30.2 M), the same DRAM bytes, kernel time and benchmark times
// (runs 159-161 in benchmarks/NOTES.md).
//
// cuTensorMapEncodeTiled is a driver function. It is looked up through the runtime
// (cudaGetDriverEntryPoint*), so the extension does not link libcuda and imports on a machine
// without a driver.
#pragma once

#include <cuda.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "../common/decode_params.h"

namespace flash_mla::sm90 {

// cuTensorMapEncodeTiled's signature (CUDA 12.0 ABI).
using TensorMapEncodeTiled = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                                          const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                                          CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

inline TensorMapEncodeTiled tensor_map_encoder() {
  static TensorMapEncodeTiled encode = [] {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
#if CUDART_VERSION >= 12050
    const cudaError_t status =
        cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &found);
#else
    const cudaError_t status = cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &fn, cudaEnableDefault, &found);
#endif
    if (status != cudaSuccess || found != cudaDriverEntryPointSuccess || fn == nullptr) {
      throw std::runtime_error("flash_mla.sm90: the CUDA driver has no cuTensorMapEncodeTiled (needs CUDA 12+)");
    }
    return reinterpret_cast<TensorMapEncodeTiled>(fn);
  }();
  return encode;
}

// The TMA element type of bf16 or fp16.
template <typename Element>
constexpr CUtensorMapDataType tensor_map_data_type() {
  static_assert(sizeof(Element) == 2, "bf16 or fp16");
  return std::is_same_v<Element, __half> ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
}

template <typename Element>
CUtensorMap make_kv_tensor_map(const DecodeParams& params, int box_cols) {
  constexpr CUtensorMapDataType kType = tensor_map_data_type<Element>();
  const cuuint64_t dims[4] = {cuuint64_t(kHeadDimQK), cuuint64_t(params.num_heads_k),
                              cuuint64_t(params.page_block_size), cuuint64_t(params.num_cache_blocks)};
  const cuuint64_t strides_bytes[3] = {cuuint64_t(params.k_head_stride) * sizeof(Element),
                                       cuuint64_t(params.k_token_stride) * sizeof(Element),
                                       cuuint64_t(params.k_block_stride) * sizeof(Element)};
  const cuuint32_t box[4] = {cuuint32_t(box_cols), 1u, cuuint32_t(params.page_block_size), 1u};
  const cuuint32_t element_strides[4] = {1u, 1u, 1u, 1u};
  CUtensorMap map;
  const CUresult status = tensor_map_encoder()(
      &map, kType, 4, const_cast<void*>(params.k_cache), dims, strides_bytes, box, element_strides,
      CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (status != CUDA_SUCCESS) {
    throw std::invalid_argument("flash_mla.sm90: k_cache cannot be described to the TMA (cuTensorMapEncodeTiled error " +
                                std::to_string(int(status)) +
                                "); it needs a 16-byte aligned base and strides that are multiples of 8 elements");
  }
  return map;
}

// Q (b, s_q, h_q, 576) as a 5-D tensor {576 columns, heads_per_kv, h_kv, s_q, b} with its real strides, and
// one box {64 columns, box_rows heads, 1, 1, 1}: a 64-column chunk of box_rows query rows of one KV head in
// wgmma's 128-byte swizzled layout, rows past heads_per_kv zero-filled. An m_block's rows (s, head) are one
// box a chunk when its rows stay within one s: s_q == 1, or heads_per_kv a multiple of box_rows. Returns
// false for other shapes, or strides the TMA cannot take; the kernel then copies Q with cp.async.
template <typename Element>
bool make_q_tensor_map(const DecodeParams& params, int box_rows, int box_cols, CUtensorMap& map) {
  if (!(params.seqlen_q == 1 || params.heads_per_kv % box_rows == 0)) return false;
  const auto bytes = [](int64_t elements) { return cuuint64_t(elements) * sizeof(Element); };
  if (reinterpret_cast<uintptr_t>(params.q) % 16 != 0 || bytes(params.q_head_stride) % 16 != 0 ||
      bytes(params.q_seq_stride) % 16 != 0 || bytes(params.q_batch_stride) % 16 != 0) {
    return false;
  }
  constexpr CUtensorMapDataType kType = tensor_map_data_type<Element>();
  const cuuint64_t dims[5] = {cuuint64_t(kHeadDimQK), cuuint64_t(params.heads_per_kv), cuuint64_t(params.num_heads_k),
                              cuuint64_t(params.seqlen_q), cuuint64_t(params.batch)};
  const cuuint64_t strides_bytes[4] = {bytes(params.q_head_stride), bytes(int64_t(params.heads_per_kv) * params.q_head_stride),
                                       bytes(params.q_seq_stride), bytes(params.q_batch_stride)};
  const cuuint32_t box[5] = {cuuint32_t(box_cols), cuuint32_t(box_rows), 1u, 1u, 1u};
  const cuuint32_t element_strides[5] = {1u, 1u, 1u, 1u, 1u};
  return tensor_map_encoder()(&map, kType, 5, const_cast<void*>(params.q), dims, strides_bytes, box, element_strides,
                              CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                              CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

}  // namespace flash_mla::sm90
