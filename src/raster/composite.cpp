#include "sbench/raster/composite.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sbench/core/error.hpp"

namespace sbench::raster {

Composite parse_composite(const std::string& name) {
  if (name == "median") return Composite::median;
  if (name == "mean") return Composite::mean;
  if (name == "first") return Composite::first;
  fail<UsageError>("unknown composite '{}' (valid: median, mean, first)", name);
}

WarpedTile composite(const std::vector<WarpedTile>& tiles, Composite mode) {
  if (tiles.empty()) fail<Error>("composite of no tile");
  WarpedTile out = tiles.front();
  for (const auto& t : tiles) {
    if (t.bands != out.bands || t.size != out.size) fail<Error>("composite of tiles of different shapes");
  }
  const std::size_t n = out.values.size();
  std::vector<float> stack;
  stack.reserve(tiles.size());
  for (std::size_t i = 0; i < n; ++i) {
    stack.clear();
    for (const auto& t : tiles) {
      if (std::isfinite(t.values[i])) stack.push_back(t.values[i]);
    }
    float v = std::numeric_limits<float>::quiet_NaN();
    if (!stack.empty()) {
      switch (mode) {
        case Composite::first: v = stack.front(); break;
        case Composite::mean: {
          double s = 0;
          for (float x : stack) s += x;
          v = static_cast<float>(s / static_cast<double>(stack.size()));
          break;
        }
        case Composite::median: {
          const std::size_t mid = stack.size() / 2;
          std::nth_element(stack.begin(), stack.begin() + static_cast<std::ptrdiff_t>(mid), stack.end());
          const double hi = stack[mid];
          if (stack.size() % 2 == 1) {
            v = static_cast<float>(hi);
          } else {
            const double lo = *std::max_element(stack.begin(), stack.begin() + static_cast<std::ptrdiff_t>(mid));
            v = static_cast<float>((lo + hi) / 2);
          }
          break;
        }
      }
    }
    out.values[i] = v;
  }
  const std::size_t plane = static_cast<std::size_t>(out.size) * static_cast<std::size_t>(out.size);
  std::size_t valid = 0;
  for (std::size_t p = 0; p < plane; ++p) {
    bool ok = true;
    for (int k = 0; k < out.bands && ok; ++k) ok = std::isfinite(out.values[static_cast<std::size_t>(k) * plane + p]);
    valid += ok;
  }
  out.valid_fraction = static_cast<double>(valid) / static_cast<double>(plane);
  return out;
}

bool scene_may_cover(const Scene& s, const TileGrid& grid) {
  const double half = grid.size * grid.res / 2 / 111320.0 * 1.5;
  const double dlon = half / std::max(0.01, std::cos(grid.lat * 3.14159265358979 / 180));
  return !(grid.lon + dlon < s.bounds[0] || grid.lon - dlon > s.bounds[2] || grid.lat + half < s.bounds[1] ||
           grid.lat - half > s.bounds[3]);
}

SceneTile tile_from_scenes(const std::vector<const Scene*>& scenes, const TileGrid& grid, const SceneReadOptions& read,
                           Composite mode, bool skip_unreadable) {
  SceneTile out;
  std::vector<WarpedTile> tiles;
  for (const Scene* s : scenes) {
    if (!scene_may_cover(*s, grid)) continue;
    WarpedTile t;
    try {
      t = read_scene(*s, grid, read);
    } catch (const InputError& e) {
      if (!skip_unreadable) throw;
      out.unreadable.push_back(e.what());
      continue;
    }
    if (t.valid_fraction > 0) tiles.push_back(std::move(t));
  }
  out.scenes = static_cast<int>(tiles.size());
  if (tiles.size() == 1) {
    out.tile = std::move(tiles.front());
  } else if (!tiles.empty()) {
    out.tile = composite(tiles, mode);
  }
  return out;
}

TimeStack stack_tiles(const std::vector<WarpedTile>& tiles, const std::vector<std::string>& dates) {
  if (tiles.size() != dates.size()) fail<InputError>("{} tiles but {} dates", tiles.size(), dates.size());
  TimeStack s;
  if (tiles.empty()) return s;
  std::vector<std::size_t> order(tiles.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return dates[a] < dates[b]; });
  s.bands = tiles.front().bands;
  s.size = tiles.front().size;
  s.steps = static_cast<int>(tiles.size());
  s.descriptions = tiles.front().descriptions;
  const std::size_t plane = static_cast<std::size_t>(s.size) * static_cast<std::size_t>(s.size);
  s.values.resize(static_cast<std::size_t>(s.bands) * tiles.size() * plane);
  for (std::size_t t = 0; t < order.size(); ++t) {
    const WarpedTile& w = tiles[order[t]];
    if (w.bands != s.bands || w.size != s.size) {
      fail<InputError>("step {} ({}): {} band(s) of {} px, the first step has {} of {} px", t, dates[order[t]], w.bands,
                       w.size, s.bands, s.size);
    }
    s.dates.push_back(dates[order[t]]);
    for (int c = 0; c < s.bands; ++c) {
      std::copy(
          w.values.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(c) * plane),
          w.values.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(c + 1) * plane),
          s.values.begin() + static_cast<std::ptrdiff_t>((static_cast<std::size_t>(c) * tiles.size() + t) * plane));
    }
  }
  return s;
}

}  // namespace sbench::raster
