// Reading small images (JPEG, PNG, GeoTIFF, anything GDAL opens) as 8-bit arrays.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "sbench/core/npy.hpp"

namespace sbench::raster {

// Every band of an image as a uint8 (bands, height, width) array, through GDAL. A file GDAL cannot
// open or decode completely (a truncated JPEG included) is an InputError naming it. Thread-safe:
// each call opens its own dataset.
NpyArray read_image_u8(const std::filesystem::path& path);

// A street-level photo as 3 x size x size uint8 (R, G, B; a grey image repeated): the centred
// square of the short side, averaged down (or bilinearly up) to size x size, decoded and resized in
// one GDAL read (the JPEG driver decodes at a reduced scale where it can). A file that is not a
// JPEG, cannot be opened or does not decode completely (a truncated JPEG) is an InputError naming
// it. Thread-safe.
std::vector<std::uint8_t> read_photo_square(const std::filesystem::path& path, int size);

}  // namespace sbench::raster
