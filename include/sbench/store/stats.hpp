// Per-band statistics of a store's inputs over its train split (`sbench store stats`).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sbench/core/progress.hpp"

namespace sbench::store {

// A subset of examples with its own statistics, e.g. DMSP night lights (year <= 2011).
struct StatsGroup {
  std::string name;
  std::string meta;           // a scalar meta field
  std::optional<double> min;  // inclusive
  std::optional<double> max;  // inclusive
  std::optional<std::string> equals;
};

// Streams over the train split, one example at a time, and writes mean and (population) standard
// deviation per band of every input with a channel axis into /stats/<input>/<group>, for the
// group "all" and each given group. Non-finite values are left out. Returns the number of train
// examples read.
std::size_t compute_stats(const std::filesystem::path& store, const std::vector<StatsGroup>& groups,
                          const ProgressFn& progress = {});

}  // namespace sbench::store
