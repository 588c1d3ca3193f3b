// Crop type in Kenya (SUSTAINBENCH.md 2.E; docs/research/crop_type_pipeline.md section 2): one
// series per field polygon, the mean of the field's clear Sentinel-2 pixels on every day of the
// year that a scene saw it, on a daily grid of 365 days with a mask of the observed days. Rows are
// the 13 bands B01..B12 (B8A after B08, B10 included) as DN (reflectance x 10^4) and GCVI =
// B08 / B03 - 1 of the field's means.
#include <fmt/format.h>
#include <ogr_geometry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

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

constexpr int kDays = 365;
constexpr double kRes = 10;
constexpr int kMaxSize = 1000;  // pixels per side of a field's grid (10 km)
// The 13 bands in the release's row order (B01, B02, B03, B04, B05, B06, B07, B08, B8A, B09, B10,
// B11, B12), by the names of sbench's Sentinel-2 profiles.
const std::array<const char*, 13> kBands = {"COASTAL", "BLUE",  "GREEN",      "RED",    "RDED1", "RDED2", "RDED3",
                                            "NIR",     "RDED4", "WATERVAPOR", "CIRRUS", "SWIR1", "SWIR2"};
constexpr std::size_t kGreen = 2, kNir = 7;

// Day of year (0-based) of a YYYY-MM-DD date in `year`, or -1.
int day_index(const std::string& date, int year) {
  int y = 0, m = 0, d = 0;
  if (std::sscanf(date.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || y != year || m < 1 || m > 12 || d < 1 || d > 31)
    return -1;
  static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int doy = before[m - 1] + d - 1 + (leap && m > 2 ? 1 : 0);
  return doy < kDays ? doy : -1;  // 31 December of a leap year has no column
}

}  // namespace

