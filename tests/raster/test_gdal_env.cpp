#include <gtest/gtest.h>

#include "sbench/raster/gdal_env.hpp"

namespace sbench::raster {
namespace {

TEST(GdalEnv, CacheCapAndVersions) {
  init_gdal(64);
  EXPECT_EQ(gdal_cache_bytes(), 64u * 1024 * 1024);
  const auto info = gdal_info();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info[0].name, "GDAL");
  EXPECT_EQ(info[0].runtime, info[0].compiled);
  EXPECT_NE(info[0].notes.find("block cache 64 MiB"), std::string::npos) << info[0].notes;
  EXPECT_EQ(info[1].name, "PROJ");
  EXPECT_EQ(info[1].runtime, info[1].compiled);
}

}  // namespace
}  // namespace sbench::raster
