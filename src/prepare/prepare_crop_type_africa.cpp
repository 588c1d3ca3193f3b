// Crop type in Ghana and South Sudan (SUSTAINBENCH.md 2.D; docs/research/crop_type_pipeline.md
// section 1): 64 x 64 tiles of 10 m (640 m) on a grid of 640 m in the UTM zone of the field
// polygons (so on the Sentinel-2 pixel edges), kept when a labelled field covers a pixel centre;
// truth = the crop code of the field under each pixel (0 = unlabelled); the Sentinel-1 (VV, VH in
// dB, their ratio), Sentinel-2 (10 bands, DN) and PlanetScope (BGRN, DN, averaged from 3 m onto the
// tile's 10 m pixels) series of every date that has a pixel in the tile, right-padded to 256 steps.
#include <fmt/format.h>
#include <ogr_api.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <tuple>

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

constexpr int kSize = 64;
constexpr double kRes = 10, kSide = kSize * kRes;
constexpr std::size_t kMinDates = 4;  // RUST: MIN_TIMESTAMPS (bad_list_finder.py)

std::int32_t date_number(const std::string& date) {  // YYYY-MM-DD -> YYYYMMDD
  int y = 0, m = 0, d = 0;
  std::sscanf(date.c_str(), "%4d-%2d-%2d", &y, &m, &d);
  return y * 10000 + m * 100 + d;
}

struct Sensor {
  const char* input;   // the store's field
  const char* family;  // the scenes' sensor family
  std::vector<std::string> bands;
  std::optional<raster::Resampling> resampling;
  bool apply_mask;
  std::vector<const raster::Scene*> scenes;  // by date, then product
};

// One tile's series of a sensor: per date, the first valid value of each pixel over that date's
// scenes (by product name); a date is a step when a pixel of the tile has a value.
struct Series {
  std::vector<std::vector<float>> steps;  // bands x 64 x 64 each
  std::vector<std::int32_t> dates;
};

Series read_series(const Sensor& sensor, const raster::TileGrid& grid, UnreadableScenes& unreadable) {
  Series out;
  raster::SceneReadOptions read;
  read.bands = sensor.bands;
  read.resampling = sensor.resampling;
  read.apply_mask = sensor.apply_mask;
  std::size_t k = 0;
  while (k < sensor.scenes.size()) {
    const std::string date = sensor.scenes[k]->date;
    std::vector<raster::WarpedTile> day;
    for (; k < sensor.scenes.size() && sensor.scenes[k]->date == date; ++k) {
      if (!raster::scene_may_cover(*sensor.scenes[k], grid)) continue;
      try {
        raster::WarpedTile t = raster::read_scene(*sensor.scenes[k], grid, read);
        if (std::any_of(t.values.begin(), t.values.end(), [](float v) { return std::isfinite(v); }))
          day.push_back(std::move(t));
      } catch (const InputError& e) {
        unreadable.report({std::string(e.what())});
      }
    }
    if (day.empty()) continue;
    raster::WarpedTile merged =
        day.size() == 1 ? std::move(day.front()) : raster::composite(day, raster::Composite::first);
    out.steps.push_back(std::move(merged.values));
    out.dates.push_back(date_number(date));
  }
  return out;
}

}  // namespace

