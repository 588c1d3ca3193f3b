// The DHS cluster labels (dhs_final_labels.csv, SUSTAINBENCH.md 2.A), shared by `sbench import`
// (the released tiles) and `sbench prepare` (tiles cut from raw imagery): one store holds the six
// DHS targets, the count columns present, and the cluster's meta fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sbench/core/tasks.hpp"
#include "sbench/store/schema.hpp"

namespace sbench::store {

struct DhsCluster {
  std::string id;       // DHSID_EA
  std::string country;  // the id's DHS country code (never an ISO code)
  std::string survey;   // the id's first 10 characters
  std::int64_t year = 0;
  double lat = 0, lon = 0;
  int urban = -1;              // 1 urban, 0 rural, -1 unknown
  std::vector<double> labels;  // one per target field
  std::vector<double> counts;  // one per count column present
  std::size_t line = 0;        // line in the CSV
  // Why the row is dropped before any imagery is read, as upstream: "no_location" (no
  // coordinates or (0, 0)) or "missing_labels" (no label at all); empty for a kept cluster.
  std::string drop;
};

struct DhsLabels {
  std::string path;
  std::vector<std::string> target_fields;  // store target names
  std::vector<std::string> count_fields;   // count columns present (n_asset, ...)
  std::vector<DhsCluster> rows;            // every row, in file order, dropped ones included
};

// Reads the labels. Missing columns (DHSID_EA, year, lat, lon, a target column), malformed ids,
// duplicate ids and values that are not numbers are InputErrors naming the file, line and column.
DhsLabels read_dhs_labels(const std::string& path, const TaskCard& task, const TaskRegistry& registry);

// The store schema of a DHS store with these labels: the card's fields plus the count columns.
Schema dhs_schema(const TaskCard& task, const TaskRegistry& registry, const DhsLabels& labels);

// Fills every field of the example but the inputs: id, split (by the DHS country code), targets,
// counts, country, survey, year, lat, lon, urban and nl_sensor (DMSP up to 2011, VIIRS from 2012).
void fill_dhs_example(Example& example, const DhsCluster& cluster, const DhsLabels& labels, const TaskCard& task);

}  // namespace sbench::store
