// Out-of-domain land cover (SUSTAINBENCH.md 2.J, after Wang, Russwurm, Koerner and Lobell 2020): per
// 10 km x 10 km region, random points with the MOD09A1 8-day series of the year (7 bands and NDVI,
// 46 composites) at the point's 500 m cell and the MCD12Q1 IGBP class of the year as label; regions
// with fewer than 2 classes or one class over 80% of the points are dropped.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <unordered_map>

#include "modis_grid.hpp"
#include "prepare_common.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/core/error.hpp"
#include "sbench/core/hash.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/scene.hpp"
#include "sbench/store/store.hpp"

namespace sbench::prepare {

namespace {

constexpr double kHalfSide = 5000;  // metres: the 10 km square around the region's centre
constexpr int kComposites = 46;
constexpr std::size_t kChannels = 8;  // 7 bands and NDVI
const std::vector<std::string> kReflectance = {"RED", "NIR", "BLUE", "GREEN", "NIR2", "SWIR1", "SWIR2"};

struct Region {
  std::string id, group;
  double lon = 0, lat = 0;
  std::size_t line = 0;
};

std::vector<Region> read_regions(const std::string& path) {
  CsvReader csv(path);
  const std::size_t c_region = csv.column("region"), c_group = csv.column("region_group"), c_lon = csv.column("lon"),
                    c_lat = csv.column("lat");
  std::vector<Region> out;
  std::set<std::string> seen;
  CsvRow r;
  while (csv.next(r)) {
    Region g{r[c_region], r[c_group], csv.get_double(r, c_lon), csv.get_double(r, c_lat), r.line()};
    if (g.id.empty()) fail<InputError>("{}: line {}: empty region id", path, g.line);
    if (!(g.lat > -85 && g.lat < 85 && g.lon >= -180 && g.lon <= 180)) {
      fail<InputError>("{}: line {}: region {}: ({}, {}) is not a longitude and latitude", path, g.line, g.id, g.lon,
                       g.lat);
    }
    if (!seen.insert(g.id).second) fail<InputError>("{}: line {}: region {} again", path, g.line, g.id);
    out.push_back(std::move(g));
  }
  if (out.empty()) fail<InputError>("{}: no regions (expected columns region, region_group, lon, lat)", path);
  return out;
}

// A region's points: where they are, their cell and label.
struct Points {
  modis::CellGrid cells;
  std::vector<double> lon, lat;
  std::vector<long> cell;
  std::vector<int> label;  // IGBP 1-17; 0 when the cover has none there
};

}  // namespace

store::ImportReport prepare_land_cover_ood(const TaskCard& task, const TaskRegistry& registry,
                                           const PrepareOptions& opt) {
  raster::init_gdal();
  const int year = opt.year > 0 ? opt.year : 2018;
  const std::size_t per_region = opt.sample > 0 ? static_cast<std::size_t>(opt.sample) : 500;
  const std::vector<Region> regions = read_regions(opt.labels);
  const store::Schema schema = store::schema_from_card(task, registry);

  // The year's composites (day of year 1, 9, ..., 361) and land cover.
  raster::Catalog catalog = load_catalog(opt);
  std::map<int, std::vector<raster::Scene>> sat;  // by composite of the year, 0-45
  std::vector<raster::Scene> cover;
  std::size_t other_years = 0, others = 0, off_grid = 0;
  store::Tally tally;
  for (auto& s : catalog.scenes) {
    const bool is_sat = s.sensor == "mod09a1", is_cover = s.sensor == "mcd12q1";
    if (!is_sat && !is_cover) {
      ++others;
      continue;
    }
    if (!modis::has_subdatasets(s, is_sat ? kReflectance : std::vector<std::string>{"LC_TYPE1"}, tally)) continue;
    const std::string file = s.files.empty() ? s.product : s.files.front();
    if (s.date.substr(0, 4) != std::to_string(year)) {
      ++other_years;
      continue;
    }
    if (is_cover) {
      cover.push_back(std::move(s));
      continue;
    }
    const int doy = [&] {
      int y = 0, m = 0, d = 0;
      std::sscanf(s.date.c_str(), "%d-%d-%d", &y, &m, &d);
      static const int days[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
      const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
      return days[m - 1] + d + (leap && m > 2 ? 1 : 0);
    }();
    if ((doy - 1) % 8 != 0) {
      ++off_grid;
      spdlog::warn("{}: {} is not the first day of an 8-day composite: scene not used", file, s.date);
      continue;
    }
    sat[(doy - 1) / 8].push_back(std::move(s));
  }
  const std::string where = opt.catalog.empty() ? fmt::format("{}", fmt::join(opt.imagery, ", ")) : opt.catalog;
  if (sat.empty()) fail<InputError>("no MOD09A1 surface reflectance of {} in {}", year, where);
  if (cover.empty()) fail<InputError>("no MCD12Q1 land cover (LC_Type1) of {} in {}", year, where);
  std::vector<std::string> missing_dates;
  for (int k = 0; k < kComposites; ++k) {
    if (!sat.count(k)) missing_dates.push_back(fmt::format("{}-{:03d}", year, 1 + 8 * k));
  }
  if (!missing_dates.empty()) {
    spdlog::warn("{} of the {} composites of {} are missing (their values are NaN): {}", missing_dates.size(),
                 kComposites, year, fmt::join(missing_dates, ", "));
  }
  const std::string crs = modis::product_crs(sat.begin()->second.front());  // grids on the products' cells
  std::vector<const raster::Scene*> cover_scenes;
  for (const auto& s : cover) cover_scenes.push_back(&s);

  raster::SceneReadOptions sat_read, cover_read;
  sat_read.bands = kReflectance;
  cover_read.bands = {"LC_TYPE1"};
  for (auto* r : {&sat_read, &cover_read}) {
    r->resampling = raster::Resampling::nearest;
    r->apply_mask = false;  // every composite value, as an Earth Engine export of the collection
  }
  UnreadableScenes unreadable(tally);

  // The shard's regions: points and labels first (one land-cover read each), then the filter.
  const auto [first, last] = shard_rows(regions.size(), opt.shard, opt.shards);
  std::vector<std::size_t> kept;
  std::vector<Points> points(regions.size());
  for (std::size_t r = first; r < last; ++r) {
    const Region& g = regions[r];
    double cx = 0, cy = 0;
    modis::to_sinusoidal(g.lon, g.lat, cx, cy);
    Points& p = points[r];
    p.cells = modis::cell_grid(cx - kHalfSide, cy - kHalfSide, cx + kHalfSide, cy + kHalfSide);
    raster::SceneTile lc =
        raster::tile_from_scenes(cover_scenes, p.cells.grid(crs), cover_read, raster::Composite::first, true);
    unreadable.report(lc.unreadable);
    if (lc.tile.bands != 1) {
      tally.add("outside_imagery", g.id);
      continue;
    }
    // Points uniform in the square, seeded by the region id.
    std::mt19937_64 rng(fnv1a(g.id));
    std::uniform_real_distribution<double> u(-kHalfSide, kHalfSide);
    std::map<int, std::size_t> classes;
    for (std::size_t k = 0; k < per_region; ++k) {
      const double x = cx + u(rng), y = cy + u(rng);
      double lon = 0, lat = 0;
      modis::from_sinusoidal(x, y, lon, lat);
      const long c = p.cells.cell_of(x, y);
      const float v = c >= 0 ? lc.tile.values[static_cast<std::size_t>(c)] : NAN;
      const int label = std::isfinite(v) && v >= 1 && v <= 17 ? static_cast<int>(v) : 0;
      p.lon.push_back(lon);
      p.lat.push_back(lat);
      p.cell.push_back(c);
      p.label.push_back(label);
      if (label > 0) ++classes[label];
    }
    std::size_t labelled = 0, top = 0;
    for (const auto& [c, count] : classes) labelled += count, top = std::max(top, count);
    if (classes.size() < 2) {
      tally.add("region_single_class", g.id);
    } else if (static_cast<double>(top) > 0.8 * static_cast<double>(labelled)) {
      tally.add("region_dominant_class", g.id);
    } else {
      kept.push_back(r);
    }
  }

  // One item per labelled point of the kept regions, in region and point order.
  struct Item {
    std::size_t region, point;
  };
  std::vector<Item> items;
  for (std::size_t r : kept) {
    for (std::size_t k = 0; k < per_region; ++k) {
      if (points[r].label[k] > 0) {
        items.push_back({r, k});
      } else {
        tally.add("no_label", fmt::format("{}_{:03d}", regions[r].id, k));
      }
    }
  }
  // A region's series (points x 8 x 46) is read once, by the first of its points to need it; the
  // points of at most a few regions are in flight at a time.
  using Series = std::shared_ptr<const std::vector<float>>;
  std::mutex cache_mutex;
  std::map<std::size_t, std::shared_future<Series>> cache;
  auto series_of = [&](std::size_t r) -> Series {
    std::shared_future<Series> f;
    std::promise<Series> promise;
    bool mine = false;
    {
      std::lock_guard<std::mutex> lock(cache_mutex);
      if (auto it = cache.find(r); it != cache.end()) {
        f = it->second;
      } else {
        f = promise.get_future().share();
        cache.emplace(r, f);
        mine = true;
        while (cache.size() > 8) cache.erase(cache.begin());
      }
    }
    if (mine) {
      try {
        const Points& p = points[r];
        const raster::TileGrid grid = p.cells.grid(crs);
        const std::size_t plane = static_cast<std::size_t>(p.cells.side) * static_cast<std::size_t>(p.cells.side);
        auto out = std::make_shared<std::vector<float>>(per_region * kChannels * kComposites, NAN);
        for (int t = 0; t < kComposites; ++t) {
          std::vector<const raster::Scene*> scenes;
          if (auto it = sat.find(t); it != sat.end()) {
            for (const auto& s : it->second) scenes.push_back(&s);
          }
          raster::SceneTile st = raster::tile_from_scenes(scenes, grid, sat_read, raster::Composite::first, true);
          unreadable.report(st.unreadable);
          if (st.tile.bands != 7) continue;
          for (std::size_t k = 0; k < per_region; ++k) {
            if (p.cell[k] < 0) continue;
            float* x = out->data() + k * kChannels * kComposites;
            for (std::size_t b = 0; b < 7; ++b) {
              x[b * kComposites + static_cast<std::size_t>(t)] =
                  st.tile.values[b * plane + static_cast<std::size_t>(p.cell[k])];
            }
            const float red = x[static_cast<std::size_t>(t)], nir = x[kComposites + static_cast<std::size_t>(t)];
            x[7 * kComposites + static_cast<std::size_t>(t)] = nir + red != 0 ? (nir - red) / (nir + red) : NAN;
          }
        }
        promise.set_value(out);
      } catch (...) {
        promise.set_exception(std::current_exception());
      }
    }
    return f.get();
  };

  const auto& test_groups = task.split.members.at("test");
  const std::uint64_t seed = task.split.seed.value_or(0);
  store::StoreWriter writer(opt.out, schema,
                            writer_options(opt, fmt::format("land_cover_ood year={} points={}", year, per_region)));
  writer.add_source_file(store::describe_file(opt.labels));
  const std::size_t per_point = kChannels * kComposites;
  store::run_import(
      writer, items.size(), opt.threads,
      [&](std::size_t i) { return fmt::format("{}_{:03d}", regions[items[i].region].id, items[i].point); },
      [&](std::size_t i, store::Example& ex) -> store::Loaded {
        const Item& it = items[i];
        const Region& g = regions[it.region];
        const Series s = series_of(it.region);
        std::copy_n(s->data() + it.point * per_point, per_point, ex.as<float>("x"));
        ex.id = fmt::format("{}_{:03d}", g.id, it.point);
        const bool held_out = std::find(test_groups.begin(), test_groups.end(), g.group) != test_groups.end();
        ex.split = held_out ? store::kTest : store::hash_split(g.id, seed, task.split.fractions);
        ex.set("land_cover", static_cast<double>(points[it.region].label[it.point]));
        ex.set("region", g.id);
        ex.set("region_group", g.group);
        ex.set("lat", points[it.region].lat[it.point]);
        ex.set("lon", points[it.region].lon[it.point]);
        return {};
      },
      tally, opt.progress, "processed", "processed");

  nlohmann::ordered_json summary;
  summary["mod09a1_composites"] = sat.size();
  summary["missing_composites"] = missing_dates;
  summary["mcd12q1_scenes"] = cover.size();
  summary["scenes_of_other_years"] = other_years;
  summary["scenes_off_the_8_day_grid"] = off_grid;
  summary["other_scenes"] = others;
  summary["regions"] = regions.size();  // of the labels (the kept and filtered ones of the shard are in the report)
  nlohmann::ordered_json settings;
  settings["year"] = year;
  settings["points_per_region"] = per_region;
  settings["region"] = "10 km x 10 km square of the MODIS sinusoidal projection centred on the region's lon, lat";
  settings["points"] = "uniform in the square, seeded by FNV-1a of the region id; values of the 463.3 m cell";
  settings["x"] = "MOD09A1 sur_refl_b01-b07 reflectance (DN x 1e-4, fill NaN, no QA mask) and NDVI, 46 composites";
  settings["label"] = "MCD12Q1 LC_Type1 (IGBP 1-17) of the year at the point's cell";
  settings["filter"] = "regions with fewer than 2 classes or one class over 80% of their labelled points dropped";
  settings["split"] = fmt::format("region groups {} are test; other regions by a hash of the region id, seed {}",
                                  nlohmann::json(test_groups).dump(), seed);
  return finish_prepare(writer, tally, task, opt, settings.dump(), summary.dump());
}

}  // namespace sbench::prepare
