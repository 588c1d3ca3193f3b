// The LSMS panel labels of poverty_change (SUSTAINBENCH.md 2.B), shared by `sbench import` and
// `sbench prepare`: the pairs file asset_infrstructure_indicies_lsms_over_time.csv and, for the
// coordinates, the static file asset_infrstructure_indicies_lsms.csv.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "sbench/core/tasks.hpp"
#include "sbench/store/schema.hpp"

namespace sbench::store {

struct LsmsPair {
  std::string country, ea;
  std::int64_t year_x = 0, year_y = 0;
  double index_diff = 0, diff_index = 0, n = 0;
  // From the static file (the first survey year's row); NaN when absent.
  double lat = std::numeric_limits<double>::quiet_NaN(), lon = std::numeric_limits<double>::quiet_NaN();
  std::size_t line = 0;
  std::string id() const;  // country-ea-year.x-year.y
};

// The pairs, in file order, with coordinates from coords_path (empty path: none). Missing columns,
// duplicate pairs and values that are not numbers are InputErrors naming the file and line.
std::vector<LsmsPair> read_lsms_pairs(const std::filesystem::path& pairs_path,
                                      const std::filesystem::path& coords_path);

// Fills every field but the two tiles: id, split (the card's seeded random rule), targets, meta.
void fill_lsms_example(Example& example, const LsmsPair& pair, const TaskCard& task);

}  // namespace sbench::store
