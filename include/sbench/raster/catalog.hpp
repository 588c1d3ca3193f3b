// The scene catalog: the scenes found under some directories (sensor, product, date, footprint,
// CRS, band files), the files that were not recognised with the reason, and queries by point or
// box and date window. Stored as JSON (docs/raster.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sbench/raster/scene.hpp"

namespace sbench::raster {

struct Catalog {
  std::vector<Scene> scenes;
  std::vector<Unrecognised> unrecognised;
};

Catalog build_catalog(const std::vector<std::string>& paths, const std::string& sensor = "auto");
void write_catalog(const std::string& path, const Catalog& catalog);  // through NAME.partial
Catalog read_catalog(const std::string& path);                        // a malformed file is a FormatError naming it

struct SceneQuery {
  std::optional<std::array<double, 4>> box;  // west, south, east north (a point: west = east)
  std::string start, end;                    // YYYY-MM-DD, inclusive; "" = open
  std::string sensor;                        // "" or "auto" = any
};

// Scenes whose footprint meets the box and whose period meets the date window, by date.
std::vector<const Scene*> query_catalog(const Catalog& catalog, const SceneQuery& query);

// A YYYY-MM-DD date, or a UsageError naming the option.
std::string check_date(const std::string& date, const std::string& option);

}  // namespace sbench::raster
