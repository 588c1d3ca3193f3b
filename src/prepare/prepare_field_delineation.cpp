// Field delineation (SUSTAINBENCH.md 2.G, after Aung et al. 2020): per sampled parcel, a 224 x 224
// tile of 10 m centred on it: the Sentinel-2 RGB median of the year, contrast-stretched per image to
// 0-255 as scipy.misc.imsave did; the parcels meeting the tile rasterized to a boundary mask (lines
// two pixels wide) and a filled mask (interiors without the boundaries).
#include <fmt/format.h>
#include <gdal.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "polygons.hpp"
#include "prepare_common.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/scene.hpp"
#include "sbench/store/store.hpp"

namespace sbench::prepare {

namespace {

constexpr int kSize = 224;
constexpr double kRes = 10;

// The parcels burnt into the tile whose upper-left corner is (x0, y1).
std::vector<std::uint8_t> rasterize(const std::vector<OGRGeometry*>& geometries, double x0, double y1) {
  const double gt[6] = {x0, kRes, 0, y1, 0, -kRes};
  return rasterize_polygons(geometries, gt, kSize, kSize);
}

}  // namespace

store::ImportReport prepare_field_delineation(const TaskCard& task, const TaskRegistry& registry,
                                              const PrepareOptions& opt) {
  raster::init_gdal();
  const int year = opt.year > 0 ? opt.year : 2017;
  const std::size_t sample = opt.sample > 0 ? static_cast<std::size_t>(opt.sample) : 2000;
  Polygons parcels = read_polygons(opt.labels, "parcel polygons (RPG)", "ID_PARCEL");
  const std::string& utm = parcels.utm;
  std::vector<OGREnvelope> envelopes(parcels.geometries.size());
  for (std::size_t i = 0; i < envelopes.size(); ++i) parcels.geometries[i]->getEnvelope(&envelopes[i]);
  // The parcels the tiles centre on: a seeded sample (seed 0) of `sample`, in file order.
  std::vector<std::size_t> chosen(parcels.geometries.size());
  for (std::size_t i = 0; i < chosen.size(); ++i) chosen[i] = i;
  if (chosen.size() > sample) {
    std::mt19937_64 rng(0);
    for (std::size_t i = chosen.size(); i > 1; --i) std::swap(chosen[i - 1], chosen[rng() % i]);
    chosen.resize(sample);
    std::sort(chosen.begin(), chosen.end());
  }
  const store::Schema schema = store::schema_from_card(task, registry);

  const SceneSet scenes = select_scenes(
      opt, [](const std::string& sensor) { return sensor == "sentinel2_l2a"; }, fmt::format("{}-01-01", year),
      fmt::format("{}-12-31", year), "Sentinel-2 L2A scene");
  const std::vector<const raster::Scene*> window = scenes.pointers();
  nlohmann::ordered_json summary;
  summary["sentinel2_scenes"] = scenes.scenes.size();
  summary["other_scenes"] = scenes.other_sensors;
  summary["scenes_outside_year"] = scenes.outside_window;
  summary["unrecognised_files"] = scenes.unrecognised_files;
  summary["parcels"] = parcels.geometries.size();
  summary["tiles"] = chosen.size();

  raster::SceneReadOptions read;
  read.bands = {"RED", "GREEN", "BLUE"};
  read.resampling = raster::Resampling::nearest;
  store::Tally tally;
  UnreadableScenes unreadable(tally);
  const std::size_t plane = static_cast<std::size_t>(kSize) * kSize;
  const double half = kSize * kRes / 2;

  const auto [first, last] = shard_rows(chosen.size(), opt.shard, opt.shards);
  store::StoreWriter writer(opt.out, schema, writer_options(opt, fmt::format("field_delineation year={}", year)));
  writer.add_source_file(store::describe_file(opt.labels));
  store::run_import(
      writer, last - first, opt.threads, [&](std::size_t i) { return "parcel_" + parcels.ids[chosen[first + i]]; },
      [&](std::size_t i, store::Example& ex) -> store::Loaded {
        const std::size_t k = chosen[first + i];
        const std::string id = "parcel_" + parcels.ids[k];
        // Centred on the parcel's centroid, edges on the 10 m grid.
        OGRPoint c;
        if (parcels.geometries[k]->Centroid(&c) != OGRERR_NONE) return {"bad_geometry", id, {}};
        const double cx = std::round(c.getX() / kRes) * kRes, cy = std::round(c.getY() / kRes) * kRes;
        const double x0 = cx - half, y1 = cy + half;
        const raster::TileGrid grid = raster::make_grid_at(cx, cy, kSize, kRes, utm);
        raster::SceneTile st = raster::tile_from_scenes(window, grid, read, raster::Composite::median, true);
        unreadable.report(st.unreadable);
        if (st.scenes == 0) return {"no_record", id, {}};
        if (st.tile.valid_fraction < 1) return {"missing_pixels", id, {}};
        // scipy.misc.imsave's bytescale over the whole RGB image, in float32 as numpy computed it.
        const auto [lo, hi] = std::minmax_element(st.tile.values.begin(), st.tile.values.end());
        const float cmin = *lo, cscale = *hi - *lo;
        const float scale = cscale == 0 ? 1.0f : static_cast<float>(255.0 / static_cast<double>(cscale));
        auto* x = ex.as<std::uint8_t>("x");
        for (std::size_t p = 0; p < 3 * plane; ++p) {
          const float v = std::clamp((st.tile.values[p] - cmin) * scale, 0.0f, 255.0f) + 0.5f;
          x[p] = static_cast<std::uint8_t>(v);
        }
        // The parcels meeting the tile: interiors, and boundaries as bands two pixels wide (10 m on
        // each side of the line, as cv2.polylines with thickness 2).
        OGREnvelope box;
        box.MinX = x0, box.MaxX = x0 + 2 * half, box.MinY = y1 - 2 * half, box.MaxY = y1;
        std::vector<OGRGeometry*> inside;
        std::vector<std::unique_ptr<OGRGeometry>> lines;
        for (std::size_t j = 0; j < envelopes.size(); ++j) {
          if (!envelopes[j].Intersects(box)) continue;
          inside.push_back(parcels.geometries[j].get());
          std::unique_ptr<OGRGeometry> boundary(parcels.geometries[j]->Boundary());
          if (boundary) lines.emplace_back(boundary->Buffer(kRes));
        }
        std::vector<OGRGeometry*> line_ptrs;
        for (auto& l : lines) {
          if (l) line_ptrs.push_back(l.get());
        }
        const auto filled = rasterize(inside, x0, y1);
        const auto edges = rasterize(line_ptrs, x0, y1);
        auto* mask = ex.as<std::uint8_t>("mask");
        auto* mask_filled = ex.as<std::uint8_t>("mask_filled");
        for (std::size_t p = 0; p < plane; ++p) {
          mask[p] = edges[p];
          mask_filled[p] = filled[p] && !edges[p] ? 1 : 0;
        }
        const auto bounds = lonlat_box(utm, x0, y1, 2 * half);
        ex.id = id;
        // A seeded random 80/10/10 split of the tiles, as the original's split_data.py (not its
        // exact draw).
        ex.split = store::hash_split(id, 0, {{"train", 0.8}, {"val", 0.1}, {"test", 0.1}});
        ex.set("min_lon", bounds[0]);
        ex.set("min_lat", bounds[1]);
        ex.set("max_lon", bounds[2]);
        ex.set("max_lat", bounds[3]);
        return {};
      },
      tally, opt.progress, "processed", "processed");

  nlohmann::ordered_json settings;
  settings["year"] = year;
  settings["crs"] = utm;
  settings["size"] = kSize;
  settings["res_m"] = kRes;
  settings["input"] = "median of RED, GREEN, BLUE (SCL-masked), bytescaled per image to 0-255";
  settings["mask"] = "parcel boundaries buffered by 10 m (2 px lines); mask_filled: interiors without them";
  settings["sample"] = sample;
  settings["split"] = "hash of the id, seed 0: train/val/test 0.8/0.1/0.1";
  return finish_prepare(writer, tally, task, opt, settings.dump(), summary.dump());
}

}  // namespace sbench::prepare
