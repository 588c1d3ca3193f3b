#include "sbench/prepare/prepare.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ogr_spatialref.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "prepare_common.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/warp.hpp"

namespace sbench::prepare {

namespace fs = std::filesystem;

std::pair<int, int> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  int k = -1, n = 0;
  try {
    if (slash == std::string::npos) throw std::invalid_argument(text);
    std::size_t used = 0;
    k = std::stoi(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument(text);
    n = std::stoi(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    fail<UsageError>("--shard '{}': expected K/N, for example 0/4", text);
  }
  if (n < 1 || k < 0 || k >= n) fail<UsageError>("--shard '{}': expected 0 <= K < N", text);
  return {k, n};
}

std::pair<std::size_t, std::size_t> shard_rows(std::size_t rows, int shard, int shards) {
  const auto n = static_cast<std::size_t>(shards), k = static_cast<std::size_t>(shard);
  return {rows * k / n, rows * (k + 1) / n};
}

std::vector<std::string> preparable_families() {
  return {"dhs",        "lsms_pair",      "cropland",       "brick_kiln",       "field_delineation",
          "crop_yield", "land_cover_ood", "land_cover_rep", "crop_type_fields", "crop_type_tiles"};
}

raster::Catalog load_catalog(const PrepareOptions& opt) {
  if (opt.imagery.empty() == opt.catalog.empty()) fail<UsageError>("give either --imagery DIR... or --catalog FILE");
  raster::Catalog c =
      opt.catalog.empty() ? raster::build_catalog(opt.imagery, "auto") : raster::read_catalog(opt.catalog);
  if (!c.unrecognised.empty()) {
    spdlog::warn("{} file(s) not recognised as scenes (first: {}: {})", c.unrecognised.size(),
                 c.unrecognised.front().path, c.unrecognised.front().reason);
  }
  return c;
}

void UnreadableScenes::report(const std::vector<std::string>& errors) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& e : errors) {
    const std::string file = e.substr(0, e.find(": "));  // the message starts with the file
    if (reported_.insert(file).second) {
      spdlog::warn("scene skipped: {}", e);
      tally_.add("unreadable_scene", file);
    }
  }
}

std::array<double, 4> lonlat_box(const std::string& crs, double x0, double y1, double side) {
  OGRSpatialReference from, wgs84;
  from.SetFromUserInput(crs.c_str());
  from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  wgs84.SetWellKnownGeogCS("WGS84");
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to(OGRCreateCoordinateTransformation(&from, &wgs84));
  double xs[4] = {x0, x0 + side, x0, x0 + side}, ys[4] = {y1, y1, y1 - side, y1 - side};
  if (!to || !to->Transform(4, xs, ys))
    fail<Error>("no longitude and latitude for the tile at ({}, {}) of {}", x0, y1, crs);
  return {std::min(xs[0], xs[2]), std::min(ys[2], ys[3]), std::max(xs[1], xs[3]), std::max(ys[0], ys[1])};
}

std::vector<const raster::Scene*> SceneSet::pointers() const {
  std::vector<const raster::Scene*> out;
  for (const auto& s : scenes) out.push_back(&s);
  return out;
}

SceneSet select_scenes(const PrepareOptions& opt, const std::function<bool(const std::string&)>& keep,
                       const std::string& start, const std::string& end, const std::string& what) {
  raster::Catalog catalog = load_catalog(opt);
  SceneSet set;
  set.unrecognised_files = catalog.unrecognised.size();
  for (auto& s : catalog.scenes) {
    if (!keep(s.sensor)) {
      ++set.other_sensors;
    } else if (s.date.empty() || s.date < start || s.date > end) {
      ++set.outside_window;
    } else {
      set.scenes.push_back(std::move(s));
    }
  }
  if (set.scenes.empty()) {
    fail<InputError>("no {} between {} and {} in {}", what, start, end,
                     opt.catalog.empty() ? fmt::format("{}", fmt::join(opt.imagery, ", ")) : opt.catalog);
  }
  return set;
}

