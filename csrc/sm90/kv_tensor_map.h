// Host side: the TMA descriptor (CUtensorMap) of the paged KV cache, built per call.
//
// The cache (num_blocks, page_block_size, h_kv, 576) is described as a 4-D tensor
// {576 columns, h_kv, page_block_size, num_blocks} with its real strides, and one box is
// {64 columns, 1 head, page_block_size tokens, 1 block}: 128-byte rows, 128-byte swizzled, i.e. one
// 64-column chunk of a page in exactly the layout wgmma reads. A 64-token tile is 9 chunks x
// (64 / page_block_size) pages of boxes.
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

template <typename Element>
CUtensorMap make_kv_tensor_map(const DecodeParams& params, int box_cols) {
  static_assert(sizeof(Element) == 2, "bf16 or fp16");
  constexpr CUtensorMapDataType kType = std::is_same_v<Element, __half> ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
                                                                         : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
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
      CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (status != CUDA_SUCCESS) {
    throw std::invalid_argument("flash_mla.sm90: k_cache cannot be described to the TMA (cuTensorMapEncodeTiled error " +
                                std::to_string(int(status)) +
                                "); it needs a 16-byte aligned base and strides that are multiples of 8 elements");
  }
  return map;
}

}  // namespace flash_mla::sm90
