// The DHS tasks from raw imagery, as SustainBench's Earth Engine export (SUSTAINBENCH.md section 5):
// per cluster, Landsat surface reflectance over the three calendar years centred on the survey
// year (QA bits 3, 4, 5 masked, reflectance clamped to [0, 1], thermal in kelvin), the per-pixel
// median of each band; night lights from the year's inter-calibrated DMSP image (survey year up to
// 2011) or the median of the monthly VIIRS composites of the same window (2012 on); 255 x 255
// pixels of 30 m in EPSG:3857 centred on the cluster, row 0 at the south, masked pixels 0.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "prepare_common.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/catalog.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/scene.hpp"
#include "sbench/raster/sensor.hpp"
#include "sbench/store/dhs.hpp"
#include "sbench/store/lsms.hpp"
#include "sbench/store/pipeline.hpp"
#include "sbench/store/store.hpp"

namespace sbench::prepare {

namespace fs = std::filesystem;

namespace {

// The Landsat bands of the release in its order (REQUIRED_BANDS; NIGHTLIGHTS comes last).
const std::vector<std::string>& landsat_bands() {
  static const std::vector<std::string> b = {"BLUE", "GREEN", "RED", "SWIR1", "SWIR2", "TEMP1", "NIR"};
  return b;
}

bool is_landsat_sr(const std::string& sensor) {
  return sensor.rfind("landsat", 0) == 0 &&
         (sensor.find("_c1_sr") != std::string::npos || sensor.find("_c2_l2") != std::string::npos);
}

struct DhsImagery {
  std::vector<raster::Scene> landsat, dmsp, viirs;
  nlohmann::ordered_json summary;  // scenes by kind, files and scenes not used
};

DhsImagery load_imagery(const PrepareOptions& opt) {
  raster::Catalog catalog = load_catalog(opt);
  DhsImagery im;
  std::map<std::string, std::size_t> other;
  std::size_t incomplete = 0, unused = 0;
  for (auto& s : catalog.scenes) {
    if (is_landsat_sr(s.sensor)) {
      std::vector<std::string> missing;
      for (const auto& b : landsat_bands()) {
        if (!s.find(b)) missing.push_back(b);
      }
      if (!s.qa()) missing.push_back("QA");
      if (!missing.empty()) {
        spdlog::warn("{}: Landsat scene {} lacks band file(s) {}: not used", s.files.front(), s.product,
                     fmt::join(missing, ", "));
        ++incomplete;
        continue;
      }
      im.landsat.push_back(std::move(s));
    } else if (s.sensor == "dmsp_ols") {
      im.dmsp.push_back(std::move(s));
    } else if (s.sensor == "viirs_dnb_monthly") {
      im.viirs.push_back(std::move(s));
    } else {
      ++other[s.sensor + " scenes (not used by the DHS tasks)"];
      ++unused;
    }
  }
  if (incomplete) spdlog::warn("{} incomplete Landsat scene(s) not used", incomplete);
  for (const auto& [what, n] : other) spdlog::warn("{} {}", n, what);
  if (im.landsat.empty()) {
    fail<InputError>("no Landsat surface reflectance scene (Collection 1 SR or Collection 2 Level-2) in {}",
                     opt.catalog.empty() ? fmt::format("{}", fmt::join(opt.imagery, ", ")) : opt.catalog);
  }
  spdlog::info("imagery: {} Landsat, {} DMSP, {} VIIRS scene(s)", im.landsat.size(), im.dmsp.size(), im.viirs.size());
  im.summary["landsat_scenes"] = im.landsat.size();
  im.summary["dmsp_scenes"] = im.dmsp.size();
  im.summary["viirs_scenes"] = im.viirs.size();
  im.summary["incomplete_scenes"] = incomplete;
  im.summary["other_scenes"] = unused;
  im.summary["unrecognised_files"] = catalog.unrecognised.size();
  return im;
}

// Scenes whose period meets [start, end].
std::vector<const raster::Scene*> in_window(const std::vector<raster::Scene>& scenes, const std::string& start,
                                            const std::string& end) {
  std::vector<const raster::Scene*> out;
  for (const auto& s : scenes) {
    if (s.date.empty() || s.date > end || (s.date_end.empty() ? s.date : s.date_end) < start) continue;
    out.push_back(&s);
  }
  return out;
}

// Cuts the DHS tile (SUSTAINBENCH.md section 5) of a point and survey year; used for the DHS
// clusters and for both years of an LSMS pair. Thread-safe.
class DhsTiles {
 public:
  DhsTiles(const PrepareOptions& opt, store::Tally& tally, int size)
      : imagery_(load_imagery(opt)), unreadable_(tally), size_(size) {
    landsat_read_.bands = landsat_bands();
    // Earth Engine samples with nearest neighbour unless told otherwise; SustainBench did not.
    landsat_read_.resampling = raster::Resampling::nearest;
    nl_read_.bands = {"NIGHTLIGHTS"};
    nl_read_.resampling = raster::Resampling::nearest;
  }
  const nlohmann::ordered_json& summary() const { return imagery_.summary; }

