#include <gtest/gtest.h>
#include <hdf5.h>

#include "sbench/store/hdf5_env.hpp"

namespace sbench::store {
namespace {

TEST(Hdf5Env, VersionsMatchTheLinkedLibrary) {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  const auto info = hdf5_info();
  EXPECT_EQ(info.name, "HDF5");
  EXPECT_EQ(info.runtime, std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
  EXPECT_EQ(info.compiled, info.runtime);
}

TEST(Hdf5Env, ErrorStackIsCollectedInsteadOfPrinted) {
  init_hdf5();
  H5Eclear2(H5E_DEFAULT);
  EXPECT_EQ(hdf5_error_stack(), "");
  const hid_t f = H5Fopen("/nonexistent/store.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_LT(f, 0);
  const std::string stack = hdf5_error_stack();
  EXPECT_NE(stack.find("unable to open file"), std::string::npos) << stack;
}

}  // namespace
}  // namespace sbench::store
