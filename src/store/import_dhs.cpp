// The DHS release (poverty, child_mortality, women_bmi, women_edu, water, sanitation; one store
// holds all six targets): dhs_final_labels.csv plus {survey}/{DHSID_EA}.npz with key x, an
// (8, 255, 255) float32 tile per cluster (SUSTAINBENCH.md 2.A).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <unordered_map>

#include "import_common.hpp"
#include "importers.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/core/npy.hpp"

namespace sbench::store::detail {

namespace fs = std::filesystem;

namespace {

struct Cluster {
  std::string id;
  std::string country;
  std::string survey;
  std::int64_t year = 0;
  double lat = 0, lon = 0;
  int urban = -1;
  std::vector<double> labels;  // one per target column
  std::vector<double> counts;  // one per count column present
  std::size_t line = 0;
};

fs::path find_labels(const fs::path& from) {
  for (const auto& candidate : {from / "dhs_final_labels.csv", from / "output_labels" / "dhs_final_labels.csv"}) {
    if (fs::exists(candidate)) return candidate;
  }
  fail<InputError>("{}: no dhs_final_labels.csv (looked in the folder and in output_labels/)", from.string());
}

fs::path find_images(const fs::path& from) {
  if (fs::is_directory(from / "dhs_npzs")) return from / "dhs_npzs";
  return from;
}

int parse_urban(const std::string& v, const CsvReader& csv, const CsvRow& row) {
  if (v == "U" || v == "1" || v == "urban") return 1;
  if (v == "R" || v == "0" || v == "rural") return 0;
  if (v.empty() || v == "NA") return -1;
  fail<InputError>("{}: line {}: column 'urban': expected U or R, found '{}'", csv.name(), row.line(), v);
}

}  // namespace

ImportReport import_dhs(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  Schema schema = schema_from_card(task, registry);
  const std::vector<std::string> count_names = {"n_asset",       "n_water",     "n_sanitation",
                                                "n_under5_mort", "n_women_edu", "n_women_bmi"};
  const fs::path labels_path = find_labels(opt.from);
  const fs::path images = find_images(opt.from);

  // Target columns: every target of the DHS family, named as the release's columns.
  std::vector<std::string> target_fields, target_columns;
  for (const auto& t : registry.tasks()) {
    if (t.family != task.family) continue;
    for (const auto& target : t.targets) {
      target_fields.push_back(target.name);
      target_columns.push_back(target.column.empty() ? target.name : target.column);
    }
  }

  CsvReader csv(labels_path.string());
  const std::size_t c_id = csv.column("DHSID_EA");
  const std::size_t c_year = csv.column("year");
  const std::size_t c_lat = csv.column("lat");
  const std::size_t c_lon = csv.column("lon");
  const auto c_cname = csv.find_column("cname");
  const auto c_urban = csv.find_column("urban");
  std::vector<std::size_t> c_targets;
  for (const auto& col : target_columns) c_targets.push_back(csv.column(col));
  std::vector<std::pair<std::string, std::size_t>> c_counts;
  for (const auto& name : count_names) {
    if (auto c = csv.find_column(name)) c_counts.emplace_back(name, *c);
  }
  for (const auto& [name, col] : c_counts) {
    schema.fields.push_back(Field{Group::meta, name, ElementType::float32, {}, {}, "", ""});
  }

  Tally tally;
  std::vector<Cluster> clusters;
  std::unordered_map<std::string, std::size_t> seen;
  CsvRow row;
  while (csv.next(row)) {
    Cluster c;
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
    for (const auto& [name, col] : c_counts) c.counts.push_back(csv.get_double_or_nan(row, col));
    // Dropped as upstream: clusters at (0, 0) or without coordinates, and rows without any label.
    if (!std::isfinite(c.lat) || !std::isfinite(c.lon) || (c.lat == 0 && c.lon == 0)) {
      tally.add("no_location", c.id);
      continue;
    }
    if (std::all_of(c.labels.begin(), c.labels.end(), [](double v) { return std::isnan(v); })) {
      tally.add("missing_labels", c.id);
      continue;
    }
    clusters.push_back(std::move(c));
  }

  StoreWriter writer(opt.out, schema, writer_options(opt));
  writer.add_source_file(describe_file(labels_path));

  const std::size_t x_index = schema.index("x");
  const std::vector<std::int64_t> x_shape = schema.fields[x_index].shape;
  run_import(
      writer, clusters.size(), opt.threads, [&](std::size_t i) { return clusters[i].id; },
      [&](std::size_t i, Example& ex) -> Loaded {
        const Cluster& c = clusters[i];
        const fs::path file = images / c.survey / (c.id + ".npz");
        if (!fs::exists(file)) return {"missing_image", c.id, {}};
        try {
          NpzReader npz(file);
          if (!npz.contains("x")) {
            fail<InputError>("{}: no array 'x' (arrays: {})", file.string(), fmt::join(npz.keys(), ", "));
          }
          // Read straight into the example's buffer through a reusable array.
          thread_local NpyArray x;
          npz.read("x", x);
          if (x.shape() != x_shape || !x.holds<float>()) {
            fail<InputError>("{}: array 'x' is {} of shape ({}), expected <f4 of shape ({})", file.string(), x.descr(),
                             fmt::join(x.shape(), ", "), fmt::join(x_shape, ", "));
          }
          const float* px = x.data<float>();
          for (std::size_t k = 0; k < x.size(); ++k) {
            if (std::isnan(px[k])) return {"nan_pixels", c.id, {}};
          }
          std::memcpy(ex.bytes(x_index), px, x.nbytes());
        } catch (const InputError& e) {
          spdlog::warn("cluster {}: {}", c.id, e.what());
          return {"bad_image", file.string(), {}};
        }
        ex.id = c.id;
        ex.split = split_of_member(task.split, c.country);
        for (std::size_t k = 0; k < target_fields.size(); ++k) ex.set(target_fields[k], c.labels[k]);
        for (std::size_t k = 0; k < c_counts.size(); ++k) ex.set(c_counts[k].first, c.counts[k]);
        ex.set("country", c.country);
        ex.set("survey", c.survey);
        ex.set("year", static_cast<double>(c.year));
        ex.set("lat", c.lat);
        ex.set("lon", c.lon);
        ex.set("urban", static_cast<double>(c.urban));
        // DMSP up to 2011, VIIRS from 2012 (SUSTAINBENCH.md 2.A, section 5).
        ex.set("nl_sensor", std::string(c.year < 2012 ? "dmsp" : "viirs"));
        return {"", "", {describe_file(file)}};
      },
      tally, opt.progress);

  return finish_import(writer, tally, task, opt);
}

}  // namespace sbench::store::detail
