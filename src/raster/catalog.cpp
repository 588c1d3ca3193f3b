#include "sbench/raster/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>

#include "sbench/core/atomic_file.hpp"
#include "sbench/core/error.hpp"
#include "sbench/core/version.hpp"

namespace sbench::raster {

using json = nlohmann::ordered_json;

namespace {
constexpr int kCatalogVersion = 1;

json band_to_json(const SceneBand& b) {
  json j = {{"name", b.name},   {"source", b.source}, {"index", b.index}, {"quantity", static_cast<int>(b.quantity)},
            {"scale", b.scale}, {"offset", b.offset}};
  if (b.k1 > 0) {
    j["k1"] = b.k1;
    j["k2"] = b.k2;
  }
  auto finite_or_null = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  j["valid"] = {finite_or_null(b.valid_min), finite_or_null(b.valid_max)};
  j["clamp"] = {finite_or_null(b.clamp_min), finite_or_null(b.clamp_max)};
  if (b.nodata) j["nodata"] = *b.nodata;
  if (!b.mask.empty()) {
    json rules = json::array();
    for (const auto& r : b.mask) {
      rules.push_back({{"offset", r.offset}, {"width", r.width}, {"values", r.values}, {"meaning", r.meaning}});
    }
    j["mask"] = rules;
  }
  return j;
}

SceneBand band_from_json(const json& j) {
  SceneBand b;
  b.name = j.at("name").get<std::string>();
  b.source = j.at("source").get<std::string>();
  b.index = j.at("index").get<int>();
  b.quantity = static_cast<Quantity>(j.at("quantity").get<int>());
  b.scale = j.at("scale").get<double>();
  b.offset = j.at("offset").get<double>();
  b.k1 = j.value("k1", 0.0);
  b.k2 = j.value("k2", 0.0);
  const double inf = std::numeric_limits<double>::infinity();
  auto bound = [](const json& v, double dflt) { return v.is_null() ? dflt : v.get<double>(); };
  b.valid_min = bound(j.at("valid").at(0), -inf);
  b.valid_max = bound(j.at("valid").at(1), inf);
  b.clamp_min = bound(j.at("clamp").at(0), -inf);
  b.clamp_max = bound(j.at("clamp").at(1), inf);
  if (j.contains("nodata")) b.nodata = j.at("nodata").get<double>();
  if (j.contains("mask")) {
    for (const auto& r : j.at("mask")) {
      b.mask.push_back(QaRule{r.at("offset").get<int>(), r.at("width").get<int>(),
                              r.at("values").get<std::vector<unsigned>>(), r.at("meaning").get<std::string>()});
    }
  }
  return b;
}
}  // namespace

std::string check_date(const std::string& date, const std::string& option) {
  static const std::regex rx(R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$)");
  if (!std::regex_match(date, rx)) fail<UsageError>("{} '{}': expected a date YYYY-MM-DD", option, date);
  return date;
}

Catalog build_catalog(const std::vector<std::string>& paths, const std::string& sensor) {
  Catalog c;
  c.scenes = scan_scenes(paths, sensor, &c.unrecognised);
  return c;
}

void write_catalog(const std::string& path, const Catalog& c) {
  json scenes = json::array();
  for (const auto& s : c.scenes) {
    json bands = json::array();
    for (const auto& b : s.bands) bands.push_back(band_to_json(b));
    scenes.push_back({{"sensor", s.sensor},
                      {"product", s.product},
                      {"date", s.date},
                      {"date_end", s.date_end},
                      {"crs", s.crs},
                      {"bounds", s.bounds},
                      {"bands", bands},
                      {"files", s.files}});
  }
  json skipped = json::array();
  for (const auto& u : c.unrecognised) skipped.push_back({{"path", u.path}, {"reason", u.reason}});
  const json doc = {{"format", "sbench-catalog"},
                    {"version", kCatalogVersion},
                    {"sbench_version", version()},
                    {"scenes", scenes},
                    {"unrecognised", skipped}};
  AtomicFile out(path);
  {
    std::ofstream f(out.partial_path());
    f << doc.dump(1) << '\n';
    if (!f) fail<IoError>("{}: write failed", out.partial_path().string());
  }
  out.commit();
}

Catalog read_catalog(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail<IoError>("{}: cannot open the catalog", path);
  Catalog c;
  try {
    const json doc = json::parse(in);
    if (doc.value("format", "") != "sbench-catalog") {
      fail<FormatError>("{}: not an sbench catalog (no \"format\": \"sbench-catalog\")", path);
    }
    if (doc.at("version").get<int>() > kCatalogVersion) {
      fail<FormatError>("{}: catalog version {} is newer than this sbench reads ({})", path,
                        doc.at("version").get<int>(), kCatalogVersion);
    }
    for (const auto& j : doc.at("scenes")) {
      Scene s;
      s.sensor = j.at("sensor").get<std::string>();
      s.product = j.at("product").get<std::string>();
      s.date = j.at("date").get<std::string>();
      s.date_end = j.at("date_end").get<std::string>();
      s.crs = j.at("crs").get<std::string>();
      s.bounds = j.at("bounds").get<std::array<double, 4>>();
      for (const auto& b : j.at("bands")) s.bands.push_back(band_from_json(b));
      s.files = j.at("files").get<std::vector<std::string>>();
      c.scenes.push_back(std::move(s));
    }
    for (const auto& u : doc.at("unrecognised")) {
      c.unrecognised.push_back({u.at("path").get<std::string>(), u.at("reason").get<std::string>()});
    }
  } catch (const json::exception& e) {
    fail<FormatError>("{}: malformed catalog ({})", path, e.what());
  }
  return c;
}

std::vector<const Scene*> query_catalog(const Catalog& c, const SceneQuery& q) {
  std::vector<const Scene*> out;
  for (const auto& s : c.scenes) {
    if (!q.sensor.empty() && q.sensor != "auto" && s.sensor != q.sensor) continue;
    if (q.box) {
      const auto& b = *q.box;
      if (b[0] > s.bounds[2] || b[2] < s.bounds[0] || b[1] > s.bounds[3] || b[3] < s.bounds[1]) continue;
    }
    // Scenes without a date (generic files) match any window.
    if (!s.date.empty()) {
      if (!q.end.empty() && s.date > q.end) continue;
      if (!q.start.empty() && (s.date_end.empty() ? s.date : s.date_end) < q.start) continue;
    }
    out.push_back(&s);
  }
  std::stable_sort(out.begin(), out.end(), [](const Scene* a, const Scene* b) { return a->date < b->date; });
  return out;
}

}  // namespace sbench::raster
