// `sbench street import`: street-level images (Mapillary) of the DHS clusters into a copy of a DHS
// store (the /street group, docs/street.md), from the released layout
// (mapillary/metadata/{CC}.csv, mapillary/imagery/{CC}/{DHSID_EA}/{id}.jpeg) or from a user's own
// images and metadata CSV, associated with the clusters by the release's rules (within 0.1 degree
// in latitude and longitude, within 3 years of the survey, at most 300 per cluster, nearest first).
#pragma once

#include <filesystem>
#include <string>

#include "sbench/core/progress.hpp"
#include "sbench/store/import.hpp"

namespace sbench::prepare {

struct StreetOptions {
  std::filesystem::path store;     // the DHS store: ids, lat, lon, year
  std::filesystem::path out;       // the store with /street
  std::filesystem::path from;      // the release's layout (mapillary/ or its parent)
  std::filesystem::path images;    // or own images: a folder ...
  std::filesystem::path metadata;  // ... and their metadata CSV
  int size = 256;                  // pixels per side of the stored square
  double radius_deg = 0.1;
  int years = 3;
  int max_per_cluster = 300;
  int threads = 0;
  ProgressFn progress;
};

// Counts: imported, broken_image (not a JPEG, truncated), image_without_metadata,
// metadata_without_image, unknown_cluster (a folder that is no example of the store),
// cluster_without_images (examples with none), outside_window (own images: no cluster within the
// radius and years), over_limit (own images past the 300 nearest of a cluster).
store::ImportReport import_street(const StreetOptions& options);

}  // namespace sbench::prepare