  // Writes the 8 planes (size x size each, release band order, row 0 at the south, 0 where no
  // value) into x and returns "", or returns the status that keeps the point out of the store.
  std::string cut(double lon, double lat, std::int64_t year, float* x) {
    raster::TileGrid grid;
    try {
      grid = raster::make_grid(lon, lat, size_, 30, "EPSG:3857", true);
    } catch (const UsageError& e) {
      return "bad_location";
    }
    const std::string start = fmt::format("{:04d}-01-01", year - 1);
    const std::string end = fmt::format("{:04d}-12-31", year + 1);
    raster::SceneTile optical = raster::tile_from_scenes(in_window(imagery_.landsat, start, end), grid, landsat_read_,
                                                         raster::Composite::median, true);
    unreadable_.report(optical.unreadable);
    if (optical.scenes == 0) return "no_record";

    raster::SceneTile lights;
    if (year <= 2011) {
      std::vector<const raster::Scene*> dmsp;
      if (year >= 1996) {
        const raster::DmspCalibration cal = raster::dmsp_calibration(static_cast<int>(year));
        for (const auto& s : imagery_.dmsp) {
          if (fs::path(s.files.front()).filename().string().find(cal.image) != std::string::npos) dmsp.push_back(&s);
        }
      }
      lights = raster::tile_from_scenes(dmsp, grid, nl_read_, raster::Composite::first, true);
    } else {
      lights = raster::tile_from_scenes(in_window(imagery_.viirs, start, end), grid, nl_read_,
                                        raster::Composite::median, true);
    }
    unreadable_.report(lights.unreadable);
    if (lights.scenes == 0) return "missing_bands";

    // Band planes in the release's order; pixels without a value (masked everywhere, or outside
    // every scene) are 0, as neighborhoodToArray's default.
    const std::size_t plane = static_cast<std::size_t>(size_) * static_cast<std::size_t>(size_);
    auto copy_plane = [&](const raster::WarpedTile& t, int band, std::size_t to) {
      const float* src = t.values.data() + static_cast<std::size_t>(band) * plane;
      float* dst = x + to * plane;
      for (std::size_t p = 0; p < plane; ++p) dst[p] = std::isfinite(src[p]) ? src[p] : 0.0f;
    };
    for (int b = 0; b < 7; ++b) copy_plane(optical.tile, b, static_cast<std::size_t>(b));
    copy_plane(lights.tile, 0, 7);
    return "";
  }

  static std::string settings(int size) {
    nlohmann::ordered_json s;
    s["size"] = size;
    s["res_m"] = 30;
    s["crs"] = "EPSG:3857";
    s["row_order"] = "south_up";
    s["landsat"] = "median of BLUE, GREEN, RED, SWIR1, SWIR2, TEMP1, NIR over (year-1)-01-01..(year+1)-12-31";
    s["qa_mask"] = "pixel_qa bits 3 (cloud shadow), 4 (snow), 5 (cloud)";
    s["nightlights"] = "DMSP calibrated image of the survey year (<= 2011), else median of monthly VIIRS";
    s["resampling"] = "nearest";
    s["masked_value"] = 0;
    return s.dump();
  }

