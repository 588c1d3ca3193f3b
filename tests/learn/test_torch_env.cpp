#include <gtest/gtest.h>

#include "sbench/learn/torch_env.hpp"

namespace sbench::learn {
namespace {

TEST(TorchEnv, ThreadsAreWhatWasSet) {
  EXPECT_EQ(configure_threads(1), 1);
  EXPECT_EQ(intra_op_threads(), 1);
  EXPECT_EQ(configure_threads(2), 2);
  EXPECT_EQ(configure_threads(0), 2) << "0 leaves the count unchanged";
}

TEST(TorchEnv, InfoNamesVersionAndCuda) {
  const auto info = torch_info();
  EXPECT_EQ(info.name, "LibTorch");
  EXPECT_EQ(info.compiled.substr(0, 5), "1.13.");
  EXPECT_NE(info.notes.find(cuda_available() ? "CUDA available" : "CUDA not available"), std::string::npos);
  EXPECT_EQ(cuda_available(), cuda_device_count() > 0);
}

}  // namespace
}  // namespace sbench::learn
