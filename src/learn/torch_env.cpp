#include "sbench/learn/torch_env.hpp"

#include <fmt/format.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace sbench::learn {

int configure_threads(int threads) {
  if (threads > 0) at::set_num_threads(threads);
  return at::get_num_threads();
}

int intra_op_threads() {
  return at::get_num_threads();
}
int inter_op_threads() {
  return at::get_num_interop_threads();
}

bool cuda_available() {
  return torch::cuda::is_available();
}
int cuda_device_count() {
  return static_cast<int>(torch::cuda::device_count());
}

DependencyInfo torch_info() {
  const bool cuda = cuda_available();
  std::string notes = cuda ? fmt::format("CUDA available, {} device(s)", cuda_device_count()) : "CUDA not available";
  notes += fmt::format("; threads: intra-op {}, inter-op {}", intra_op_threads(), inter_op_threads());
  // LibTorch has no run-time version query; the headers are those of the linked library.
  return {"LibTorch", TORCH_VERSION, "", notes};
}

}  // namespace sbench::learn
