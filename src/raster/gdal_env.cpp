#include "sbench/raster/gdal_env.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <fmt/format.h>
#include <gdal.h>
#include <proj.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace sbench::raster {

namespace {
void log_gdal_message(CPLErr level, CPLErrorNum code, const char* message) {
  switch (level) {
    case CE_Debug: spdlog::trace("GDAL: {}", message); break;
    case CE_Warning: spdlog::warn("GDAL: {}", message); break;
    case CE_None: break;
    default:
      // Failures are also returned to the caller, which reports them with context.
      spdlog::debug("GDAL error {}: {}", static_cast<int>(code), message);
      break;
  }
}
}  // namespace

void init_gdal(std::size_t cache_mb) {
  static std::once_flag once;
  std::call_once(once, [] {
    GDALAllRegister();
    CPLSetErrorHandler(log_gdal_message);
  });
  if (cache_mb > 0) GDALSetCacheMax64(static_cast<GIntBig>(cache_mb) * 1024 * 1024);
}

std::size_t gdal_cache_bytes() {
  return static_cast<std::size_t>(GDALGetCacheMax64());
}

std::vector<DependencyInfo> gdal_info() {
  init_gdal();
  const PJ_INFO proj = proj_info();
  return {
      {"GDAL", GDAL_RELEASE_NAME, GDALVersionInfo("RELEASE_NAME"),
       fmt::format("{} drivers, block cache {} MiB", GDALGetDriverCount(), gdal_cache_bytes() / (1024 * 1024))},
      {"PROJ", fmt::format("{}.{}.{}", PROJ_VERSION_MAJOR, PROJ_VERSION_MINOR, PROJ_VERSION_PATCH), proj.version, ""},
  };
}

}  // namespace sbench::raster
