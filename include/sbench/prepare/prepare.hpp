// `sbench prepare`: task stores built from raw imagery (DESIGN.md: prepare; docs/prepare.md).
// Streaming (examples are appended as they are cut, a fixed number in flight), resumable after a
// crash (the store's journal), and shardable: --shard K/N prepares a deterministic block of the
// label rows, and `sbench store merge` joins the N shard stores into the store one run makes.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sbench/core/progress.hpp"
#include "sbench/core/tasks.hpp"
#include "sbench/store/import.hpp"
#include "sbench/store/schema.hpp"

namespace sbench::prepare {

struct PrepareOptions {
  // The label file: dhs_final_labels.csv (DHS tasks), the LSMS pairs file (poverty_change), the
  // Cropland Data Layer raster (cropland).
  std::string labels;
  std::vector<std::string> imagery;  // scene folders or files, scanned for scenes
  std::string catalog;               // or a catalog from `sbench catalog build`
  std::filesystem::path out;         // STORE.h5
  int shard = 0, shards = 1;         // --shard K/N
  bool resume = false;
  int threads = 0;             // 0 = every available core
  int year = 0;                // the composite's year where a task has one (cropland: 2017); 0 = the default
  std::string region;          // brick_kiln: the polygon to tile (any OGR vector file)
  std::string start, end;      // brick_kiln: the season, YYYY-MM-DD; empty = the release's
  int sample = 0;              // field_delineation: parcels to centre tiles on (0 = 2000, the release's);
                               // land_cover_ood: points per region (0 = 500); land_cover_rep: tiles (0 = all)
  int triplets = 0;            // land_cover_rep: Tile2Vec triplets instead of the grid's tiles (0 = none)
  bool indices = false;        // crop_type_africa: also NDVI and GCVI of the S2 and PlanetScope series
  bool planet_native = false;  // crop_type_africa: also PlanetScope at 3 m (212 x 212, the release's crop)
  store::Layout layout = store::Layout::archive;
  std::string command_line;
  ProgressFn progress;
};

// Parses "K/N" (0 <= K < N); anything else is a UsageError.
std::pair<int, int> parse_shard(const std::string& text);

// The rows [first, last) of `rows` that shard K of N takes: contiguous blocks in file order, so
// the shards' stores concatenate to the single run's.
std::pair<std::size_t, std::size_t> shard_rows(std::size_t rows, int shard, int shards);

// Families `prepare` builds so far.
std::vector<std::string> preparable_families();

// Builds the store of the task's family. The report's counts are the statuses of every label row
// of the shard ("processed" for a written cluster, "resumed" not distinguished); it is also stored
// as the root attribute prepare_report.
store::ImportReport prepare_task(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& options);

}  // namespace sbench::prepare
