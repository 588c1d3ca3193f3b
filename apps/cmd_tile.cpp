// sbench tile (--scene FILE... | --catalog catalog.json) [--sensor NAME] (--lon X --lat Y | --points points.csv)
//             --size N --res METRES [--crs EPSG:CODE|UTM] [--start DATE --end DATE] [--bands B,...]
//             [--resampling auto] [--composite median] [--min-valid F] [--south-up] [--threads N] --out OUT.tif|OUT.h5
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cli.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/catalog.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/scene.hpp"
#include "sbench/raster/warp.hpp"
#include "sbench/store/tile_file.hpp"

namespace sbench::app {

namespace {
struct TileArgs {
  std::vector<std::string> scenes;
  std::string catalog;
  std::string sensor;
  double lon = std::nan(""), lat = std::nan("");
  std::string points;
  int size = 0;
  double res = 0;
  std::string crs = "UTM";
  std::string start, end;
  std::vector<std::string> bands;
  std::string resampling = "auto";
  std::string composite = "median";
  bool no_mask = false;
  double min_valid = 0;
  bool south_up = false;
  int threads = 0;
  std::size_t cache_mb = 0;
  std::string out;
};

struct Point {
  std::string id;
  double lon = 0, lat = 0;
};

std::vector<Point> read_points(const std::string& path) {
  CsvReader csv(path);
  const auto& header = csv.header();
  auto column = [&](std::initializer_list<const char*> names) -> std::ptrdiff_t {
    for (const char* n : names) {
      const auto it = std::find(header.begin(), header.end(), n);
      if (it != header.end()) return it - header.begin();
    }
    return -1;
  };
  const auto id = column({"id", "DHSID_EA", "name"});
  const auto lon = column({"lon", "longitude", "x"});
  const auto lat = column({"lat", "latitude", "y"});
  if (lon < 0 || lat < 0)
    fail<InputError>("{}: expected columns lon and lat (and id), found {}", path, fmt::join(header, ", "));
  std::vector<Point> pts;
  CsvRow row;
  while (csv.next(row)) {
    Point p;
    p.id = id >= 0 ? row[static_cast<std::size_t>(id)] : std::to_string(pts.size());
    try {
      std::size_t used = 0;
      const std::string& x = row[static_cast<std::size_t>(lon)];
      const std::string& y = row[static_cast<std::size_t>(lat)];
      p.lon = std::stod(x, &used);
      if (used != x.size()) throw std::invalid_argument(x);
      p.lat = std::stod(y, &used);
      if (used != y.size()) throw std::invalid_argument(y);
    } catch (const std::exception&) {
      fail<InputError>("{}:{}: point '{}': lon/lat '{}', '{}' are not numbers", path, row.line(), p.id,
                       row[static_cast<std::size_t>(lon)], row[static_cast<std::size_t>(lat)]);
    }
    pts.push_back(std::move(p));
  }
  if (pts.empty()) fail<InputError>("{}: no points", path);
  return pts;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct Job {
  std::vector<raster::Scene> scenes;
  std::vector<std::string> bands;
  raster::SceneReadOptions read;
  raster::Composite mode = raster::Composite::median;
  const TileArgs* a = nullptr;
};

struct Result {
  raster::WarpedTile tile;
  std::string status = "ok";
  int scenes = 0;
};

// One point: the scenes that may cover its tile, read, composited; a status instead of a tile
// when none covers it or too little of it.
Result cut(const Job& job, const Point& p, raster::TileGrid* grid_out = nullptr) {
  Result r;
  const TileArgs& a = *job.a;
  const raster::TileGrid grid = raster::make_grid(p.lon, p.lat, a.size, a.res, a.crs, a.south_up);
  if (grid_out) *grid_out = grid;
  std::vector<const raster::Scene*> scenes;
  for (const auto& s : job.scenes) scenes.push_back(&s);
  raster::SceneTile st = raster::tile_from_scenes(scenes, grid, job.read, job.mode);
  r.scenes = st.scenes;
  if (st.scenes == 0) {
    r.status = "no imagery";
    return r;
  }
  r.tile = std::move(st.tile);
  if (r.tile.valid_fraction < a.min_valid) {
    r.status = fmt::format("below min-valid ({:.1f}% valid)", 100 * r.tile.valid_fraction);
  }
  return r;
}

int run_tile(const TileArgs& a, Context& ctx) {
  if (a.scenes.empty() == a.catalog.empty()) fail<UsageError>("give either --scene FILE... or --catalog FILE");
  const bool one = !std::isnan(a.lon) || !std::isnan(a.lat);
  if (one == !a.points.empty()) fail<UsageError>("give either --lon and --lat, or --points FILE");
  if (one && (std::isnan(a.lon) || std::isnan(a.lat))) fail<UsageError>("--lon and --lat go together");
  if (!one && !ends_with(a.out, ".h5")) fail<UsageError>("--points writes an HDF5 file: --out must end in .h5");
  if (!ends_with(a.out, ".h5") && !ends_with(a.out, ".tif") && !ends_with(a.out, ".tiff")) {
    fail<UsageError>("--out {}: expected OUT.tif (one point) or OUT.h5", a.out);
  }
  if (!a.start.empty()) raster::check_date(a.start, "--start");
  if (!a.end.empty()) raster::check_date(a.end, "--end");
  if (!a.start.empty() && !a.end.empty() && a.start > a.end)
    fail<UsageError>("--start {} is after --end {}", a.start, a.end);
  // Validate the grid parameters once, before any work (a bad size or CRS is a usage error).
  raster::make_grid(0, 0, a.size, a.res, a.crs == "UTM" ? "EPSG:32631" : a.crs);
  raster::init_gdal(a.cache_mb);

  Job job;
  job.a = &a;
  job.mode = raster::parse_composite(a.composite);
  if (a.resampling != "auto") job.read.resampling = raster::parse_resampling(a.resampling);
  job.read.apply_mask = !a.no_mask;
  const std::string sensor = a.sensor.empty() ? (a.catalog.empty() ? "generic" : "auto") : a.sensor;
  // One profile, or several separated by commas (Landsat 5, 7 and 8 of one composite).
  std::vector<std::string> sensors;
  for (std::size_t at = 0; at <= sensor.size();) {
    const std::size_t comma = std::min(sensor.find(',', at), sensor.size());
    sensors.push_back(sensor.substr(at, comma - at));
    at = comma + 1;
  }
  for (const auto& s : sensors) {
    if (s != "auto") raster::sensor_profile(s);
  }
  std::vector<raster::Scene> all;
  if (!a.catalog.empty()) {
    raster::Catalog c = raster::read_catalog(a.catalog);
    raster::SceneQuery q;
    q.start = a.start;
    q.end = a.end;
    std::vector<const raster::Scene*> found;
    for (const auto& s : sensors) {
      q.sensor = s;
      for (const raster::Scene* sc : raster::query_catalog(c, q)) found.push_back(sc);
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const raster::Scene* x, const raster::Scene* y) { return x->date < y->date; });
    for (const raster::Scene* s : found) all.push_back(*s);
  } else {
    std::map<std::string, bool> seen;
    for (const auto& f : a.scenes) {
      raster::Scene s = raster::open_scene(f, sensors.size() == 1 ? sensor : "auto");
      if (sensors.size() > 1 && std::find(sensors.begin(), sensors.end(), s.sensor) == sensors.end()) {
        fail<InputError>("{}: a {} scene, not one of --sensor {}", f, s.sensor, sensor);
      }
      if (seen[s.sensor + "|" + s.product + "|" + s.files.front()]) continue;
      seen[s.sensor + "|" + s.product + "|" + s.files.front()] = true;
      if (!s.date.empty() && ((!a.end.empty() && s.date > a.end) || (!a.start.empty() && s.date_end < a.start)))
        continue;
      all.push_back(std::move(s));
    }
  }
  if (all.empty()) {
    fail<InputError>("no imagery: no {} scene in {}{}", sensor, a.catalog.empty() ? "the --scene files" : a.catalog,
                     a.start.empty() && a.end.empty() ? "" : fmt::format(" between {} and {}", a.start, a.end));
  }
  // One band list for every scene: --bands (generic: 1,2 or B1,B2), or the first scene's.
  for (const auto& b : a.bands) {
    const bool digits = !b.empty() && std::all_of(b.begin(), b.end(), [](unsigned char c) { return std::isdigit(c); });
    job.bands.push_back(digits ? "B" + b : b);
  }
  if (job.bands.empty()) {
    job.bands = all.front().band_names();
    if (all.front().sensor == "sentinel1_grd") job.bands.insert(job.bands.end(), {"VV_DB", "VH_DB", "RATIO"});
  }
  for (const auto& s : all) {
    for (const auto& b : job.bands) {
      const bool derived = s.sensor == "sentinel1_grd" && (b == "VV_DB" || b == "VH_DB" || b == "RATIO");
      if (!derived && !s.find(b)) {
        fail<InputError>("{}: scene {} ({}) has no band {} (it has {})", s.files.front(), s.product, s.sensor, b,
                         fmt::join(s.band_names(), ", "));
      }
    }
  }
  job.read.bands = job.bands;
  job.scenes = std::move(all);

  if (one && !ends_with(a.out, ".h5")) {
    raster::TileGrid grid;
    Result r = cut(job, Point{"point", a.lon, a.lat}, &grid);
    if (r.status == "no imagery") {
      fail<InputError>("no imagery: point ({}, {}) is covered by none of the {} scene(s)", a.lon, a.lat,
                       job.scenes.size());
    }
    if (r.status != "ok") {
      fail<InputError>("point ({}, {}): only {:.1f}% of the tile has imagery, below --min-valid {:.1f}%", a.lon, a.lat,
                       100 * r.tile.valid_fraction, 100 * a.min_valid);
    }
    raster::write_geotiff(a.out, r.tile, grid);
    std::cout << fmt::format("{}: {} band(s), {} x {} px of {} m in {}, {} scene(s), {:.1f}% valid\n", a.out,
                             r.tile.bands, grid.size, grid.size, grid.res, grid.crs, r.scenes,
                             100 * r.tile.valid_fraction);
    return 0;
  }

  const std::vector<Point> points = one ? std::vector<Point>{{"point", a.lon, a.lat}} : read_points(a.points);
  const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  store::TileFileInfo info;
  info.count = points.size();
  info.bands = job.bands;
  info.size = a.size;
  info.sensor = sensor;
  info.crs = a.crs;
  info.composite = a.composite;
  info.command_line = ctx.command_line;
  info.res = a.res;
  info.south_up = a.south_up;
  store::TileFileWriter writer(a.out, info);
  ProgressCounter progress(ctx.progress(), points.size(), "tiles");
  std::map<std::string, std::size_t> counts;
  std::size_t next = 0;
  struct Item {
    std::size_t index = 0;
    Result result;
  };
  tbb::parallel_pipeline(static_cast<std::size_t>(2 * threads),
                         tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                                             [&](tbb::flow_control& fc) -> std::size_t {
                                                               if (next == points.size()) {
                                                                 fc.stop();
                                                                 return 0;
                                                               }
                                                               return next++;
                                                             }) &
                             tbb::make_filter<std::size_t, std::shared_ptr<Item>>(
                                 tbb::filter_mode::parallel,
                                 [&](std::size_t i) {
                                   auto item = std::make_shared<Item>();
                                   item->index = i;
                                   try {
                                     item->result = cut(job, points[i]);
                                   } catch (const UsageError& e) {
                                     item->result.status = fmt::format("bad point: {}", e.what());
                                   } catch (const InputError& e) {
                                     item->result.status = fmt::format("error: {}", e.what());
                                   }
                                   return item;
                                 }) &
                             tbb::make_filter<std::shared_ptr<Item>, void>(
                                 tbb::filter_mode::serial_in_order, [&](std::shared_ptr<Item> item) {
                                   const Point& p = points[item->index];
                                   const Result& r = item->result;
                                   store::TileRecord rec;
                                   rec.id = p.id;
                                   rec.lon = p.lon;
                                   rec.lat = p.lat;
                                   rec.status = r.status;
                                   rec.scenes = r.scenes;
                                   rec.valid_fraction = r.tile.valid_fraction;
                                   rec.values = r.status == "ok" ? r.tile.values.data() : nullptr;
                                   writer.write(item->index, rec);
                                   const std::string kind = r.status.substr(0, r.status.find(':'));
                                   ++counts[kind.rfind("below", 0) == 0 ? "below min-valid" : kind];
                                   if (r.status != "ok")
                                     spdlog::debug("point {} ({}, {}): {}", p.id, p.lon, p.lat, r.status);
                                   progress.advance();
                                 }));
  writer.commit();
  std::string summary;
  for (const auto& [k, n] : counts) summary += fmt::format("{}{}: {}", summary.empty() ? "" : ", ", k, n);
  std::cout << fmt::format("{}: {} point(s), {} band(s), {} x {} px of {} m; {}\n", a.out, points.size(),
                           job.bands.size(), a.size, a.size, a.res, summary);
  return counts["ok"] == points.size() ? 0 : (counts["ok"] > 0 ? 0 : 1);
}
}  // namespace

