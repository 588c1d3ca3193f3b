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

}  // namespace sbench::raster