store::ImportReport prepare_crop_type_kenya(const TaskCard& task, const TaskRegistry& registry,
                                            const PrepareOptions& opt) {
  raster::init_gdal();
  const int year = opt.year > 0 ? opt.year : 2017;
  const Polygons fields = read_polygons(opt.labels, "field polygons with fieldID and cropType");
  if (fields.geometries.empty()) fail<InputError>("{}: no field polygons", opt.labels);
  const TargetSpec& target = *task.find_target("crop_type");
  struct Field {
    std::string id, crop, region;
  };
  std::vector<Field> rows;
  std::unordered_map<std::string, std::size_t> seen;
  bool any_crop = false;
  for (std::size_t i = 0; i < fields.geometries.size(); ++i) {
    const auto& a = fields.fields[i];
    const std::string* id = find_attribute(a, {"fieldID", "field_id", "id"});
    if (!id || id->empty()) {
      fail<InputError>("{}: feature {} has no fieldID (or id) attribute, expected one per field", opt.labels,
                       fields.ids[i]);
    }
    if (auto [it, fresh] = seen.emplace(*id, i); !fresh) {
      fail<InputError>("{}: field id '{}' is on features {} and {}", opt.labels, *id, fields.ids[it->second],
                       fields.ids[i]);
    }
    const std::string* crop = find_attribute(a, {"cropType", "crop"});
    const std::string* region = find_attribute(a, {"region"});
    rows.push_back({*id, crop ? *crop : "", region ? *region : ""});
    any_crop |= crop != nullptr;
  }
  if (!any_crop) {
    fail<InputError>("{}: no feature has a crop attribute (expected 'cropType' or 'crop', the release's spellings)",
                     opt.labels);
  }
  auto class_of = [&](const std::string& value) -> int {
    const std::string v = name_key(value);
    for (std::size_t k = 0; k < target.classes.size(); ++k) {
      if (v == name_key(target.classes[k]) ||
          (k < target.source_values.size() && v == name_key(target.source_values[k])))
        return static_cast<int>(k);
    }
    return -1;
  };

  const SceneSet scenes = select_scenes(
      opt, [](const std::string& s) { return s == "sentinel2_l1c" || s == "sentinel2_l2a"; },
      fmt::format("{}-01-01", year), fmt::format("{}-12-31", year), "Sentinel-2 scene");
  // Scenes by day of year, each day's granules by product name (the first clear one wins a pixel).
  std::map<int, std::vector<const raster::Scene*>> by_day;
  std::map<std::string, std::size_t> levels;
  std::size_t no_column = 0;
  for (const auto& s : scenes.scenes) {
    const int d = day_index(s.date, year);
    if (d < 0) {
      spdlog::warn("{}: date {} has no column of {} (31 December of a leap year): not used", s.product, s.date, year);
      ++no_column;
      continue;
    }
    by_day[d].push_back(&s);
    ++levels[s.sensor];
  }
  for (auto& [d, v] : by_day) {
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->product < b->product; });
  }
  if (levels.count("sentinel2_l2a")) {
    spdlog::warn("Level-2A scenes have no B10 (cirrus): its row is 0 on the days they give (the release is Level-1C)");
  }

  const store::Schema schema = store::schema_from_card(task, registry);
  const auto [first, last] = shard_rows(rows.size(), opt.shard, opt.shards);
  store::Tally tally;
  store::StoreWriter writer(opt.out, schema, writer_options(opt, fmt::format("crop_type_kenya year={}", year)));
  writer.add_source_file(store::describe_file(opt.labels));
  UnreadableScenes unreadable(tally);
  store::run_import(
      writer, last - first, opt.threads, [&](std::size_t i) { return rows[first + i].id; },
      [&](std::size_t i, store::Example& ex) -> store::Loaded {
        const std::size_t f = first + i;
        const Field& field = rows[f];
        if (field.crop.empty()) return {"missing_label", field.id, {}};
        const int cls = class_of(field.crop);
        if (cls < 0) return {"unknown_crop", fmt::format("{} ({})", field.id, field.crop), {}};
        // A grid of 10 m pixels on multiples of 10 m (the Sentinel-2 pixel edges), one pixel
        // beyond the field on every side.
        OGREnvelope env;
        fields.geometries[f]->getEnvelope(&env);
        const double x0 = std::floor(env.MinX / kRes) * kRes - kRes, y1 = std::ceil(env.MaxY / kRes) * kRes + kRes;
        const int size =
            static_cast<int>(std::max(std::ceil((env.MaxX - x0) / kRes), std::ceil((y1 - env.MinY) / kRes))) + 1;
        if (size > kMaxSize) return {"field_too_large", field.id, {}};
        const raster::TileGrid grid =
            raster::make_grid_at(x0 + size * kRes / 2, y1 - size * kRes / 2, size, kRes, fields.utm);
        const auto gt = grid.geotransform();
        const std::vector<std::uint8_t> mask = rasterize_polygons({fields.geometries[f].get()}, gt.data(), size, size);
        std::vector<std::size_t> inside;
        for (std::size_t p = 0; p < mask.size(); ++p) {
          if (mask[p]) inside.push_back(p);
        }
        if (inside.empty()) return {"no_pixels", field.id, {}};
        const std::size_t plane = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
        float* x = ex.as<float>("x");
        auto* observed = ex.as<std::uint8_t>("observed");
        std::fill(x, x + 14 * kDays, 0.0f);
        std::fill(observed, observed + kDays, std::uint8_t{0});
        int covered = 0, days = 0;
        std::vector<double> sum(kBands.size());
        std::vector<std::size_t> count(kBands.size());
        for (const auto& [day, granules] : by_day) {
          std::vector<raster::WarpedTile> tiles;
          std::vector<std::vector<int>> rows_of;  // the tile's plane of each of the 13 bands, -1 = absent
          for (const raster::Scene* s : granules) {
            if (!raster::scene_may_cover(*s, grid)) continue;
            raster::SceneReadOptions read;
            std::vector<int> at(kBands.size(), -1);
            for (std::size_t b = 0; b < kBands.size(); ++b) {
              if (s->find(kBands[b])) {
                at[b] = static_cast<int>(read.bands.size());
                read.bands.emplace_back(kBands[b]);
              }
            }
            read.resampling = raster::Resampling::nearest;  // 20 and 60 m bands onto the 10 m pixels
            try {
              tiles.push_back(raster::read_scene(*s, grid, read));
            } catch (const InputError& e) {
              unreadable.report({std::string(e.what())});
              continue;
            }
            rows_of.push_back(std::move(at));
          }
          if (tiles.empty()) continue;
          // Each pixel of the field: the first granule where every band it has is valid (clear).
          std::size_t valid = 0;
          bool seen_pixel = false;  // a value in any band: the field is inside the imagery that day
          std::fill(sum.begin(), sum.end(), 0.0);
          std::fill(count.begin(), count.end(), 0);
          for (std::size_t k = 0; k < inside.size(); ++k) {
            const std::size_t p = inside[k];
            for (std::size_t t = 0; t < tiles.size(); ++t) {
              const float* v = tiles[t].values.data();
              bool ok = true;
              for (int b : rows_of[t]) {
                const bool finite = b >= 0 && std::isfinite(v[static_cast<std::size_t>(b) * plane + p]);
                if (b >= 0 && !finite) ok = false;
                seen_pixel |= finite;
              }
              if (!ok) continue;
              for (std::size_t b = 0; b < kBands.size(); ++b) {
                if (rows_of[t][b] < 0) continue;
                sum[b] += v[static_cast<std::size_t>(rows_of[t][b]) * plane + p];
                ++count[b];
              }
              ++valid;
              break;
            }
          }
          covered += seen_pixel ? 1 : 0;
          // Observed when at least half of the field's pixels are clear: the mean DN of each band
          // over the clear pixels that have it (B10 is not in Level-2A), rounded.
          if (2 * valid < inside.size() || valid == 0) continue;
          for (std::size_t b = 0; b < kBands.size(); ++b) {
            x[b * kDays + static_cast<std::size_t>(day)] =
                count[b] ? static_cast<float>(std::round(sum[b] / static_cast<double>(count[b]) * 10000)) : 0.0f;
          }
          const float green = x[kGreen * kDays + static_cast<std::size_t>(day)];
          const float nir = x[kNir * kDays + static_cast<std::size_t>(day)];
          x[13 * kDays + static_cast<std::size_t>(day)] = green > 0 ? nir / green - 1 : 0.0f;
          observed[day] = 1;
          ++days;
        }
        if (covered == 0) return {"outside_imagery", field.id, {}};
        if (days == 0) return {"no_clear_day", field.id, {}};
        ex.id = field.id;
        ex.split = store::hash_split(field.id, 0, {{"train", 0.8}, {"test", 0.2}});
        ex.set("crop_type", cls);
        ex.set("region", field.region);
        return {};
      },
      tally, opt.progress, "processed", "processed");

  nlohmann::ordered_json summary;
  summary["sentinel2_scenes"] = scenes.scenes.size();
  for (const auto& [level, n] : levels) summary[level] = n;
  summary["days_with_scenes"] = by_day.size();
  summary["scenes_without_a_column"] = no_column;
  summary["scenes_outside_year"] = scenes.outside_window;
  summary["other_scenes"] = scenes.other_sensors;
  summary["unrecognised_files"] = scenes.unrecognised_files;
  summary["fields"] = rows.size();
  nlohmann::ordered_json settings;
  settings["year"] = year;
  settings["crs"] = fields.utm;
  settings["days"] = fmt::format("column d = {}-01-01 + d days (365 columns)", year);
  settings["rows"] = "B01 B02 B03 B04 B05 B06 B07 B08 B8A B09 B10 B11 B12 as DN (reflectance x 10^4), GCVI";
  settings["pixels"] = "10 m pixels whose centre is in the field (20 and 60 m bands by nearest neighbour)";
  settings["reducer"] =
      "mean of the field's clear pixels (every band has data; the Level-2A SCL mask applied; Level-1C is not "
      "cloud-masked), rounded to an integer DN";
  settings["observed"] = "a day with a scene over the field where at least half of its pixels are clear";
  settings["gcvi"] = "B08 / B03 - 1 of the rounded field means";
  settings["split"] = "field id hashed with seed 0 to train/test 0.8/0.2 (fold_random; the release has no val)";
  return finish_prepare(writer, tally, task, opt, settings.dump(), summary.dump());
}

}  // namespace sbench::prepare
