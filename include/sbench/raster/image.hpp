// Reading small images (JPEG, PNG, GeoTIFF, anything GDAL opens) as 8-bit arrays.
#pragma once

#include <filesystem>

#include "sbench/core/npy.hpp"

namespace sbench::raster {

// Every band of an image as a uint8 (bands, height, width) array, through GDAL. A file GDAL cannot
// open or decode completely (a truncated JPEG included) is an InputError naming it. Thread-safe:
// each call opens its own dataset.
NpyArray read_image_u8(const std::filesystem::path& path);

}  // namespace sbench::raster
