// LibTorch set-up. This header does not include LibTorch, so the CLI and other components
// can call it without paying for LibTorch's headers.
#pragma once

#include "sbench/core/sysinfo.hpp"

namespace sbench::learn {

// Sets LibTorch's intra-op thread count (LibTorch uses one thread unless told) and returns the
// count it then reports.
int configure_threads(int threads);
int intra_op_threads();
int inter_op_threads();

bool cuda_available();
int cuda_device_count();

// LibTorch version, CUDA availability and device count, thread counts.
DependencyInfo torch_info();

}  // namespace sbench::learn
