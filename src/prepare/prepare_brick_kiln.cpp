// Brick kilns (SUSTAINBENCH.md 2.H, after Lee et al. 2021): 64 x 64 tiles of 10 m over a region
// polygon, the mean of the Sentinel-2 L2A scenes of the dry season whose cloudy share is under
// 0.2%, 13 channels in the release's order; a tile is positive when a kiln point falls in it, and
// positives get three copies shifted by 20 pixels; the 8 neighbours of a positive are not
// negatives; a stratified 80/10/10 split with a fixed seed.
#include <fmt/format.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>

#include "polygons.hpp"
#include "prepare_common.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/scene.hpp"
#include "sbench/raster/warp.hpp"
#include "sbench/store/store.hpp"

namespace sbench::prepare {

namespace {

constexpr int kSize = 64;
constexpr double kRes = 10;
constexpr double kStep = kSize * kRes;  // 640 m
constexpr int kShift = 20;              // pixels of the offset copies

// The release's 13 channels (KILN:notebooks/earth_engine_get_composite.ipynb) and the profile's
// names of them: B1, B2, B3, B4, B5, B7, B8A, B8, B11, B12, TCI_R, TCI_G, TCI_B.
const std::vector<std::string>& kiln_bands() {
  static const std::vector<std::string> b = {"COASTAL", "BLUE",  "GREEN", "RED",   "RDED1", "RDED3", "RDED4",
                                             "NIR",     "SWIR1", "SWIR2", "TCI_R", "TCI_G", "TCI_B"};
  return b;
}

struct KilnTile {
  std::string id;
  long col = 0, row = 0;  // of the base tile on the 640 m grid
  int offset = 0;         // 0 base, 1 (20, 0), 2 (0, 20), 3 (20, 20) pixels (columns, rows)
  double x0 = 0, y1 = 0;  // upper-left corner, UTM metres
  int label = 0;
  std::uint8_t split = store::kNoSplit;
};

struct Region {
  std::unique_ptr<OGRGeometry> geometry;  // in the UTM zone
  std::string utm;
};

// The union of every polygon of the region file, in the UTM zone of its centre.
Region read_region(const std::string& path) {
  Polygons p = read_polygons(path, "the region polygon");
  Region r;
  r.utm = p.utm;
  for (auto& g : p.geometries) {
    r.geometry = r.geometry ? std::unique_ptr<OGRGeometry>(r.geometry->Union(g.get())) : std::move(g);
    if (!r.geometry) fail<InputError>("{}: the union of its polygons failed (GEOS)", path);
  }
  return r;
}

struct Kiln {
  double x = 0, y = 0;  // UTM
  std::string id;
};

std::vector<Kiln> read_kilns(const std::string& path, const std::string& utm) {
  CsvReader csv(path);
  auto column = [&](std::initializer_list<const char*> names) -> std::optional<std::size_t> {
    for (const char* n : names) {
      if (auto c = csv.find_column(n)) return c;
    }
    return std::nullopt;
  };
  const auto c_lon = column({"lon", "longitude", "x"}), c_lat = column({"lat", "latitude", "y"});
  const auto c_id = column({"id", "kiln_id"});
  if (!c_lon || !c_lat) {
    fail<InputError>("{}: expected columns lon and lat (kiln coordinates), found {}", path,
                     fmt::join(csv.header(), ", "));
  }
  OGRSpatialReference wgs84, target;
  wgs84.SetWellKnownGeogCS("WGS84");
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  target.SetFromUserInput(utm.c_str());
  target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to(OGRCreateCoordinateTransformation(&wgs84, &target));
  std::vector<Kiln> kilns;
  CsvRow row;
  while (csv.next(row)) {
    Kiln k;
    k.id = c_id ? row[*c_id] : std::to_string(row.line());
    k.x = csv.get_double(row, *c_lon);
    k.y = csv.get_double(row, *c_lat);
    if (!(k.x >= -180 && k.x <= 180 && k.y >= -90 && k.y <= 90) || !to->Transform(1, &k.x, &k.y)) {
      fail<InputError>("{}: line {}: kiln {}: ({}, {}) is not a longitude and latitude", path, row.line(), k.id,
                       row[*c_lon], row[*c_lat]);
    }
    kilns.push_back(std::move(k));
  }
  return kilns;
}

std::unique_ptr<OGRPolygon> square(double x0, double y1, double side) {
  auto ring = std::make_unique<OGRLinearRing>();
  ring->addPoint(x0, y1);
  ring->addPoint(x0 + side, y1);
  ring->addPoint(x0 + side, y1 - side);
  ring->addPoint(x0, y1 - side);
  ring->addPoint(x0, y1);
  auto poly = std::make_unique<OGRPolygon>();
  poly->addRingDirectly(ring.release());
  return poly;
}

// The cloudy share (%) of a scene: SCL classes 8, 9, 10 (cloud medium and high probability, thin
// cirrus) among its pixels with data, as the product's CLOUDY_PIXEL_PERCENTAGE.
double cloudy_percent(const raster::Scene& s) {
  const raster::SceneBand* scl = s.qa();
  if (!scl) return 0;
  GDALDatasetH ds = GDALOpen(scl->source.c_str(), GA_ReadOnly);
  if (!ds) fail<InputError>("{}: cannot open the SCL band", scl->source);
  const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
  std::vector<std::uint8_t> v(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  const CPLErr err =
      GDALRasterIO(GDALGetRasterBand(ds, scl->index), GF_Read, 0, 0, w, h, v.data(), w, h, GDT_Byte, 0, 0);
  GDALClose(ds);
  if (err != CE_None) fail<InputError>("{}: cannot read the SCL band", scl->source);
  std::size_t valid = 0, cloudy = 0;
  for (auto c : v) {
    valid += c != 0;
    cloudy += c == 8 || c == 9 || c == 10;
  }
  return valid ? 100.0 * static_cast<double>(cloudy) / static_cast<double>(valid) : 100.0;
}

}  // namespace

store::ImportReport prepare_brick_kiln(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& opt) {
  raster::init_gdal();
  if (opt.region.empty()) fail<UsageError>("brick_kiln needs --region FILE: the polygon to tile (GeoJSON, GPKG, SHP)");
  const std::string start = opt.start.empty() ? "2018-10-01" : opt.start;
  const std::string end = opt.end.empty() ? "2019-05-31" : opt.end;
  const double max_cloudy = 0.2;  // percent, as the notebook's CLOUDY_PIXEL_PERCENTAGE < 0.2
  const Region region = read_region(opt.region);
  const std::vector<Kiln> kilns = read_kilns(opt.labels, region.utm);
  const store::Schema schema = store::schema_from_card(task, registry);
  store::Tally tally;

  // Scenes: Sentinel-2 L2A of the window, kept when under the cloudy share.
  SceneSet found = select_scenes(
      opt, [](const std::string& sensor) { return sensor == "sentinel2_l2a"; }, start, end, "Sentinel-2 L2A scene");
  std::vector<raster::Scene> scenes;
  std::size_t cloudy = 0, incomplete = 0;
  for (auto& s : found.scenes) {
    std::vector<std::string> missing;
    for (const auto& b : kiln_bands()) {
      if (!s.find(b)) missing.push_back(b);
    }
    if (!s.qa()) missing.push_back("SCL");
    if (!missing.empty()) {
      spdlog::warn("{}: Sentinel-2 scene {} lacks band file(s) {}: not used", s.files.front(), s.product,
                   fmt::join(missing, ", "));
      ++incomplete;
      continue;
    }
    const double pct = cloudy_percent(s);
    if (pct >= max_cloudy) {
      spdlog::info("{}: {:.2f}% cloudy, not used (the release keeps scenes under {}%)", s.product, pct, max_cloudy);
      ++cloudy;
      continue;
    }
    scenes.push_back(std::move(s));
  }
  if (scenes.empty()) {
    fail<InputError>("no Sentinel-2 L2A scene between {} and {} under {}% cloudy ({} cloudy, {} incomplete)", start,
                     end, max_cloudy, cloudy, incomplete);
  }
  nlohmann::ordered_json summary;
  summary["sentinel2_scenes"] = scenes.size();
  summary["cloudy_scenes"] = cloudy;
  summary["incomplete_scenes"] = incomplete;
  summary["scenes_outside_window"] = found.outside_window;
  summary["other_scenes"] = found.other_sensors;
  summary["unrecognised_files"] = found.unrecognised_files;

  // The base tiles meeting the region, on a 640 m grid of the zone; kilns mark positives.
  OGREnvelope env;
  region.geometry->getEnvelope(&env);
  const long c0 = static_cast<long>(std::floor(env.MinX / kStep)), c1 = static_cast<long>(std::floor(env.MaxX / kStep));
  const long r0 = static_cast<long>(std::floor(env.MinY / kStep)), r1 = static_cast<long>(std::floor(env.MaxY / kStep));
  std::set<std::pair<long, long>> in_region;  // (row, col): the tile spans [col, col+1) x [row, row+1) steps
  for (long r = r1; r >= r0; --r) {
    for (long c = c0; c <= c1; ++c) {
      if (square(c * kStep, (r + 1) * kStep, kStep)->Intersects(region.geometry.get())) in_region.insert({r, c});
    }
  }
  // Tiles holding a kiln: positives inside the region; outside it they still keep their
  // neighbours from being negatives (a kiln may straddle the tile edge).
  std::set<std::pair<long, long>> positive, kiln_tiles;
  // Counted with the imagery summary, not the tiles' statuses: every shard sees every kiln.
  std::size_t kilns_outside = 0;
  std::vector<std::string> outside_ids;
  for (const auto& k : kilns) {
    const std::pair<long, long> rc{static_cast<long>(std::floor(k.y / kStep)),
                                   static_cast<long>(std::floor(k.x / kStep))};
    kiln_tiles.insert(rc);
    if (!in_region.count(rc)) {
      if (kilns_outside++ < 5) outside_ids.push_back(k.id);
      spdlog::warn("{}: kiln {} is outside the region {}", opt.labels, k.id, opt.region);
      continue;
    }
    positive.insert(rc);
  }
  summary["kilns"] = kilns.size();
  summary["kilns_outside_region"] = kilns_outside;
  summary["kilns_outside_region_ids"] = outside_ids;
  std::vector<KilnTile> tiles;
  std::size_t near_positive = 0;
  const double shift = kShift * kRes;
  // Rows from the north, then columns; a positive's offset copies follow it.
  std::vector<std::pair<long, long>> order(in_region.begin(), in_region.end());
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  for (const auto& [r, c] : order) {
    const bool pos = positive.count({r, c}) > 0;
    if (!pos) {
      bool neighbour = false;
      for (long dr = -1; dr <= 1 && !neighbour; ++dr) {
        for (long dc = -1; dc <= 1 && !neighbour; ++dc) neighbour = kiln_tiles.count({r + dr, c + dc}) > 0;
      }
      if (neighbour) {
        ++near_positive;
        continue;
      }
    }
    for (int o = 0; o < (pos ? 4 : 1); ++o) {
      KilnTile t;
      t.col = c;
      t.row = r;
      t.offset = o;
      t.x0 = c * kStep + ((o == 1 || o == 3) ? shift : 0);
      t.y1 = (r + 1) * kStep - ((o == 2 || o == 3) ? shift : 0);
      t.label = pos ? 1 : 0;
      t.id = fmt::format("{}_{}_{}{}", region.utm.substr(5), static_cast<long>(t.x0), static_cast<long>(t.y1),
                         o ? fmt::format("_o{}", o) : "");
      tiles.push_back(std::move(t));
    }
  }
  summary["neighbours_of_positives_dropped"] = near_positive;
  if (tiles.empty()) fail<InputError>("{}: the region holds no tile", opt.region);
  // Stratified 80/10/10 per class with a fixed seed (the notebook's random_state=42; numpy's
  // sampler itself is not reproduced): a shuffle of each class, the first 80% train, then val, test.
  for (int label : {1, 0}) {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < tiles.size(); ++i) {
      if (tiles[i].label == label) idx.push_back(i);
    }
    std::mt19937_64 rng(42);
    for (std::size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng() % i]);
    const std::size_t n_train = idx.size() * 8 / 10, n_val = (idx.size() - n_train) / 2;
    for (std::size_t k = 0; k < idx.size(); ++k) {
      tiles[idx[k]].split = k < n_train ? store::kTrain : k < n_train + n_val ? store::kVal : store::kTest;
    }
  }

