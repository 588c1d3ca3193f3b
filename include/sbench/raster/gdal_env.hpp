// GDAL set-up shared by everything that reads or writes rasters.
#pragma once

#include <cstddef>
#include <vector>

#include "sbench/core/sysinfo.hpp"

namespace sbench::raster {

// Registers GDAL's drivers (once), routes GDAL's messages to sbench's log (warnings as
// warnings, debug output as trace) and, when cache_mb > 0, caps GDAL's block cache.
void init_gdal(std::size_t cache_mb = 0);

// GDAL's block cache cap in bytes.
std::size_t gdal_cache_bytes();

// GDAL (with its driver count) and PROJ versions.
std::vector<DependencyInfo> gdal_info();

}  // namespace sbench::raster
