// Per-pixel compositing of tiles of the same grid (several scenes of a date window).
#pragma once

#include <string>
#include <vector>

#include "sbench/raster/scene.hpp"
#include "sbench/raster/warp.hpp"

namespace sbench::raster {

enum class Composite { median, mean, first };
Composite parse_composite(const std::string& name);  // median, mean, first

// Combines, for every band and pixel, the values of the tiles that have one (NaN = none): the
// median (the mean of the two middle values for an even count, as numpy's nanmedian), the mean,
// or the first valid value in the order given. A pixel no tile covers stays NaN.
WarpedTile composite(const std::vector<WarpedTile>& tiles, Composite mode);

// The tile of one grid made from scenes: every scene whose footprint may meet the grid is read
// (read_scene) and the tiles with any valid pixel are composited (one tile is kept as is). This is
// the one code path of `sbench tile` and `sbench prepare`.
struct SceneTile {
  WarpedTile tile;  // empty (bands = 0) when no scene gave a valid pixel
  int scenes = 0;   // scenes that gave valid pixels
  // Scenes that could not be read (path: reason), when skip_unreadable is set; otherwise the first
  // unreadable scene's InputError propagates.
  std::vector<std::string> unreadable;
};
SceneTile tile_from_scenes(const std::vector<const Scene*>& scenes, const TileGrid& grid, const SceneReadOptions& read,
                           Composite mode, bool skip_unreadable = false);

// Whether a scene's lon/lat footprint may meet the grid (its box widened by half, so that a
// projected tile's corners are never missed).
bool scene_may_cover(const Scene& scene, const TileGrid& grid);

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