  std::vector<const raster::Scene*> window;
  for (const auto& s : scenes) window.push_back(&s);
  raster::SceneReadOptions read;
  read.bands = kiln_bands();
  read.resampling = raster::Resampling::nearest;
  read.apply_mask = false;  // the release's mean keeps every pixel of the scenes it kept
  UnreadableScenes unreadable(tally);
  const std::size_t plane = static_cast<std::size_t>(kSize) * kSize;

  const auto [first, last] = shard_rows(tiles.size(), opt.shard, opt.shards);
  store::StoreWriter writer(opt.out, schema, writer_options(opt, fmt::format("brick_kiln {}..{}", start, end)));
  writer.add_source_file(store::describe_file(opt.labels));
  writer.add_source_file(store::describe_file(opt.region));
  store::run_import(
      writer, last - first, opt.threads, [&](std::size_t i) { return tiles[first + i].id; },
      [&](std::size_t i, store::Example& ex) -> store::Loaded {
        const KilnTile& t = tiles[first + i];
        const raster::TileGrid grid = raster::make_grid_at(t.x0 + kStep / 2, t.y1 - kStep / 2, kSize, kRes, region.utm);
        raster::SceneTile st = raster::tile_from_scenes(window, grid, read, raster::Composite::mean, true);
        unreadable.report(st.unreadable);
        if (st.scenes == 0) return {"no_record", t.id, {}};
        // Digital numbers as Earth Engine's S2_SR (reflectance x 10000; the TCI bands as they
        // are), 0 where no scene has a value.
        float* x = ex.as<float>("x");
        for (std::size_t b = 0; b < kiln_bands().size(); ++b) {
          const double k = b < 10 ? 10000.0 : 1.0;
          for (std::size_t p = 0; p < plane; ++p) {
            const float v = st.tile.values[b * plane + p];
            x[b * plane + p] = std::isfinite(v) ? static_cast<float>(std::round(v * k * 1000) / 1000) : 0.0f;
          }
        }
        // The tile's bounds in longitude and latitude (the box of its projected corners).
        const auto box = lonlat_box(region.utm, t.x0, t.y1, kStep);
        ex.id = t.id;
        ex.split = t.split;
        ex.set("label", t.label);
        ex.set("hdf5_file", std::string());
        ex.set("hdf5_idx", -1);
        ex.set("lon_left", box[0]);
        ex.set("lat_bottom", box[1]);
        ex.set("lon_right", box[2]);
        ex.set("lat_top", box[3]);
        ex.set("offset", t.offset);
        return {};
      },
      tally, opt.progress, "processed", "processed");

  nlohmann::ordered_json settings;
  settings["window"] = start + ".." + end;
  settings["max_cloudy_percent"] = max_cloudy;
  settings["composite"] = "mean, no pixel mask";
  settings["crs"] = region.utm;
  settings["size"] = kSize;
  settings["res_m"] = kRes;
  settings["bands"] = "B1 B2 B3 B4 B5 B7 B8A B8 B11 B12 (reflectance x 10000) TCI_R TCI_G TCI_B";
  settings["offsets"] = "positives also at (20, 0), (0, 20), (20, 20) pixels";
  settings["split"] = "per class: shuffle with seed 42, 80% train, 10% val, 10% test";
  settings["resampling"] = "nearest";
  return finish_prepare(writer, tally, task, opt, settings.dump(), summary.dump());
}

}  // namespace sbench::prepare
