// Land cover representation (SUSTAINBENCH.md 2.I, after Jean et al.'s Tile2Vec): NAIP tiles of
// 100 x 100 pixels (60 m at 0.6 m), 4 bands uint8, each labelled with the most common Cropland Data
// Layer class under it; as an option, Tile2Vec triplets (an anchor tile, a neighbour centred within
// 100 m of it, a distant tile).
#include <fmt/format.h>
#include <gdal.h>
#include <ogr_spatialref.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "prepare_common.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/scene.hpp"
#include "sbench/raster/warp.hpp"
#include "sbench/store/store.hpp"

namespace sbench::prepare {

namespace {

constexpr int kSize = 100;
constexpr double kRes = 0.6;
constexpr double kStep = kSize * kRes;    // 60 m
constexpr double kNeighbourRadius = 100;  // metres between the centres of an anchor and its neighbour
constexpr long kBlock = 20;               // tiles per side of a split block (1.2 km)

struct Tile {
  std::string id;
  double cx = 0, cy = 0;  // centre in the anchor scene's CRS
  long block_x = 0, block_y = 0;
};

// The scenes' boxes in the CRS of the first scene (by product name), whose pixel grid the tiles follow.
struct Area {
  std::string crs;
  double ox = 0, oy = 0;                     // the anchor scene's upper-left corner
  std::vector<std::array<double, 4>> boxes;  // x0, y0, x1, y1 of each scene
  bool inside(double x0, double y0, double x1, double y1) const {
    for (const auto& b : boxes) {
      if (x0 >= b[0] && x1 <= b[2] && y0 >= b[1] && y1 <= b[3]) return true;
    }
    return false;
  }
};

Area scene_area(std::vector<const raster::Scene*> scenes) {
  std::sort(scenes.begin(), scenes.end(), [](auto* a, auto* b) { return a->product < b->product; });
  Area area;
  OGRSpatialReference anchor;
  for (std::size_t k = 0; k < scenes.size(); ++k) {
    const std::string& file = scenes[k]->files.front();
    GDALDatasetH ds = GDALOpen(file.c_str(), GA_ReadOnly);
    if (!ds) fail<InputError>("{}: GDAL cannot open it", file);
    double gt[6];
    const bool ok = GDALGetGeoTransform(ds, gt) == CE_None && gt[2] == 0 && gt[4] == 0;
    const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    OGRSpatialReference srs;
    const char* wkt = GDALGetProjectionRef(ds);
    const bool has_crs = wkt && *wkt && srs.importFromWkt(wkt) == OGRERR_NONE;
    GDALClose(ds);
    if (!ok || !has_crs) fail<InputError>("{}: no north-up georeferencing or no CRS", file);
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    double xs[4] = {gt[0], gt[0] + w * gt[1], gt[0], gt[0] + w * gt[1]};
    double ys[4] = {gt[3], gt[3], gt[3] + h * gt[5], gt[3] + h * gt[5]};
    if (k == 0) {
      area.crs = scenes[k]->crs;
      area.ox = gt[0];
      area.oy = gt[3];
      anchor = srs;
    } else if (!srs.IsSame(&anchor)) {
      std::unique_ptr<OGRCoordinateTransformation> to(OGRCreateCoordinateTransformation(&srs, &anchor));
      if (!to || !to->Transform(4, xs, ys)) fail<InputError>("{}: its corners do not transform to {}", file, area.crs);
    }
    area.boxes.push_back({std::min({xs[0], xs[1], xs[2], xs[3]}), std::min({ys[0], ys[1], ys[2], ys[3]}),
                          std::max({xs[0], xs[1], xs[2], xs[3]}), std::max({ys[0], ys[1], ys[2], ys[3]})});
  }
  return area;
}

// Every tile of the grid of 60 m from the anchor's corner that lies inside one scene, rows from the north.
std::vector<Tile> enumerate_tiles(const Area& area) {
  std::set<std::pair<long, long>> cells;  // (row, column)
  for (const auto& b : area.boxes) {
    const long c0 = static_cast<long>(std::ceil((b[0] - area.ox) / kStep - 1e-9));
    const long c1 = static_cast<long>(std::floor((b[2] - area.ox) / kStep + 1e-9));
    const long r0 = static_cast<long>(std::ceil((area.oy - b[3]) / kStep - 1e-9));
    const long r1 = static_cast<long>(std::floor((area.oy - b[1]) / kStep + 1e-9));
    for (long r = r0; r < r1; ++r) {
      for (long c = c0; c < c1; ++c) cells.insert({r, c});
    }
  }
  std::vector<Tile> tiles;
  for (const auto& [r, c] : cells) {
    Tile t;
    t.id = fmt::format("tile_{}_{}", r, c);
    t.cx = area.ox + (static_cast<double>(c) + 0.5) * kStep;
    t.cy = area.oy - (static_cast<double>(r) + 0.5) * kStep;
    t.block_x = c >= 0 ? c / kBlock : -((-c + kBlock - 1) / kBlock);
    t.block_y = r >= 0 ? r / kBlock : -((-r + kBlock - 1) / kBlock);
    tiles.push_back(std::move(t));
  }
  return tiles;
}

// Tile2Vec triplets: an anchor tile, a neighbour centred within 100 m of it (on the pixel grid and
// inside a scene) and a distant tile (another tile of the grid), drawn with seed 0.
std::vector<Tile> triplets(const std::vector<Tile>& grid, const Area& area, std::size_t n) {
  std::mt19937_64 rng(0);
  std::uniform_int_distribution<std::size_t> pick(0, grid.size() - 1);
  std::uniform_real_distribution<double> offset(-kNeighbourRadius, kNeighbourRadius);
  std::vector<Tile> out;
  for (std::size_t k = 0; k < n; ++k) {
    const Tile& a = grid[pick(rng)];
    Tile anchor = a, neighbour = a, distant;
    for (int attempt = 0; attempt < 100; ++attempt) {
      const double dx = std::round(offset(rng) / kRes) * kRes, dy = std::round(offset(rng) / kRes) * kRes;
      if (dx * dx + dy * dy > kNeighbourRadius * kNeighbourRadius) continue;
      const double x = a.cx + dx, y = a.cy + dy;
      if (area.inside(x - kStep / 2, y - kStep / 2, x + kStep / 2, y + kStep / 2)) {
        neighbour.cx = x, neighbour.cy = y;
        break;
      }
    }
    do {
      distant = grid[pick(rng)];
    } while (grid.size() > 1 && distant.id == a.id);
    for (auto* t : {&distant, &neighbour}) t->block_x = a.block_x, t->block_y = a.block_y;  // the anchor's split
    anchor.id = fmt::format("triplet_{:06d}_anchor", k);
    neighbour.id = fmt::format("triplet_{:06d}_neighbor", k);
    distant.id = fmt::format("triplet_{:06d}_distant", k);
    out.push_back(anchor);
    out.push_back(neighbour);
    out.push_back(distant);
  }
  return out;
}

}  // namespace

store::ImportReport prepare_land_cover_rep(const TaskCard& task, const TaskRegistry& registry,
                                           const PrepareOptions& opt) {
  raster::init_gdal();
  const std::string start = opt.year > 0 ? fmt::format("{}-01-01", opt.year) : "0000-01-01";
  const std::string end = opt.year > 0 ? fmt::format("{}-12-31", opt.year) : "9999-12-31";
  const SceneSet scenes = select_scenes(
      opt, [](const std::string& sensor) { return sensor == "naip"; }, start, end, "NAIP image");
  const std::vector<const raster::Scene*> window = scenes.pointers();
  const Area area = scene_area(window);
  std::vector<Tile> tiles = enumerate_tiles(area);
  if (tiles.empty()) fail<InputError>("the NAIP images hold no whole tile of 100 x 100 px of 0.6 m");
  const std::size_t grid_tiles = tiles.size();
  if (opt.triplets > 0) {
    tiles = triplets(tiles, area, static_cast<std::size_t>(opt.triplets));
  } else if (opt.sample > 0 && tiles.size() > static_cast<std::size_t>(opt.sample)) {
    // A seeded sample (seed 0), kept in grid order.
    std::vector<std::size_t> order(tiles.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937_64 rng(0);
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
    order.resize(static_cast<std::size_t>(opt.sample));
    std::sort(order.begin(), order.end());
    std::vector<Tile> kept;
    for (std::size_t i : order) kept.push_back(tiles[i]);
    tiles = std::move(kept);
  }
  // The CDL must open before anything is written.
  {
    GDALDatasetH cdl = GDALOpen(opt.labels.c_str(), GA_ReadOnly);
    if (!cdl) fail<InputError>("{}: not a raster GDAL can open (expected the Cropland Data Layer)", opt.labels);
    GDALClose(cdl);
  }
  const store::Schema schema = store::schema_from_card(task, registry);
  nlohmann::ordered_json summary;
  summary["naip_images"] = scenes.scenes.size();
  summary["other_scenes"] = scenes.other_sensors;
  summary["images_of_other_years"] = scenes.outside_window;
  summary["unrecognised_files"] = scenes.unrecognised_files;
  summary["grid_tiles"] = grid_tiles;
  summary["tiles"] = tiles.size();

  const auto [first, last] = shard_rows(tiles.size(), opt.shard, opt.shards);
  store::Tally tally;
  store::StoreWriter writer(opt.out, schema,
                            writer_options(opt, fmt::format("land_cover_rep year={} sample={} triplets={}", opt.year,
                                                            opt.sample, opt.triplets)));
  writer.add_source_file(store::describe_file(opt.labels));
  raster::SceneReadOptions read;
  read.bands = {"RED", "GREEN", "BLUE", "NIR"};
  read.resampling = raster::Resampling::nearest;
  raster::WarpOptions cdl_read;
  cdl_read.resampling = raster::Resampling::nearest;
  UnreadableScenes unreadable(tally);
  const std::size_t plane = static_cast<std::size_t>(kSize) * kSize;
  store::run_import(
      writer, last - first, opt.threads, [&](std::size_t i) { return tiles[first + i].id; },
      [&](std::size_t i, store::Example& ex) -> store::Loaded {
        const Tile& t = tiles[first + i];
        const raster::TileGrid grid = raster::make_grid_at(t.cx, t.cy, kSize, kRes, area.crs);
        raster::SceneTile st = raster::tile_from_scenes(window, grid, read, raster::Composite::first, true);
        unreadable.report(st.unreadable);
        if (st.scenes == 0) return {"no_record", t.id, {}};
        if (st.tile.valid_fraction < 1) return {"missing_pixels", t.id, {}};
        // The most common CDL code under the tile (0 is background; ties go to the lower code).
        const raster::WarpedTile cdl = raster::warp_to_grid(opt.labels, grid, cdl_read);
        std::array<std::size_t, 256> count{};
        for (float v : cdl.values) {
          if (std::isfinite(v) && v >= 1 && v <= 255) ++count[static_cast<std::size_t>(v)];
        }
        const auto best = std::max_element(count.begin(), count.end());
        if (*best == 0) return {"no_label", t.id, {}};
        auto* x = ex.as<std::uint8_t>("x");
        for (std::size_t p = 0; p < 4 * plane; ++p)
          x[p] = static_cast<std::uint8_t>(std::clamp(std::lround(st.tile.values[p]), 0L, 255L));
        ex.id = t.id;
        ex.split = store::hash_split(fmt::format("block_{}_{}", t.block_y, t.block_x), 0,
                                     {{"train", 0.8}, {"val", 0.1}, {"test", 0.1}});
        ex.set("land_cover", static_cast<double>(best - count.begin()));
        ex.set("lat", grid.lat);
        ex.set("lon", grid.lon);
        return {};
      },
      tally, opt.progress, "processed", "processed");

  nlohmann::ordered_json settings;
  settings["crs"] = area.crs;
  settings["size"] = kSize;
  settings["res_m"] = kRes;
  settings["grid"] = "60 m tiles from the upper-left corner of the first NAIP image (by name), on its pixels";
  settings["label"] = "most common Cropland Data Layer code under the tile (nearest), 0 ignored, ties to the lower";
  settings["split"] = "blocks of 20 x 20 tiles (1.2 km), hashed with seed 0 to train/val/test 0.8/0.1/0.1";
  if (opt.triplets > 0) {
    settings["triplets"] =
        fmt::format("{} (anchor, neighbour centred within {} m, distant tile), seed 0", opt.triplets, kNeighbourRadius);
  }
  return finish_prepare(writer, tally, task, opt, settings.dump(), summary.dump());
}

}  // namespace sbench::prepare