store::ImportReport prepare_crop_type_africa(const TaskCard& task, const TaskRegistry& registry,
                                             const PrepareOptions& opt) {
  raster::init_gdal();
  const Polygons fields = read_polygons(opt.labels, "field polygons with crop and country attributes");
  if (fields.geometries.empty()) fail<InputError>("{}: no field polygons", opt.labels);
  const TargetSpec& target = *task.find_target("truth");
  // Each field's country and crop code (0 = not one of the country's classes: unlabelled).
  std::vector<std::string> country(fields.geometries.size());
  std::vector<std::uint8_t> code(fields.geometries.size());
  std::vector<double> area(fields.geometries.size());
  std::map<std::string, std::size_t> other_crops;
  for (std::size_t i = 0; i < fields.geometries.size(); ++i) {
    const auto& a = fields.fields[i];
    const std::string* c = find_attribute(a, {"country"});
    const std::string* crop = find_attribute(a, {"crop", "cropType", "crop_name", "class"});
    if (c && c->empty()) c = nullptr;  // the layer has the field, this feature leaves it unset
    if (!c || !crop) {
      fail<InputError>("{}: feature {} has no {} attribute (expected 'country': {} and 'crop': a class name or code)",
                       opt.labels, fields.ids[i], c ? "crop" : "country", fmt::join(task.variants, " or "));
    }
    const std::string variant = name_key(*c);
    const auto classes = target.classes_by_variant.find(variant);
    if (classes == target.classes_by_variant.end()) {
      fail<InputError>("{}: feature {} has country '{}', expected {}", opt.labels, fields.ids[i], *c,
                       fmt::join(task.variants, " or "));
    }
    country[i] = variant;
    const std::string name = name_key(*crop);
    for (std::size_t k = 1; k < classes->second.size(); ++k) {
      if (name == name_key(classes->second[k]) || name == std::to_string(k)) code[i] = static_cast<std::uint8_t>(k);
    }
    if (code[i] == 0) ++other_crops[*crop];
    area[i] = OGR_G_Area(OGRGeometry::ToHandle(fields.geometries[i].get()));
  }
  for (const auto& [crop, n] : other_crops) {
    spdlog::warn("{}: {} field(s) of crop '{}', not one of the release's classes: unlabelled (0)", opt.labels, n, crop);
  }
  // Each country's grid is in the UTM zone of its own fields' centre: the polygons are projected
  // once more for a country whose zone is not that of the whole file.
  std::map<std::string, Polygons> zoned;
  std::map<std::string, std::string> crs_of;
  {
    std::map<std::string, OGREnvelope> extent;
    for (std::size_t i = 0; i < fields.geometries.size(); ++i) {
      OGREnvelope e;
      fields.geometries[i]->getEnvelope(&e);
      extent[country[i]].Merge(e);
    }
    OGRSpatialReference from, wgs84;
    from.SetFromUserInput(fields.utm.c_str());
    from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    wgs84.SetWellKnownGeogCS("WGS84");
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> to_geo(OGRCreateCoordinateTransformation(&from, &wgs84));
    for (const auto& [c, e] : extent) {
      double lon = (e.MinX + e.MaxX) / 2, lat = (e.MinY + e.MaxY) / 2;
      if (!to_geo || !to_geo->Transform(1, &lon, &lat))
        fail<InputError>("{}: the centre of the {} fields has no WGS 84 position", opt.labels, c);
      crs_of[c] = raster::utm_crs(lon, lat);
      if (crs_of[c] != fields.utm) zoned.emplace(c, read_polygons(opt.labels, "field polygons", "", crs_of[c]));
    }
  }
  auto geometry = [&](std::size_t i) -> OGRGeometry* {
    const auto z = zoned.find(country[i]);
    return (z == zoned.end() ? fields : z->second).geometries[i].get();
  };

  // Candidate tiles: per country, the 640 m cells that a field's box meets, north to south, west to east.
  std::map<std::tuple<std::string, long, long>, std::vector<std::size_t>> cells;  // (country, -row, col) -> fields
  for (std::size_t i = 0; i < fields.geometries.size(); ++i) {
    OGREnvelope e;
    geometry(i)->getEnvelope(&e);
    for (long r = static_cast<long>(std::floor(e.MinY / kSide)); r <= static_cast<long>(std::floor(e.MaxY / kSide));
         ++r) {
      for (long c = static_cast<long>(std::floor(e.MinX / kSide)); c <= static_cast<long>(std::floor(e.MaxX / kSide));
           ++c)
        cells[{country[i], -r, c}].push_back(i);
    }
  }
  // Truth of each cell: fields by decreasing area, so that the smaller of two overlapping fields wins.
  struct Tile {
    long row = 0, col = 0;
    std::string country, id;
    std::int64_t number = 0;
    std::vector<std::uint8_t> truth;
    std::vector<std::size_t> fields;  // with a pixel in the tile
  };
  std::vector<Tile> tiles;
  std::size_t unlabelled_tiles = 0;
  for (auto& [cell, members] : cells) {
    Tile t;
    t.country = std::get<0>(cell);
    t.row = -std::get<1>(cell);
    t.col = std::get<2>(cell);
    const double gt[6] = {t.col * kSide, kRes, 0, (t.row + 1) * kSide, 0, -kRes};
    std::stable_sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) { return area[a] > area[b]; });
    t.truth.assign(kSize * kSize, 0);
    for (std::size_t f : members) {
      const auto mask = rasterize_polygons({geometry(f)}, gt, kSize, kSize);
      bool any = false;
      for (std::size_t p = 0; p < mask.size(); ++p) {
        if (mask[p]) t.truth[p] = code[f], any = true;
      }
      if (any) t.fields.push_back(f);
    }
    const auto labelled = std::find_if(t.truth.begin(), t.truth.end(), [](std::uint8_t v) { return v > 0; });
    if (labelled == t.truth.end()) {
      if (!t.fields.empty()) ++unlabelled_tiles;
      continue;
    }
    t.number = static_cast<std::int64_t>(tiles.size());
    t.id = fmt::format("{}_{:06d}", t.country, t.number);
    tiles.push_back(std::move(t));
  }
  if (tiles.empty()) fail<InputError>("{}: no field of a release class covers a 10 m pixel centre", opt.labels);
  // Tiles that share a field form a cluster, which goes to one split (as RUST's data_split.py);
  // the cluster is hashed by its first tile's id.
  std::vector<std::size_t> parent(tiles.size());
  std::iota(parent.begin(), parent.end(), 0);
  std::function<std::size_t(std::size_t)> root = [&](std::size_t x) {
    return parent[x] == x ? x : parent[x] = root(parent[x]);
  };
  std::vector<std::string> cluster_key(tiles.size());
  {
    std::map<std::size_t, std::size_t> first_tile_of_field;
    for (std::size_t t = 0; t < tiles.size(); ++t) {
      for (std::size_t f : tiles[t].fields) {
        auto [it, fresh] = first_tile_of_field.emplace(f, t);
        if (!fresh) {
          const std::size_t a = root(it->second), b = root(t);
          parent[std::max(a, b)] = std::min(a, b);
        }
      }
    }
    for (std::size_t t = 0; t < tiles.size(); ++t) cluster_key[t] = tiles[root(t)].id;
  }

  const SceneSet scenes = select_scenes(
      opt,
      [](const std::string& s) {
        return s == "sentinel2_l1c" || s == "sentinel2_l2a" || s == "sentinel1_grd" || s == "planetscope_sr";
      },
      opt.start.empty() ? "0000-01-01" : opt.start, opt.end.empty() ? "9999-12-31" : opt.end,
      "Sentinel-1, Sentinel-2 or PlanetScope scene");
  std::vector<Sensor> sensors = {{"s1", "sentinel1", {"VV_DB", "VH_DB"}, std::nullopt, true, {}},
                                 {"s2",
                                  "sentinel2",
                                  {"BLUE", "GREEN", "RED", "RDED1", "RDED2", "RDED3", "NIR", "RDED4", "SWIR1", "SWIR2"},
                                  raster::Resampling::nearest,
                                  false,
                                  {}},
                                 {"planet", "planetscope", {"BLUE", "GREEN", "RED", "NIR"}, std::nullopt, true, {}}};
  nlohmann::ordered_json summary;
  for (auto& s : sensors) {
    for (const auto& scene : scenes.scenes) {
      if (scene.sensor.rfind(s.family, 0) == 0) s.scenes.push_back(&scene);
    }
    std::sort(s.scenes.begin(), s.scenes.end(),
              [](auto* a, auto* b) { return std::tie(a->date, a->product) < std::tie(b->date, b->product); });
    summary[std::string(s.input) + "_scenes"] = s.scenes.size();
    if (s.scenes.empty()) spdlog::warn("no {} scenes: every tile's {} series is empty", s.family, s.input);
  }
  summary["scenes_outside_window"] = scenes.outside_window;
  summary["other_scenes"] = scenes.other_sensors;
  summary["unrecognised_files"] = scenes.unrecognised_files;
  summary["fields"] = fields.geometries.size();
  summary["tiles"] = tiles.size();
  summary["tiles_with_unlabelled_fields_only"] = unlabelled_tiles;
  summary["unlabelled_crops"] = other_crops;

  store::Schema schema = store::schema_from_card(task, registry);
  const auto t_max = static_cast<std::size_t>(schema.field("s2").shape[1]);
  const auto steps_dim = static_cast<std::int64_t>(t_max);
  // Options: NDVI and GCVI of the raw S2 and Planet bands (the loader's optional channels), and
  // PlanetScope at its 3 m (212 x 212, the release's centre crop PLANET_DIM) beside the 64 x 64.
  auto add_input = [&](const std::string& name, store::ElementType type, std::int64_t channels, std::int64_t size,
                       std::vector<std::string> bands) {
    store::Field f;
    f.group = store::Group::input;
    f.name = name;
    f.type = type;
    f.shape = {channels, steps_dim, size, size};
    f.bands = std::move(bands);
    f.axes = "CTHW";
    schema.fields.push_back(std::move(f));
  };
  if (opt.indices) {
    add_input("s2_indices", store::ElementType::float32, 2, kSize, {"NDVI", "GCVI"});
    add_input("planet_indices", store::ElementType::float32, 2, kSize, {"NDVI", "GCVI"});
  }
  constexpr int kNative = 212;
  if (opt.planet_native)
    add_input("planet_native", store::ElementType::int32, 4, kNative, {"BLUE", "GREEN", "RED", "NIR"});
  Sensor native = sensors[2];
  native.resampling = raster::Resampling::nearest;
  const auto [first, last] = shard_rows(tiles.size(), opt.shard, opt.shards);
  store::Tally tally;
  store::StoreWriter writer(
      opt.out, schema,
      writer_options(opt, fmt::format("crop_type_africa start={} end={} indices={} planet_native={}", opt.start,
                                      opt.end, opt.indices, opt.planet_native)));
  writer.add_source_file(store::describe_file(opt.labels));
  UnreadableScenes unreadable(tally);
  constexpr std::size_t plane = static_cast<std::size_t>(kSize) * kSize;
  store::run_import(
      writer, last - first, opt.threads, [&](std::size_t i) { return tiles[first + i].id; },
      [&](std::size_t i, store::Example& ex) -> store::Loaded {
        const Tile& t = tiles[first + i];
        const raster::TileGrid grid =
            raster::make_grid_at((t.col + 0.5) * kSide, (t.row + 0.5) * kSide, kSize, kRes, crs_of.at(t.country));
        std::vector<Series> all;
        std::size_t any_steps = 0;
        for (const Sensor& s : sensors) {
          all.push_back(read_series(s, grid, unreadable));
          any_steps += all.back().dates.size();
        }
        if (any_steps == 0) return {"outside_imagery", t.id, {}};
        for (std::size_t k = 0; k < sensors.size(); ++k) {
          if (!sensors[k].scenes.empty() && all[k].dates.size() < kMinDates) {
            return {"too_few_dates", fmt::format("{} ({} {} dates)", t.id, all[k].dates.size(), sensors[k].input), {}};
          }
        }
        for (std::size_t sk = 0; sk < sensors.size(); ++sk) {
          const Sensor& s = sensors[sk];
          const Series& series = all[sk];
          if (series.dates.size() > t_max) {
            spdlog::warn("tile {}: {} series of {} dates cropped to {}", t.id, s.input, series.dates.size(), t_max);
          }
          const std::size_t steps = std::min(series.dates.size(), t_max);
          const std::size_t channels = std::string(s.input) == "s1" ? 3 : s.bands.size();
          auto* dates = ex.as<std::int32_t>(std::string(s.input) + "_dates");
          for (std::size_t k = 0; k < t_max; ++k) dates[k] = k < steps ? series.dates[k] : 0;
          if (std::string(s.input) == "s1") {
            // VV and VH in dB and their ratio VH_dB / VV_dB (the release's RATIO); no data is 0.
            float* x = ex.as<float>("s1");
            std::fill(x, x + channels * t_max * plane, 0.0f);
            for (std::size_t k = 0; k < steps; ++k) {
              const float* v = series.steps[k].data();
              for (std::size_t p = 0; p < plane; ++p) {
                const float vv = v[p], vh = v[plane + p];
                x[(0 * t_max + k) * plane + p] = std::isfinite(vv) ? vv : 0.0f;
                x[(1 * t_max + k) * plane + p] = std::isfinite(vh) ? vh : 0.0f;
                x[(2 * t_max + k) * plane + p] = std::isfinite(vv) && std::isfinite(vh) && vv != 0 ? vh / vv : 0.0f;
              }
            }
          } else {
            // Reflectance x 10^4 as integer DN (the release's raw values); no data is 0.
            auto* x = ex.as<std::int32_t>(s.input);
            std::fill(x, x + channels * t_max * plane, 0);
            for (std::size_t k = 0; k < steps; ++k) {
              for (std::size_t b = 0; b < channels; ++b) {
                const float* v = series.steps[k].data() + b * plane;
                std::int32_t* dst = x + (b * t_max + k) * plane;
                for (std::size_t p = 0; p < plane; ++p)
                  dst[p] = std::isfinite(v[p]) ? static_cast<std::int32_t>(std::lround(v[p] * 10000.0)) : 0;
              }
            }
            if (opt.indices) {
              // NDVI = (NIR - RED) / (NIR + RED), GCVI = NIR / GREEN - 1 of the raw DN (the card's
              // notes); NaN where a band has no data or the denominator is 0; padding steps 0.
              const bool s2 = std::string(s.input) == "s2";
              const std::size_t green = 1, red = 2, nir = s2 ? 6 : 3;
              float* idx = ex.as<float>(std::string(s.input) + "_indices");
              std::fill(idx, idx + 2 * t_max * plane, 0.0f);
              const float nan = std::numeric_limits<float>::quiet_NaN();
              for (std::size_t k = 0; k < steps; ++k) {
                const std::int32_t* g = x + (green * t_max + k) * plane;
                const std::int32_t* r = x + (red * t_max + k) * plane;
                const std::int32_t* n = x + (nir * t_max + k) * plane;
                float* ndvi = idx + k * plane;
                float* gcvi = idx + (t_max + k) * plane;
                for (std::size_t p = 0; p < plane; ++p) {
                  const bool data = g[p] != 0 && r[p] != 0 && n[p] != 0;
                  const double sum = static_cast<double>(n[p]) + r[p];
                  ndvi[p] = data && sum != 0 ? static_cast<float>((n[p] - r[p]) / sum) : nan;
                  gcvi[p] = data ? static_cast<float>(static_cast<double>(n[p]) / g[p] - 1) : nan;
                }
              }
            }
          }
        }
        if (opt.planet_native) {
          // The 3 m pixels (nearest) of a 212 x 212 grid centred on the tile, on planet's dates.
          const raster::TileGrid fine =
              raster::make_grid_at((t.col + 0.5) * kSide, (t.row + 0.5) * kSide, kNative, 3.0, crs_of.at(t.country));
          const Series series = read_series(native, fine, unreadable);
          const std::size_t fplane = static_cast<std::size_t>(kNative) * kNative;
          auto* x = ex.as<std::int32_t>("planet_native");
          std::fill(x, x + 4 * t_max * fplane, 0);
          const std::size_t steps = std::min(all[2].dates.size(), t_max);
          for (std::size_t k = 0; k < steps; ++k) {
            const auto at = std::find(series.dates.begin(), series.dates.end(), all[2].dates[k]);
            if (at == series.dates.end()) continue;
            const std::vector<float>& v = series.steps[static_cast<std::size_t>(at - series.dates.begin())];
            for (std::size_t b = 0; b < 4; ++b) {
              std::int32_t* dst = x + (b * t_max + k) * fplane;
              for (std::size_t p = 0; p < fplane; ++p) {
                const float f = v[b * fplane + p];
                dst[p] = std::isfinite(f) ? static_cast<std::int32_t>(std::lround(f * 10000.0)) : 0;
              }
            }
          }
        }
        std::copy(t.truth.begin(), t.truth.end(), ex.as<std::uint8_t>("truth"));
        ex.id = t.id;
        ex.split = store::hash_split(cluster_key[first + i], 0, {{"train", 0.8}, {"val", 0.1}, {"test", 0.1}});
        ex.set("country", t.country);
        ex.set("tile", static_cast<double>(t.number));
        return {};
      },
      tally, opt.progress, "processed", "processed");

  nlohmann::ordered_json settings;
  settings["crs"] = crs_of;
  settings["grid"] = "64 x 64 pixels of 10 m on multiples of 640 m in the UTM zone of each country's fields";
  settings["truth"] =
      "crop code of the field whose polygon holds the pixel centre (the smaller field where two overlap), 0 = "
      "unlabelled";
  settings["tiles"] =
      "cells a field of a release class covers; ids {country}_{n:06d} by country, then grid order (north first)";
  settings["steps"] = fmt::format(
      "every date with a pixel in the tile, same-day scenes merged (first by product name), up to {}; a sensor with "
      "scenes needs {} dates per tile (RUST MIN_TIMESTAMPS)",
      t_max, kMinDates);
  settings["s1"] = "VV_DB, VH_DB (10 log10 of linear power, bilinear), RATIO = VH_DB / VV_DB; no data 0";
  settings["s2"] = "10 bands as DN (reflectance x 10^4), nearest, every date (no cloud filter, as the release)";
  settings["planet"] = "BGRN surface reflectance x 10^4, 3 m averaged onto the 10 m pixels";
  if (opt.indices) settings["indices"] = "s2_indices, planet_indices: NDVI, GCVI of the raw DN, NaN where undefined";
  if (opt.planet_native)
    settings["planet_native"] = "PlanetScope DN at 3 m, 212 x 212 centred on the tile (nearest), on planet_dates";
  settings["split"] = "clusters of tiles sharing a field, hashed by the first tile's id with seed 0 to 0.8/0.1/0.1";
  return finish_prepare(writer, tally, task, opt, settings.dump(), summary.dump());
}

}  // namespace sbench::prepare
