#pragma once

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