store::WriterOptions writer_options(const PrepareOptions& opt, const std::string& builder) {
  store::WriterOptions w;
  w.layout = opt.layout;
  w.resume = opt.resume;
  std::string inputs;
  if (!opt.catalog.empty()) {
    inputs = "catalog=" + fs::absolute(opt.catalog).string();
  } else {
    for (const auto& d : opt.imagery) inputs += (inputs.empty() ? "imagery=" : ",") + fs::absolute(d).string();
  }
  w.source = fmt::format("prepare {} labels={} {}", builder, fs::absolute(opt.labels).string(), inputs);
  if (opt.shards > 1) w.source += fmt::format(" shard={}/{}", opt.shard, opt.shards);
  w.command_line = opt.command_line;
  return w;
}

std::string report_json(const store::ImportReport& report) {
  std::map<std::string, std::size_t> counts(report.counts.begin(), report.counts.end());
  nlohmann::ordered_json j;
  j["counts"] = nlohmann::json::object();
  for (const auto& [k, n] : counts) j["counts"][k] = n;
  j["samples"] = nlohmann::json::object();
  for (const auto& [k, ids] : report.samples) j["samples"][k] = ids;
  return j.dump();
}

store::ImportReport finish_prepare(store::StoreWriter& writer, const store::Tally& tally, const TaskCard& task,
                                   const PrepareOptions& opt, const std::string& settings_json,
                                   const std::string& imagery_json) {
  store::ImportReport report = tally.report(writer.size(), writer.resumed());
  if (writer.size() == 0 && opt.shards == 1) {
    writer.discard();
    fail<InputError>("{}: no example could be prepared for {}: {}", opt.labels, task.id, report_json(report));
  }
  // A shard may hold nothing (every row of its block dropped): it is written, with its report, so
  // that the merge has every shard and sums every count.
  if (writer.size() == 0)
    spdlog::warn("{}: shard {}/{} holds no example: {}", opt.out.string(), opt.shard, opt.shards, report_json(report));
  writer.set_attribute("prepare_report", report_json(report));
  writer.set_attribute("prepare_settings", settings_json);
  writer.set_attribute("prepare_imagery", imagery_json);
  writer.set_attribute("normalization", store::normalization_json(task));
  if (opt.shards > 1) writer.set_attribute("shard", fmt::format("{}/{}", opt.shard, opt.shards));
  writer.finish(opt.progress);
  return report;
}

namespace {
store::ImportReport build(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& opt);
}  // namespace

store::ImportReport prepare_task(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& opt) {
  // The builders' files are closed when they end, whatever the outcome (the readers are done then).
  struct Close {
    ~Close() { raster::close_cached_datasets(); }
  } close;
  return build(task, registry, opt);
}

namespace {
store::ImportReport build(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& opt) {
  if (opt.shards < 1 || opt.shard < 0 || opt.shard >= opt.shards)
    fail<UsageError>("--shard {}/{}: expected 0 <= K < N", opt.shard, opt.shards);
  if (opt.labels.empty()) fail<UsageError>("--labels FILE is required");
  if (task.family == "dhs") return prepare_dhs(task, registry, opt);
  if (task.family == "lsms_pair") return prepare_lsms(task, registry, opt);
  if (task.family == "cropland") return prepare_cropland(task, registry, opt);
  if (task.family == "brick_kiln") return prepare_brick_kiln(task, registry, opt);
  if (task.family == "field_delineation") return prepare_field_delineation(task, registry, opt);
  if (task.family == "crop_yield") return prepare_crop_yield(task, registry, opt);
  if (task.family == "land_cover_ood") return prepare_land_cover_ood(task, registry, opt);
  if (task.family == "land_cover_rep") return prepare_land_cover_rep(task, registry, opt);
  if (task.family == "crop_type_fields") return prepare_crop_type_kenya(task, registry, opt);
  if (task.family == "crop_type_tiles") return prepare_crop_type_africa(task, registry, opt);
  fail<UsageError>("sbench prepare does not build {} ({} family) yet; it builds the {} tasks (docs/prepare.md)",
                   task.id, task.family, fmt::join(preparable_families(), ", "));
}

}  // namespace

}  // namespace sbench::prepare
