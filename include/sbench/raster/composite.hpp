// Per-pixel compositing of tiles of the same grid (several scenes of a date window).
#pragma once

#include <string>
#include <vector>

#include "sbench/raster/warp.hpp"

namespace sbench::raster {

enum class Composite { median, mean, first };
Composite parse_composite(const std::string& name);  // median, mean, first

// Combines, for every band and pixel, the values of the tiles that have one (NaN = none): the
// median (the mean of the two middle values for an even count, as numpy's nanmedian), the mean,
// or the first valid value in the order given. A pixel no tile covers stays NaN.
WarpedTile composite(const std::vector<WarpedTile>& tiles, Composite mode);

// A time series of tiles of one grid: values C x T x H x W (band-major, as the crop-type release
// stores (C, H, W, T) after a transpose), with the date of every step.
struct TimeStack {
  int bands = 0, steps = 0, size = 0;
  std::vector<float> values;
  std::vector<std::string> dates;
  std::vector<std::string> descriptions;
};

// Stacks tiles (all with the same bands and size) in date order; a size or band mismatch is an
// InputError naming the step.
TimeStack stack_tiles(const std::vector<WarpedTile>& tiles, const std::vector<std::string>& dates);

}  // namespace sbench::raster
