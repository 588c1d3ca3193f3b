// Warping one raster (any file GDAL opens) onto a tile grid with GDAL's warper.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "sbench/raster/grid.hpp"

namespace sbench::raster {

enum class Resampling { nearest, bilinear, cubic, average };
Resampling parse_resampling(const std::string& name);  // nearest, bilinear, cubic, average

struct WarpOptions {
  std::vector<int> bands;  // 1-based band indices; empty = every band
  Resampling resampling = Resampling::bilinear;
  // Error the approximate transformer may make, in source pixels: 0.125 as gdalwarp; 0 transforms
  // every pixel exactly through PROJ.
  double error_threshold = 0.125;
  std::optional<double> src_nodata;  // overrides the file's nodata value
  bool force_warp = false;           // warp even when the source grid is the tile grid
};

struct WarpedTile {
  int bands = 0;
  int size = 0;
  std::vector<float> values;  // bands x size x size, rows as the grid says; NaN where no source pixel
  std::vector<std::string> descriptions;
  double valid_fraction = 0;  // share of pixels with a value in every band
};

// Warps `path` onto the grid. A file that GDAL cannot open, without a CRS, or without the asked
// bands is an InputError naming it. When the source grid equals the tile grid, pixels are read
// without resampling.
WarpedTile warp_to_grid(const std::string& path, const TileGrid& grid, const WarpOptions& options = {});

// How tiles were made so far in this process: window reads (the source grid is the tile grid),
// sbench's nearest/bilinear kernels, GDAL's warper (cubic, average, bilinear downsampling).
struct WarpCounts {
  std::size_t window = 0, direct = 0, gdal = 0;
};
WarpCounts warp_counts();

// Share of pixels with a finite value in every band.
double valid_fraction(const WarpedTile& tile);

// Writes a tile as a float32 GeoTIFF (north-up, NaN nodata, band descriptions), through
// NAME.partial and a rename.
void write_geotiff(const std::string& path, const WarpedTile& tile, const TileGrid& grid);

// Closes every file warp_to_grid keeps open (each thread's handles and the shared ones), as a run
// ends: some drivers (HDF4) free their per-file state only when their files are closed. Call it
// only when no thread is reading.
void close_cached_datasets();

}  // namespace sbench::raster