 private:
  DhsImagery imagery_;
  UnreadableScenes unreadable_;
  int size_;
  raster::SceneReadOptions landsat_read_, nl_read_;
};

}  // namespace

store::ImportReport prepare_dhs(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& opt) {
  raster::init_gdal();
  const store::DhsLabels labels = store::read_dhs_labels(opt.labels, task, registry);
  const store::Schema schema = store::dhs_schema(task, registry, labels);
  const int size = static_cast<int>(schema.field("x").shape.at(1));
  store::Tally tally;
  DhsTiles tiles(opt, tally, size);

  const auto [first, last] = shard_rows(labels.rows.size(), opt.shard, opt.shards);
  std::vector<const store::DhsCluster*> clusters;
  for (std::size_t r = first; r < last; ++r) {
    const auto& c = labels.rows[r];
    if (c.drop.empty()) {
      clusters.push_back(&c);
    } else {
      tally.add(c.drop, c.id);
    }
  }

  store::StoreWriter writer(opt.out, schema, writer_options(opt, "dhs"));
  writer.add_source_file(store::describe_file(opt.labels));
  store::run_import(
      writer, clusters.size(), opt.threads, [&](std::size_t i) { return clusters[i]->id; },
      [&](std::size_t i, store::Example& ex) -> store::Loaded {
        const store::DhsCluster& c = *clusters[i];
        const std::string status = tiles.cut(c.lon, c.lat, c.year, ex.as<float>("x"));
        if (!status.empty()) {
          if (status == "bad_location")
            spdlog::warn("{}: line {}: cluster {}: bad location", labels.path, c.line, c.id);
          return {status, c.id, {}};
        }
        store::fill_dhs_example(ex, c, labels, task);
        return {};
      },
      tally, opt.progress, "processed", "processed");
  return finish_prepare(writer, tally, task, opt, DhsTiles::settings(size), tiles.summary().dump());
}

store::ImportReport prepare_lsms(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& opt) {
  raster::init_gdal();
  // The static file of coordinates sits beside the pairs file, as in the release's final_labels/.
  const fs::path coords = fs::path(opt.labels).parent_path() / "asset_infrstructure_indicies_lsms.csv";
  if (!fs::exists(coords)) {
    fail<InputError>("{}: no asset_infrstructure_indicies_lsms.csv beside the pairs file (the EA coordinates)",
                     opt.labels);
  }
  const std::vector<store::LsmsPair> all = store::read_lsms_pairs(opt.labels, coords);
  const store::Schema schema = store::schema_from_card(task, registry);
  const int size = static_cast<int>(schema.field("x_before").shape.at(1));
  store::Tally tally;
  DhsTiles tiles(opt, tally, size);

  const auto [first, last] = shard_rows(all.size(), opt.shard, opt.shards);
  std::vector<const store::LsmsPair*> pairs;
  for (std::size_t r = first; r < last; ++r) {
    const auto& p = all[r];
    if (!std::isfinite(p.lat) || !std::isfinite(p.lon) || (p.lat == 0 && p.lon == 0)) {
      tally.add("no_location", p.id());
    } else {
      pairs.push_back(&p);
    }
  }
  store::StoreWriter writer(opt.out, schema, writer_options(opt, "lsms_pair"));
  writer.add_source_file(store::describe_file(opt.labels));
  writer.add_source_file(store::describe_file(coords));
  store::run_import(
      writer, pairs.size(), opt.threads, [&](std::size_t i) { return pairs[i]->id(); },
      [&](std::size_t i, store::Example& ex) -> store::Loaded {
        const store::LsmsPair& p = *pairs[i];
        // Both tiles at the EA's location (the first year's coordinates), each with its year's
        // window and night-light sensor; a pair missing either tile is left out.
        for (const auto& [field, year] : {std::pair<const char*, std::int64_t>{"x_before", p.year_x},
                                          std::pair<const char*, std::int64_t>{"x_after", p.year_y}}) {
          const std::string status = tiles.cut(p.lon, p.lat, year, ex.as<float>(field));
          if (!status.empty())
            return {fmt::format("{} ({})", status, field == std::string("x_before") ? "year.x" : "year.y"), p.id(), {}};
        }
        store::fill_lsms_example(ex, p, task);
        return {};
      },
      tally, opt.progress, "processed", "processed");
  return finish_prepare(writer, tally, task, opt, DhsTiles::settings(size), tiles.summary().dump());
}

}  // namespace sbench::prepare
