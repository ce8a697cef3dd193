#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

// Host-side check for CUDA runtime calls. The torch glue turns launch errors into Python exceptions
// through C10_CUDA_KERNEL_LAUNCH_CHECK; this macro is for code that must not depend on torch.
#define FLASH_MLA_CUDA_CHECK(expr)                                                         \
  do {                                                                                     \
    cudaError_t flash_mla_status_ = (expr);                                                \
    if (flash_mla_status_ != cudaSuccess) {                                                \
      std::fprintf(stderr, "flash_mla: CUDA error %s at %s:%d: %s\n",                       \
                   cudaGetErrorName(flash_mla_status_), __FILE__, __LINE__,                 \
                   cudaGetErrorString(flash_mla_status_));                                 \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

// CTAs of `kernel` (threads, dynamic shared memory) that fit on one SM of the current device, after
// raising its dynamic shared-memory limit. Shared by every kernel family's launcher.
namespace flash_mla {
template <typename Kernel>
inline int max_ctas_per_sm(Kernel kernel, int threads, int smem_bytes) {
  FLASH_MLA_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_bytes));
  int ctas = 0;
  FLASH_MLA_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&ctas, kernel, threads, smem_bytes));
  return ctas;
}

// Raise `kernel`'s dynamic shared-memory limit on the current device, once per device: `done_devices`
// (one static per kernel, in its launcher) has a bit per device index below 64 that has it already.
// Calling cudaFuncSetAttribute on every launch costs host time inside every timed call.
template <typename Kernel>
inline void raise_dynamic_smem_once(Kernel kernel, int smem_bytes, std::atomic<uint64_t>& done_devices) {
  int device = 0;
  FLASH_MLA_CUDA_CHECK(cudaGetDevice(&device));
  const uint64_t bit = device < 64 ? uint64_t(1) << device : 0;
  if (bit != 0 && (done_devices.load(std::memory_order_acquire) & bit)) return;
  FLASH_MLA_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_bytes));
  done_devices.fetch_or(bit, std::memory_order_release);
}
}  // namespace flash_mla
