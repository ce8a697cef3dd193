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

// Launch `kernel` as a programmatic dependent of the work before it in `stream`: its CTAs may be scheduled
// while the preceding grid drains (or, if that grid executes griddepcontrol.launch_dependents, as soon as
// all its CTAs have), so the kernel must execute griddepcontrol.wait before it reads what that grid wrote
// or writes what it reads. An error is left for the caller's launch check, like a <<<>>> launch's.
template <typename... Params, typename... Args>
inline void launch_programmatic_dependent(void (*kernel)(Params...), dim3 grid, dim3 block, int smem_bytes,
                                          cudaStream_t stream, const Args&... args) {
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem_bytes;
  config.stream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  (void)cudaLaunchKernelEx(&config, kernel, args...);
}
}  // namespace flash_mla