void add_tile_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<TileArgs>();
  auto* cmd = app.add_subcommand("tile", "Cut tiles centred on points from the scenes of a sensor");
  cmd->add_option("--scene", a->scenes, "Scene files (any band file of a product, or a SAFE/product folder)");
  cmd->add_option("--catalog", a->catalog, "A catalog from `sbench catalog build`")->check(CLI::ExistingFile);
  cmd->add_option("--sensor", a->sensor,
                  "Sensor profile (docs/sensors.md), or several separated by commas; default generic for --scene, "
                  "any for --catalog");
  cmd->add_option("--lon", a->lon, "Centre longitude (WGS 84)");
  cmd->add_option("--lat", a->lat, "Centre latitude (WGS 84)");
  cmd->add_option("--points", a->points, "CSV with id, lon, lat columns: one tile per row")->check(CLI::ExistingFile);
  cmd->add_option("--size", a->size, "Pixels per side")->required();
  cmd->add_option("--res", a->res, "Pixel size in metres")->required();
  cmd->add_option("--crs", a->crs, "EPSG:CODE, or UTM for each point's zone")->capture_default_str();
  cmd->add_option("--start", a->start, "First day of the date window (YYYY-MM-DD)");
  cmd->add_option("--end", a->end, "Last day of the date window (YYYY-MM-DD)");
  cmd->add_option("--bands", a->bands, "Band names (BLUE,NIR,...) or, for generic, indices (1,2,...)")->delimiter(',');
  cmd->add_option("--resampling", a->resampling, "auto, nearest, bilinear, cubic or average")->capture_default_str();
  cmd->add_option("--composite", a->composite, "median, mean or first, over several scenes")->capture_default_str();
  cmd->add_flag("--no-mask", a->no_mask, "Keep pixels the QA band marks as cloud, shadow or snow");
  cmd->add_option("--min-valid", a->min_valid, "Least share of valid pixels (0-1)")->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--south-up", a->south_up, "Arrays with row 0 at the south (the DHS release's order; HDF5 output)");
  cmd->add_option("--threads", a->threads, "Tiles cut in parallel (default: every core)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--cache-mb", a->cache_mb, "GDAL block cache in MiB (default: GDAL's)");
  cmd->add_option("--out", a->out, "OUT.tif (one point, float32 GeoTIFF) or OUT.h5 (tiles and statuses)")->required();
  cmd->callback([&ctx, a] { ctx.action = [a, &ctx] { return run_tile(*a, ctx); }; });
}

}  // namespace sbench::app
