// Scenes: the files of one product of a sensor, resolved to the profile's bands, with date,
// footprint and CRS; reading a scene's bands onto a tile grid with scaling and QA masking.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sbench/raster/sensor.hpp"
#include "sbench/raster/warp.hpp"

namespace sbench::raster {

struct SceneBand {
  std::string name;
  std::string source;  // a file, or a GDAL subdataset name
  int index = 1;       // band in the source
  Quantity quantity = Quantity::dn;
  double scale = 1, offset = 0;  // physical = raw * scale + offset (from the profile or the MTL)
  double k1 = 0, k2 = 0;         // Level-1 thermal: brightness temperature K2 / ln(K1 / L + 1)
  double valid_min = 0, valid_max = 0, clamp_min = 0, clamp_max = 0;
  std::optional<double> nodata;
  std::vector<QaRule> mask;  // QA bands only
};

struct Scene {
  std::string sensor;
  std::string product;
  std::string date;                // YYYY-MM-DD of the acquisition (or the period's start), "" when unknown
  std::string date_end;            // the period's last day (annual and monthly composites), else = date
  std::vector<SceneBand> bands;    // one per band name the files provide, in profile order; QA last
  std::string crs;                 // authority code (EPSG:32632) or the WKT when there is none
  std::array<double, 4> bounds{};  // lon/lat box: west, south, east, north
  std::vector<std::string> files;

  const SceneBand* find(const std::string& name) const;
  const SceneBand* qa() const { return find("QA"); }
  std::vector<std::string> band_names() const;  // without QA
};

// A file the scanner could not use, and why.
struct Unrecognised {
  std::string path;
  std::string reason;
};

// Recognises the scenes under `paths` (files or directories, walked recursively). With sensor
// "auto", each file is matched against every profile's name pattern; otherwise only against that
// profile (and "generic" takes any raster GDAL opens). Band files of one product are grouped;
// files that match nothing, that GDAL cannot open, or that have no CRS are listed in `skipped`.
std::vector<Scene> scan_scenes(const std::vector<std::string>& paths, const std::string& sensor,
                               std::vector<Unrecognised>* skipped = nullptr);

// The scene of one file (or SAFE / product directory): like scan_scenes on the files beside it,
// keeping the product `path` belongs to. An InputError names the file when it is not a scene.
Scene open_scene(const std::string& path, const std::string& sensor);

// Key = value pairs of a Landsat MTL file (groups flattened, quotes removed). A missing or
// unreadable file is an InputError naming it.
std::map<std::string, std::string> read_mtl(const std::string& path);

// Top-of-atmosphere reflectance factors of Level-1 band `band` (mission 5, 7, 8, 9): from
// REFLECTANCE_MULT/ADD_BAND_n divided by the sine of the sun elevation, or, for MTL files without
// them, from radiance with the ESUN table (Chander et al. 2009) and the Earth-Sun distance of the
// day of year.
std::pair<double, double> landsat_toa_reflectance(const std::map<std::string, std::string>& mtl, int mission, int band,
                                                  const std::string& mtl_path);

struct SceneReadOptions {
  std::vector<std::string> bands;  // band names; empty = every band but QA
  // For continuous bands; empty = bilinear, or average when the grid's pixels are at least twice
  // the band's native size. QA and class bands always use nearest.
  std::optional<Resampling> resampling;
  bool apply_mask = true;  // QA rules set every band of a masked pixel to NaN
  double error_threshold = 0.125;
};

// Reads bands of a scene onto the grid: warped raw values (the profile's nodata honoured), valid
// range, scale and offset (or brightness temperature), clamp, then the QA mask. Derived bands
// VV_DB, VH_DB, RATIO (Sentinel-1) are computed from VV and VH. An unknown band name is an
// InputError listing the scene's bands.
WarpedTile read_scene(const Scene& scene, const TileGrid& grid, const SceneReadOptions& options);

}  // namespace sbench::raster
