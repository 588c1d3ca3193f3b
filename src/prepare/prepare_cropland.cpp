// Weakly supervised cropland (SUSTAINBENCH.md 2.C): 50 x 50 tiles of 30 m over the extent of a
// Cropland Data Layer raster, in the UTM zone of its centre, on the Landsat grid; the input is the
// per-pixel median of the year's Landsat 8 surface reflectance (QA-masked), 7 bands; the dense
// label is the CDL's crop classes, and the two weak labels derive from it: one labelled pixel and
// the image-level majority.
#include <fmt/format.h>
#include <gdal.h>
#include <ogr_spatialref.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "prepare_common.hpp"
#include "sbench/core/error.hpp"
#include "sbench/core/hash.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/scene.hpp"
#include "sbench/raster/warp.hpp"
#include "sbench/store/store.hpp"

namespace sbench::prepare {

namespace {

constexpr int kSize = 50;
constexpr double kRes = 30;

bool is_landsat8_sr(const std::string& sensor) {
  return sensor == "landsat8_c1_sr" || sensor == "landsat8_c2_l2" || sensor == "landsat9_c2_l2";
}

struct CropTile {
  std::string id;
  double cx = 0, cy = 0;  // centre, UTM metres
  std::uint8_t split = store::kNoSplit;
};

// The tiles whose four corners fall inside the CDL raster, rows from the north, on a grid of
// 1500 m whose lines are on the Landsat grid of the zone (15 m past a multiple of 30 m).
std::vector<CropTile> enumerate_tiles(const std::string& cdl_path, std::string& utm) {
  GDALDatasetH ds = GDALOpen(cdl_path.c_str(), GA_ReadOnly);
  if (!ds) fail<InputError>("{}: not a raster GDAL can open (expected the Cropland Data Layer)", cdl_path);
  double gt[6];
  const bool georeferenced = GDALGetGeoTransform(ds, gt) == CE_None;
  const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
  OGRSpatialReference cdl_srs;
  const char* wkt = GDALGetProjectionRef(ds);
  const bool has_crs = wkt && *wkt && cdl_srs.importFromWkt(wkt) == OGRERR_NONE;
  GDALClose(ds);
  if (!georeferenced || !has_crs) fail<InputError>("{}: the CDL raster has no georeferencing or no CRS", cdl_path);
  if (gt[2] != 0 || gt[4] != 0) fail<InputError>("{}: a rotated CDL raster is not supported", cdl_path);
  cdl_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  const double ax0 = gt[0], ax1 = gt[0] + w * gt[1], ay1 = gt[3], ay0 = gt[3] + h * gt[5];
  OGRSpatialReference wgs84;
  wgs84.SetWellKnownGeogCS("WGS84");
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to_geo(OGRCreateCoordinateTransformation(&cdl_srs, &wgs84));
  double lon = (ax0 + ax1) / 2, lat = (ay0 + ay1) / 2;
  if (!to_geo || !to_geo->Transform(1, &lon, &lat)) fail<InputError>("{}: its centre has no WGS 84 position", cdl_path);
  utm = raster::utm_crs(lon, lat);
  OGRSpatialReference utm_srs;
  utm_srs.SetFromUserInput(utm.c_str());
  utm_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to_utm(OGRCreateCoordinateTransformation(&cdl_srs, &utm_srs));
  std::unique_ptr<OGRCoordinateTransformation> to_cdl(OGRCreateCoordinateTransformation(&utm_srs, &cdl_srs));
  if (!to_utm || !to_cdl) fail<InputError>("{}: no transformation between its CRS and {}", cdl_path, utm);
  // The raster's box in UTM, from points along its edges.
  double ux0 = 1e18, ux1 = -1e18, uy0 = 1e18, uy1 = -1e18;
  for (int k = 0; k <= 64; ++k) {
    const double f = k / 64.0;
    for (auto [x, y] : {std::pair{ax0 + f * (ax1 - ax0), ay0}, std::pair{ax0 + f * (ax1 - ax0), ay1},
                        std::pair{ax0, ay0 + f * (ay1 - ay0)}, std::pair{ax1, ay0 + f * (ay1 - ay0)}}) {
      if (!to_utm->Transform(1, &x, &y)) continue;
      ux0 = std::min(ux0, x), ux1 = std::max(ux1, x), uy0 = std::min(uy0, y), uy1 = std::max(uy1, y);
    }
  }
  auto inside = [&](double x, double y) {
    return to_cdl->Transform(1, &x, &y) && x >= ax0 && x <= ax1 && y >= ay0 && y <= ay1;
  };
  const double step = kSize * kRes;
  std::vector<CropTile> tiles;
  const auto first_col = static_cast<long>(std::ceil((ux0 - 15) / step)),
             last_col = static_cast<long>((ux1 - 15) / step);
  const auto first_row = static_cast<long>(std::ceil((uy0 - 15) / step)),
             last_row = static_cast<long>((uy1 - 15) / step);
  for (long r = last_row - 1; r >= first_row; --r) {
    for (long c = first_col; c + 1 <= last_col; ++c) {
      const double x0 = c * step + 15, y0 = r * step + 15;
      if (!inside(x0, y0) || !inside(x0 + step, y0) || !inside(x0, y0 + step) || !inside(x0 + step, y0 + step)) {
        continue;
      }
      CropTile t;
      t.id = fmt::format("{}_{}_{}", utm.substr(5), static_cast<long>(x0), static_cast<long>(y0 + step));
      t.cx = x0 + step / 2;
      t.cy = y0 + step / 2;
      // A geographic split: blocks of 4 x 4 tiles (6 km) go to train, val or test (60/20/20).
      t.split = store::hash_split(fmt::format("block_{}_{}_{}", utm, c / 4 - (c < 0), r / 4 - (r < 0)), 0,
                                  {{"train", 0.6}, {"val", 0.2}, {"test", 0.2}});
      tiles.push_back(std::move(t));
    }
  }
  return tiles;
}

// The CDL codes counted as cropland: every crop code (field crops and fallow/idle cropland 1-61,
// tree crops and orchards 66-77, other and double crops 204-254); the rest (grass and pasture,
// forest, shrubland, barren, developed, water, wetlands: 62-65, 81-195) is not.
bool cdl_cropland(int code) {
  return (code >= 1 && code <= 61) || (code >= 66 && code <= 77) || (code >= 204 && code <= 254);
}

// Splitmix64 of the tile id: the position of its one labelled pixel, the same in every run.
std::pair<int, int> labelled_pixel(const std::string& id) {
  const std::uint64_t z = mix64(fnv1a(id));
  return {static_cast<int>(z % kSize), static_cast<int>((z / kSize) % kSize)};
}

}  // namespace

store::ImportReport prepare_cropland(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& opt) {
  raster::init_gdal();
  const int year = opt.year > 0 ? opt.year : 2017;
  std::string utm;
  const std::vector<CropTile> all = enumerate_tiles(opt.labels, utm);
  if (all.empty()) fail<InputError>("{}: the CDL raster holds no whole tile of 50 x 50 px of 30 m", opt.labels);
  const store::Schema schema = store::schema_from_card(task, registry);
  const SceneSet scenes =
      select_scenes(opt, is_landsat8_sr, fmt::format("{}-01-01", year), fmt::format("{}-12-31", year),
                    fmt::format("Landsat 8/9 surface reflectance scene of {}", year));
  const std::vector<const raster::Scene*> window = scenes.pointers();
  nlohmann::ordered_json summary;
  summary["landsat8_scenes"] = scenes.scenes.size();
  summary["other_scenes"] = scenes.other_sensors;
  summary["unrecognised_files"] = scenes.unrecognised_files;
  summary["tiles_in_cdl"] = all.size();

  const auto [first, last] = shard_rows(all.size(), opt.shard, opt.shards);
  store::Tally tally;
  store::StoreWriter writer(opt.out, schema, writer_options(opt, fmt::format("cropland year={}", year)));
  writer.add_source_file(store::describe_file(opt.labels));
  raster::SceneReadOptions read;
  read.bands = {"ULTRABLUE", "BLUE", "GREEN", "RED", "NIR", "SWIR1", "SWIR2"};
  read.resampling = raster::Resampling::nearest;
  raster::WarpOptions cdl_read;
  cdl_read.resampling = raster::Resampling::nearest;
  UnreadableScenes unreadable(tally);
  const std::size_t plane = static_cast<std::size_t>(kSize) * kSize;

  store::run_import(
      writer, last - first, opt.threads, [&](std::size_t i) { return all[first + i].id; },
      [&](std::size_t i, store::Example& ex) -> store::Loaded {
        const CropTile& t = all[first + i];
        const raster::TileGrid grid = raster::make_grid_at(t.cx, t.cy, kSize, kRes, utm);
        raster::SceneTile optical = raster::tile_from_scenes(window, grid, read, raster::Composite::median, true);
        unreadable.report(optical.unreadable);
        if (optical.scenes == 0) return {"no_record", t.id, {}};
        // Every pixel needs a clear observation in the year (the release has no gaps).
        if (optical.tile.valid_fraction < 1) return {"missing_pixels", t.id, {}};
        const raster::WarpedTile cdl = raster::warp_to_grid(opt.labels, grid, cdl_read);
        auto* mask = ex.as<std::uint8_t>("mask");
        std::size_t crop = 0;
        for (std::size_t p = 0; p < plane; ++p) {
          const float code = cdl.values[p];
          if (!std::isfinite(code) || code == 0) return {"missing_labels", t.id, {}};
          mask[p] = cdl_cropland(static_cast<int>(code)) ? 1 : 0;
          crop += mask[p];
        }
        std::copy(optical.tile.values.begin(), optical.tile.values.end(), ex.as<float>("x"));
        const auto [row, col] = labelled_pixel(t.id);
        ex.id = t.id;
        ex.split = t.split;
        ex.set("point_label", mask[static_cast<std::size_t>(row) * kSize + static_cast<std::size_t>(col)]);
        ex.set("image_label", 2 * crop >= plane ? 1.0 : 0.0);
        ex.set("point_row", row);
        ex.set("point_col", col);
        ex.set("lat", grid.lat);
        ex.set("lon", grid.lon);
        return {};
      },
      tally, opt.progress, "processed", "processed");

  nlohmann::ordered_json settings;
  settings["year"] = year;
  settings["crs"] = utm;
  settings["size"] = kSize;
  settings["res_m"] = kRes;
  settings["landsat"] = "median of ULTRABLUE, BLUE, GREEN, RED, NIR, SWIR1, SWIR2 over the year, QA-masked";
  settings["cropland_codes"] = "1-61, 66-77, 204-254";
  settings["split"] = "blocks of 4 x 4 tiles, hashed with seed 0 to train/val/test 0.6/0.2/0.2";
  settings["resampling"] = "nearest";
  return finish_prepare(writer, tally, task, opt, settings.dump(), summary.dump());
}

}  // namespace sbench::prepare
