#include "sbench/store/dhs.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "sbench/core/csv.hpp"
#include "sbench/core/error.hpp"
#include "sbench/store/pipeline.hpp"

namespace sbench::store {

namespace {
const std::vector<std::string>& count_names() {
  static const std::vector<std::string> names = {"n_asset",       "n_water",     "n_sanitation",
                                                 "n_under5_mort", "n_women_edu", "n_women_bmi"};
  return names;
}

int parse_urban(const std::string& v, const CsvReader& csv, const CsvRow& row) {
  if (v == "U" || v == "1" || v == "urban") return 1;
  if (v == "R" || v == "0" || v == "rural") return 0;
  if (v.empty() || v == "NA") return -1;
  fail<InputError>("{}: line {}: column 'urban': expected U or R, found '{}'", csv.name(), row.line(), v);
}
}  // namespace

DhsLabels read_dhs_labels(const std::string& path, const TaskCard& task, const TaskRegistry& registry) {
  DhsLabels out;
  out.path = path;
  // Target columns: every target of the DHS family, named as the release's columns.
  std::vector<std::string> target_columns;
  for (const auto& t : registry.tasks()) {
    if (t.family != task.family) continue;
    for (const auto& target : t.targets) {
      out.target_fields.push_back(target.name);
      target_columns.push_back(target.column.empty() ? target.name : target.column);
    }
  }
  CsvReader csv(path);
  const std::size_t c_id = csv.column("DHSID_EA");
  const std::size_t c_year = csv.column("year");
  const std::size_t c_lat = csv.column("lat");
  const std::size_t c_lon = csv.column("lon");
  const auto c_cname = csv.find_column("cname");
  const auto c_urban = csv.find_column("urban");
  std::vector<std::size_t> c_targets;
  for (const auto& col : target_columns) c_targets.push_back(csv.column(col));
  std::vector<std::size_t> c_counts;
  for (const auto& name : count_names()) {
    if (auto c = csv.find_column(name)) {
      out.count_fields.push_back(name);
      c_counts.push_back(*c);
    }
  }
  std::unordered_map<std::string, std::size_t> seen;
  CsvRow row;
  while (csv.next(row)) {
    DhsCluster c;
    c.id = row[c_id];
    c.line = row.line();
    if (c.id.size() < 10) {
      fail<InputError>("{}: line {}: DHSID_EA '{}' is not of the form CC-YYYY-R#-NNNNNNNN", csv.name(), row.line(),
                       c.id);
    }
    if (auto [it, fresh] = seen.emplace(c.id, row.line()); !fresh) {
      fail<InputError>("{}: line {}: duplicate DHSID_EA '{}' (first on line {})", csv.name(), row.line(), c.id,
                       it->second);
    }
    // The split uses the DHS country code of the id, never an ISO code (SUSTAINBENCH.md 8.1).
    c.country = c.id.substr(0, 2);
    if (c_cname && !row[*c_cname].empty() && row[*c_cname] != c.country) {
      spdlog::debug("{}: line {}: cname '{}' differs from the id's country code '{}'", csv.name(), row.line(),
                    row[*c_cname], c.country);
    }
    c.survey = c.id.substr(0, 10);
    c.year = csv.get_int(row, c_year);
    c.lat = csv.get_double_or_nan(row, c_lat);
    c.lon = csv.get_double_or_nan(row, c_lon);
    c.urban = c_urban ? parse_urban(row[*c_urban], csv, row) : -1;
    for (auto col : c_targets) c.labels.push_back(csv.get_double_or_nan(row, col));
    for (auto col : c_counts) c.counts.push_back(csv.get_double_or_nan(row, col));
    // Dropped as upstream: clusters at (0, 0) or without coordinates, and rows without any label.
    if (!std::isfinite(c.lat) || !std::isfinite(c.lon) || (c.lat == 0 && c.lon == 0)) {
      c.drop = "no_location";
    } else if (std::all_of(c.labels.begin(), c.labels.end(), [](double v) { return std::isnan(v); })) {
      c.drop = "missing_labels";
    }
    out.rows.push_back(std::move(c));
  }
  return out;
}

Schema dhs_schema(const TaskCard& task, const TaskRegistry& registry, const DhsLabels& labels) {
  Schema schema = schema_from_card(task, registry);
  for (const auto& name : labels.count_fields) {
    schema.fields.push_back(Field{Group::meta, name, ElementType::float32, {}, {}, "", ""});
  }
  return schema;
}

void fill_dhs_example(Example& ex, const DhsCluster& c, const DhsLabels& labels, const TaskCard& task) {
  ex.id = c.id;
  ex.split = split_of_member(task.split, c.country);
  for (std::size_t k = 0; k < labels.target_fields.size(); ++k) ex.set(labels.target_fields[k], c.labels[k]);
  for (std::size_t k = 0; k < labels.count_fields.size(); ++k) ex.set(labels.count_fields[k], c.counts[k]);
  ex.set("country", c.country);
  ex.set("survey", c.survey);
  ex.set("year", static_cast<double>(c.year));
  ex.set("lat", c.lat);
  ex.set("lon", c.lon);
  ex.set("urban", static_cast<double>(c.urban));
  // DMSP up to 2011, VIIRS from 2012 (SUSTAINBENCH.md 2.A, section 5).
  ex.set("nl_sensor", std::string(c.year < 2012 ? "dmsp" : "viirs"));
}

}  // namespace sbench::store
