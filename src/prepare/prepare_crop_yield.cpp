// Crop yield (SUSTAINBENCH.md 2.F, after Wang et al. 2018 and You et al. 2017): per region and
// harvest year, 32-bin histograms of the 7 MOD09A1 reflectance bands and the MYD11A2 day and night
// temperatures at each of the season's 32 composites over the region's cropland (MCD12Q1 class 12),
// and the mean NDVI per composite. The calendar, bins, clamps and masks are the release's
// (docs/research/crop_yield_pipeline.md); the pixels are MODIS's own 463 m sinusoidal cells.
#include <fmt/format.h>
#include <ogr_geometry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "modis_grid.hpp"
#include "polygons.hpp"
#include "prepare_common.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/core/error.hpp"
#include "sbench/prepare/histograms.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/scene.hpp"
#include "sbench/store/store.hpp"

namespace sbench::prepare {

namespace {

constexpr int kMaxSide = 3000;  // cells per side of a region's grid (1390 km)

const std::vector<std::string> kReflectance = {"RED", "NIR", "BLUE", "GREEN", "NIR2", "SWIR1", "SWIR2"};
const std::vector<std::string> kTemperature = {"LST_DAY", "LST_NIGHT"};

// WANG:code/constants.py CLEAN_NAME: accents dropped (unidecode; here the Latin-1 letters of the
// Spanish and Portuguese names), lowercase, the characters ' ( ) / & - removed; spaces and dots kept.
std::string clean_name(const std::string& text) {
  static const std::map<std::string, char> folded = {
      {"\xc3\xa0", 'a'}, {"\xc3\xa1", 'a'}, {"\xc3\xa2", 'a'}, {"\xc3\xa3", 'a'}, {"\xc3\xa4", 'a'}, {"\xc3\xa7", 'c'},
      {"\xc3\xa8", 'e'}, {"\xc3\xa9", 'e'}, {"\xc3\xaa", 'e'}, {"\xc3\xab", 'e'}, {"\xc3\xac", 'i'}, {"\xc3\xad", 'i'},
      {"\xc3\xae", 'i'}, {"\xc3\xaf", 'i'}, {"\xc3\xb1", 'n'}, {"\xc3\xb2", 'o'}, {"\xc3\xb3", 'o'}, {"\xc3\xb4", 'o'},
      {"\xc3\xb5", 'o'}, {"\xc3\xb6", 'o'}, {"\xc3\xb9", 'u'}, {"\xc3\xba", 'u'}, {"\xc3\xbb", 'u'}, {"\xc3\xbc", 'u'},
      {"\xc3\x80", 'a'}, {"\xc3\x81", 'a'}, {"\xc3\x82", 'a'}, {"\xc3\x83", 'a'}, {"\xc3\x84", 'a'}, {"\xc3\x87", 'c'},
      {"\xc3\x88", 'e'}, {"\xc3\x89", 'e'}, {"\xc3\x8a", 'e'}, {"\xc3\x8d", 'i'}, {"\xc3\x91", 'n'}, {"\xc3\x93", 'o'},
      {"\xc3\x94", 'o'}, {"\xc3\x95", 'o'}, {"\xc3\x9a", 'u'}, {"\xc3\x9c", 'u'}};
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i + 1 < text.size()) {
      if (auto it = folded.find(text.substr(i, 2)); it != folded.end()) {
        out += it->second;
        ++i;
        continue;
      }
    }
    const char c = text[i];
    if (std::string_view("'()/&-").find(c) != std::string_view::npos) continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// State FIPS code -> lowercase postal code (WANG:code/constants.py GET_FIPS has the release's 11
// states; the others are added so that new states can be prepared).
std::string postal_code(const std::string& fips) {
  static const std::map<int, const char*> codes = {
      {1, "al"},  {2, "ak"},  {4, "az"},  {5, "ar"},  {6, "ca"},  {8, "co"},  {9, "ct"},  {10, "de"}, {11, "dc"},
      {12, "fl"}, {13, "ga"}, {15, "hi"}, {16, "id"}, {17, "il"}, {18, "in"}, {19, "ia"}, {20, "ks"}, {21, "ky"},
      {22, "la"}, {23, "me"}, {24, "md"}, {25, "ma"}, {26, "mi"}, {27, "mn"}, {28, "ms"}, {29, "mo"}, {30, "mt"},
      {31, "ne"}, {32, "nv"}, {33, "nh"}, {34, "nj"}, {35, "nm"}, {36, "ny"}, {37, "nc"}, {38, "nd"}, {39, "oh"},
      {40, "ok"}, {41, "or"}, {42, "pa"}, {44, "ri"}, {45, "sc"}, {46, "sd"}, {47, "tn"}, {48, "tx"}, {49, "ut"},
      {50, "vt"}, {51, "va"}, {53, "wa"}, {54, "wv"}, {55, "wi"}, {56, "wy"}};
  try {
    if (auto it = codes.find(std::stoi(fips)); it != codes.end()) return it->second;
  } catch (const std::exception&) {
  }
  return "";
}

// The region of a polygon as the release keys it: a `region` attribute as given; otherwise US
// counties (NAME, STATEFP: "adams_il"), Argentine departments (partido, provincia) or Brazilian
// mesoregions (NM_MESO: "norte matogrossense_brasil").
std::string region_of(const std::map<std::string, std::string>& f) {
  auto get = [&](const char* k) -> std::string {
    const auto it = f.find(k);
    return it == f.end() ? "" : it->second;
  };
  if (f.count("region")) return get("region");
  if (f.count("NAME") && f.count("STATEFP")) {
    const std::string state = postal_code(get("STATEFP"));
    return state.empty() ? "" : clean_name(get("NAME")) + "_" + state;
  }
  if (f.count("partido") && f.count("provincia"))
    return clean_name(get("partido")) + "_" + clean_name(get("provincia"));
  if (f.count("NM_MESO")) return clean_name(get("NM_MESO")) + "_brasil";
  return "";
}

struct LabelRow {
  std::string country, region, key, split;
  int year = 0;
  double yield = NAN;
  std::size_t line = 0;
  std::string drop;  // a status when the row is not prepared
};

std::vector<LabelRow> read_yields(const std::string& path, const TaskCard& task) {
  CsvReader csv(path);
  const std::size_t c_country = csv.column("country"), c_region = csv.column("region"), c_year = csv.column("year"),
                    c_yield = csv.column("yield");
  const auto c_split = csv.find_column("split");
  std::vector<LabelRow> rows;
  std::unordered_map<std::string, std::size_t> seen;
  CsvRow r;
  while (csv.next(r)) {
    LabelRow row;
    row.line = r.line();
    row.country = r[c_country];
    if (std::find(task.variants.begin(), task.variants.end(), row.country) == task.variants.end()) {
      fail<InputError>("{}: line {}: country '{}', expected one of {}", path, row.line, row.country,
                       fmt::join(task.variants, ", "));
    }
    row.region = r[c_region];
    const std::int64_t year = csv.get_int(r, c_year);
    if (year < 1900 || year > 2100)
      fail<InputError>("{}: line {}: year {} is not a harvest year", path, row.line, year);
    row.year = static_cast<int>(year);
    row.yield = csv.get_double_or_nan(r, c_yield);
    row.key = fmt::format("{}_{}", row.region, row.year);
    if (c_split) {
      row.split = r[*c_split] == "dev" ? "val" : r[*c_split];
      if (row.split != "train" && row.split != "val" && row.split != "test") {
        fail<InputError>("{}: line {}: split '{}', expected train, val (or dev) or test", path, row.line, r[*c_split]);
      }
    }
    if (auto [it, fresh] = seen.emplace(row.key, row.line); !fresh) {
      fail<InputError>("{}: line {}: region {} and year {} again (first on line {})", path, row.line, row.region,
                       row.year, it->second);
    }
    if (!std::isfinite(row.yield)) row.drop = "missing_yield";
    if (crop_yield_composite(crop_yield_offset(row.country), row.year, 0) < 0) row.drop = "year_before_calendar";
    rows.push_back(std::move(row));
  }
  if (rows.empty()) fail<InputError>("{}: no yield rows (expected columns country, region, year, yield)", path);
  return rows;
}

// Raw 16-bit values as the release's export gave them, from a scene's scaled values: reflectance
// DN (scale 1e-4) clamped to [0, 5000], fill (NaN) 0; LST DN (scale 0.02) unclamped, fill 0.
std::uint16_t reflectance_dn(float v) {
  if (!std::isfinite(v)) return 0;
  return static_cast<std::uint16_t>(std::clamp(std::lround(static_cast<double>(v) * 1e4), 0L, 5000L));
}
std::uint16_t temperature_dn(float v) {
  if (!std::isfinite(v)) return 0;
  return static_cast<std::uint16_t>(std::clamp(std::lround(static_cast<double>(v) * 50), 0L, 65535L));
}

struct Imagery {
  std::map<int, std::vector<raster::Scene>> sat, temp;  // by composite index
  std::map<int, std::vector<raster::Scene>> cover;      // by year
  nlohmann::ordered_json summary;
};

Imagery load_imagery(const PrepareOptions& opt, store::Tally& tally) {
  raster::Catalog catalog = load_catalog(opt);
  Imagery im;
  std::size_t others = 0, off_grid = 0;
  for (auto& s : catalog.scenes) {
    const bool sat = s.sensor == "mod09a1", temp = s.sensor == "myd11a2", cover = s.sensor == "mcd12q1";
    if (!sat && !temp && !cover) {
      ++others;
      continue;
    }
    // Every subdataset the histograms use must be there.
    if (!modis::has_subdatasets(s,
                                sat    ? kReflectance
                                : temp ? kTemperature
                                       : std::vector<std::string>{"LC_TYPE1"},
                                tally))
      continue;
    const std::string file = s.files.empty() ? s.product : s.files.front();
    if (cover) {
      im.cover[std::stoi(s.date.substr(0, 4))].push_back(std::move(s));
      continue;
    }
    const int t = modis_composite_index(s.date);
    if (t < 0) {
      ++off_grid;
      spdlog::warn("{}: {} is not on the 8-day grid from 2002-08-05: scene not used", file, s.date);
      continue;
    }
    (sat ? im.sat : im.temp)[t].push_back(std::move(s));
  }
  const std::string where =
      opt.catalog.empty() ? fmt::format("{}", fmt::join(opt.imagery, ", ")) : std::string(opt.catalog);
  if (im.sat.empty()) fail<InputError>("no MOD09A1 surface reflectance (sur_refl_b01-b07) in {}", where);
  if (im.temp.empty())
    fail<InputError>("no MYD11A2 land surface temperature (LST_Day_1km, LST_Night_1km) in {}", where);
  if (im.cover.empty()) fail<InputError>("no MCD12Q1 land cover (LC_Type1) in {}", where);
  im.summary["mod09a1_composites"] = im.sat.size();
  im.summary["myd11a2_composites"] = im.temp.size();
  std::vector<int> years;
  for (const auto& [y, v] : im.cover) years.push_back(y);
  im.summary["mcd12q1_years"] = years;
  im.summary["other_scenes"] = others;
  im.summary["scenes_off_the_8_day_grid"] = off_grid;
  im.summary["unrecognised_files"] = catalog.unrecognised.size();
  return im;
}

std::vector<const raster::Scene*> pointers(const std::map<int, std::vector<raster::Scene>>& by, int key) {
  std::vector<const raster::Scene*> out;
  if (auto it = by.find(key); it != by.end()) {
    for (const auto& s : it->second) out.push_back(&s);
  }
  return out;
}

// The cover year nearest `year` that the imagery has (the earlier one on a tie).
int nearest_year(const std::map<int, std::vector<raster::Scene>>& cover, int year) {
  int best = cover.begin()->first;
  for (const auto& [y, v] : cover) {
    if (std::abs(y - year) < std::abs(best - year)) best = y;
  }
  return best;
}

}  // namespace

store::ImportReport prepare_crop_yield(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& opt) {
  raster::init_gdal();
  if (opt.region.empty()) fail<UsageError>("crop_yield: --region FILE (the region polygons) is required");
  std::vector<LabelRow> rows = read_yields(opt.labels, task);
  store::Tally tally;
  Imagery imagery = load_imagery(opt, tally);
  // The grids take the products' own CRS (GDAL's WKT of their sinusoidal projection), so that cells
  // are read where they are, without the warper.
  const std::string crs = modis::product_crs(imagery.sat.begin()->second.front());
  Polygons regions = read_polygons(opt.region, "region polygons (counties, partidos, mesoregions)", "", crs);
  std::unordered_map<std::string, std::size_t> polygon_of;
  for (std::size_t i = 0; i < regions.geometries.size(); ++i) {
    const std::string key = region_of(regions.fields[i]);
    if (key.empty()) {
      fail<InputError>(
          "{}: feature {} has no region name: expected a 'region' field, or NAME and STATEFP (a US "
          "state), partido and provincia, or NM_MESO",
          opt.region, i);
    }
    if (!polygon_of.emplace(key, i).second)
      fail<InputError>("{}: region '{}' is named by two features ({} and {})", opt.region, key, polygon_of[key], i);
  }
  const store::Schema schema = store::schema_from_card(task, registry);
  const std::uint64_t seed = task.split.seed.value_or(0);

  // Composites the labels' seasons use, and the seasons' composites the imagery lacks.
  std::set<int> used;
  for (const auto& r : rows) {
    if (!r.drop.empty()) continue;
    const int offset = crop_yield_offset(r.country);
    for (int s = 0; s < kCropYieldSteps; ++s) used.insert(crop_yield_composite(offset, r.year, s));
  }
  std::vector<std::string> missing_sat, missing_temp;
  for (int t : used) {
    if (!imagery.sat.count(t)) missing_sat.push_back(modis_composite_date(t));
    if (!imagery.temp.count(t)) missing_temp.push_back(modis_composite_date(t));
  }
  std::size_t outside = 0;
  for (const auto* by : {&imagery.sat, &imagery.temp}) {
    for (const auto& [t, v] : *by) outside += used.count(t) ? 0 : v.size();
  }
  if (!missing_sat.empty() || !missing_temp.empty()) {
    spdlog::warn(
        "composites missing from the imagery (their histograms are empty, NDVI NaN): MOD09A1 {} of {}, "
        "MYD11A2 {} of {}",
        missing_sat.size(), used.size(), missing_temp.size(), used.size());
  }
  imagery.summary["season_composites"] = used.size();
  imagery.summary["missing_mod09a1_dates"] = missing_sat;
  imagery.summary["missing_myd11a2_dates"] = missing_temp;
  imagery.summary["scenes_outside_seasons"] = outside;
  imagery.summary["regions"] = regions.geometries.size();

  // Season by season (harvest year, then label order): the regions of one season read the same
  // composites, which then stay open and cached.
  std::stable_sort(rows.begin(), rows.end(), [](const LabelRow& a, const LabelRow& b) { return a.year < b.year; });
  const auto [first, last] = shard_rows(rows.size(), opt.shard, opt.shards);
  std::vector<const LabelRow*> todo;
  for (std::size_t r = first; r < last; ++r) {
    const LabelRow& row = rows[r];
    if (!row.drop.empty()) {
      tally.add(row.drop, row.key);
    } else if (!polygon_of.count(row.region)) {
      tally.add("no_polygon", row.key);
    } else {
      todo.push_back(&row);
    }
  }

  raster::SceneReadOptions sat_read, temp_read, cover_read;
  sat_read.bands = kReflectance;
  temp_read.bands = kTemperature;
  cover_read.bands = {"LC_TYPE1"};
  for (auto* r : {&sat_read, &temp_read, &cover_read}) {
    r->resampling = raster::Resampling::nearest;  // the export's default
    r->apply_mask = false;                        // the release used every composite value, clouds included
  }
  const HistogramSpec spec(std::vector<BinRange>(crop_yield_bin_ranges().begin(), crop_yield_bin_ranges().end()), 32);
  UnreadableScenes unreadable(tally);
  constexpr std::size_t kBands = 9;

  store::StoreWriter writer(opt.out, schema, writer_options(opt, "crop_yield"));
  writer.add_source_file(store::describe_file(opt.labels));
  writer.add_source_file(store::describe_file(opt.region));
  store::run_import(
      writer, todo.size(), opt.threads, [&](std::size_t i) { return todo[i]->key; },
      [&](std::size_t i, store::Example& ex) -> store::Loaded {
        const LabelRow& row = *todo[i];
        const OGRGeometry& polygon = *regions.geometries[polygon_of.at(row.region)];
        // The region's box on the MODIS cells, as a square grid.
        OGREnvelope env;
        polygon.getEnvelope(&env);
        const modis::CellGrid cells = modis::cell_grid(env.MinX, env.MinY, env.MaxX, env.MaxY);
        const int side = cells.side;
        if (side > kMaxSide) return {"region_too_large", row.key, {}};
        const raster::TileGrid grid = cells.grid(crs);
        const auto gt = grid.geotransform();
        const auto inside = rasterize_polygons({const_cast<OGRGeometry*>(&polygon)}, gt.data(), side, side);
        std::vector<std::size_t> pixels;
        for (std::size_t p = 0; p < inside.size(); ++p) {
          if (inside[p]) pixels.push_back(p);
        }
        const int offset = crop_yield_offset(row.country);
        // Is the region inside the imagery of its season at all?
        bool season = false, covered = false;
        for (int s = 0; s < kCropYieldSteps && !covered; ++s) {
          for (const auto* sc : pointers(imagery.sat, crop_yield_composite(offset, row.year, s))) {
            season = true;
            covered = covered || raster::scene_may_cover(*sc, grid);
          }
        }
        if (!season) return {"no_imagery_for_season", row.key, {}};
        if (!covered) return {"outside_imagery", row.key, {}};
        if (pixels.empty()) return {"empty_region", row.key, {}};

        // Step by step (a large region's 32 steps at once would take gigabytes): the raw values of
        // the step's cropland cells, 0 elsewhere, then their histograms and NDVI.
        const std::size_t n = pixels.size();
        std::vector<std::uint16_t> step(kBands * n);
        std::vector<double> hist(static_cast<std::size_t>(spec.bins) * kCropYieldSteps * kBands),
            step_hist(static_cast<std::size_t>(spec.bins) * kBands), ndvi(kCropYieldSteps);
        std::map<int, std::vector<std::uint8_t>> crop_by_year;
        for (int s = 0; s < kCropYieldSteps; ++s) {
          const int t = crop_yield_composite(offset, row.year, s);
          const int cover_year = nearest_year(imagery.cover, crop_yield_cover_year(t));
          auto crop_it = crop_by_year.find(cover_year);
          if (crop_it == crop_by_year.end()) {
            raster::SceneTile c = raster::tile_from_scenes(pointers(imagery.cover, cover_year), grid, cover_read,
                                                           raster::Composite::first, true);
            unreadable.report(c.unreadable);
            std::vector<std::uint8_t> crop(n, 0);
            if (c.tile.bands == 1) {
              for (std::size_t k = 0; k < n; ++k) crop[k] = c.tile.values[pixels[k]] == 12.0f ? 1 : 0;
            }
            crop_it = crop_by_year.emplace(cover_year, std::move(crop)).first;
          }
          const std::vector<std::uint8_t>& crop = crop_it->second;
          std::fill(step.begin(), step.end(), 0);
          const std::size_t plane = static_cast<std::size_t>(side) * static_cast<std::size_t>(side);
          raster::SceneTile st =
              raster::tile_from_scenes(pointers(imagery.sat, t), grid, sat_read, raster::Composite::first, true);
          unreadable.report(st.unreadable);
          if (st.tile.bands == 7) {
            for (std::size_t b = 0; b < 7; ++b) {
              for (std::size_t k = 0; k < n; ++k) {
                if (crop[k]) step[b * n + k] = reflectance_dn(st.tile.values[b * plane + pixels[k]]);
              }
            }
          }
          raster::SceneTile lt =
              raster::tile_from_scenes(pointers(imagery.temp, t), grid, temp_read, raster::Composite::first, true);
          unreadable.report(lt.unreadable);
          if (lt.tile.bands == 2) {
            for (std::size_t b = 0; b < 2; ++b) {
              for (std::size_t k = 0; k < n; ++k) {
                if (crop[k]) step[(7 + b) * n + k] = temperature_dn(lt.tile.values[b * plane + pixels[k]]);
              }
            }
          }
          region_histograms(step.data(), 1, kBands, n, nullptr, spec, step_hist.data());
          for (std::size_t k = 0; k < static_cast<std::size_t>(spec.bins); ++k) {
            for (std::size_t b = 0; b < kBands; ++b)
              hist[(k * kCropYieldSteps + static_cast<std::size_t>(s)) * kBands + b] = step_hist[k * kBands + b];
          }
          region_ndvi(step.data(), 1, kBands, n, nullptr, 0, 1, &ndvi[static_cast<std::size_t>(s)]);
        }
        // Fill or non-cropland everywhere: reported, not stored as a zero histogram.
        if (std::all_of(hist.begin(), hist.end(), [](double v) { return v == 0; })) {
          return {"empty_region", row.key, {}};
        }
        ex.id = row.key;
        ex.split =
            row.split.empty() ? store::hash_split(row.key, seed, task.split.fractions) : store::split_code(row.split);
        float* h = ex.as<float>("hist");
        for (std::size_t v = 0; v < hist.size(); ++v) h[v] = static_cast<float>(hist[v]);
        float* nd = ex.as<float>("ndvi");
        for (int s = 0; s < kCropYieldSteps; ++s) nd[s] = static_cast<float>(ndvi[static_cast<std::size_t>(s)]);
        ex.set("yield", row.yield);
        ex.set("country", row.country);
        ex.set("year", static_cast<double>(row.year));
        ex.set("region", row.region);
        return {};
      },
      tally, opt.progress, "processed", "processed");

  nlohmann::ordered_json settings;
  settings["grid"] = "MODIS sinusoidal 463.3 m cells; a cell counts when its centre is inside the region";
  settings["calendar"] =
      "composite t = offset + 45 (year - 2003) + step from 2002-08-05; offset 3 (brazil) or 6 (others)";
  settings["cover"] = "MCD12Q1 LC_Type1 == 12 of year 2003 + floor((t - 33) / 45), the nearest year the imagery has";
  settings["reflectance"] = "MOD09A1 sur_refl_b01-b07 DN clamped to [0, 5000], fill 0; no QA mask";
  settings["temperature"] = "MYD11A2 LST_Day_1km, LST_Night_1km DN (kelvin / 0.02), nearest from 1 km";
  settings["bins"] = "WANG:code/constants.py HIST_BINS_LIST, 32 bins each, numpy.histogram edges";
  settings["split"] = rows.front().split.empty() ? fmt::format("hash of the key, seed {}: {}", seed,
                                                               nlohmann::json(task.split.fractions).dump())
                                                 : std::string("the labels' split column");
  return finish_prepare(writer, tally, task, opt, settings.dump(), imagery.summary.dump());
}

}  // namespace sbench::prepare
