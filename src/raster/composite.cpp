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

}  // namespace sbench::raster
