// What the HDF-EOS2 and HDF-EOS5 writers share (internal to src/raster).
#pragma once

#include <cmath>
#include <filesystem>
#include <vector>

#include "sbench/core/error.hpp"
#include "sbench/raster/eos.hpp"

namespace sbench::raster::eos_detail {

// Every field holds xdim * ydim values; returns that count.
inline std::size_t check_field_sizes(const std::filesystem::path& path, const EosGrid& grid,
                                     const std::vector<EosField>& fields) {
  const std::size_t n = static_cast<std::size_t>(grid.xdim) * static_cast<std::size_t>(grid.ydim);
  for (const auto& f : fields) {
    if (f.values.size() != n) {
      fail<UsageError>("{}: field {} has {} values, the grid {} x {}", path.string(), f.name, f.values.size(),
                       grid.xdim, grid.ydim);
    }
  }
  return n;
}

// A field's values rounded to its storage type.
template <typename T>
std::vector<T> rounded(const EosField& f) {
  std::vector<T> out(f.values.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(std::lround(f.values[i]));
  return out;
}

}  // namespace sbench::raster::eos_detail
