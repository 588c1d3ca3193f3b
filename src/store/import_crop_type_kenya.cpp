// The Kenya crop-type release (SUSTAINBENCH.md 2.E): a metadata CSV (fileName, cropType, fieldID,
// region, fold_random, fold_{region}_test; older copies spell the columns "file Name", "crop Type",
// "field ID") plus one file per field that is a Python pickle (protocol 2) of a numpy.ma masked
// array of shape (14, 365), masked on days without an observation. Read with sbench's pickle
// reader, which never runs code.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <cmath>
#include <unordered_map>

#include "import_common.hpp"
#include "importers.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/core/pickle.hpp"

namespace sbench::store::detail {

namespace fs = std::filesystem;

namespace {

struct Field_ {
  std::string id, file, crop, region, fold;
  std::size_t line = 0;
};

fs::path find_metadata(const fs::path& from) {
  for (const auto& dir : {from, from / "croptype_mapping_kenya", from / "crop_type_kenya"}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("crop_type_kenya", 0) == 0 && name.find("metadata") != std::string::npos &&
          e.path().extension() == ".csv") {
        return e.path();
      }
    }
  }
  fail<InputError>(
      "{}: no crop_type_kenya_*metadata*.csv (looked in the folder, croptype_mapping_kenya/ and crop_type_kenya/)",
      from.string());
}

std::string lower_no_space(std::string s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '_') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// A column under any of its spellings ("fieldID", "field ID").
std::size_t column_any(const CsvReader& csv, const std::string& name) {
  for (std::size_t i = 0; i < csv.header().size(); ++i) {
    if (lower_no_space(csv.header()[i]) == lower_no_space(name)) return i;
  }
  return csv.column(name);  // the error lists the columns
}

}  // namespace

ImportReport import_crop_type_kenya(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  const Schema schema = schema_from_card(task, registry);
  const fs::path meta_path = find_metadata(opt.from);
  const fs::path root = meta_path.parent_path();
  const TargetSpec& target = *task.find_target("crop_type");
  const std::string fold_column = task.split.field;  // fold_random
  CsvReader csv(meta_path.string());
  const std::size_t c_file = column_any(csv, "fileName"), c_crop = column_any(csv, "cropType"),
                    c_id = column_any(csv, "fieldID"), c_fold = column_any(csv, fold_column);
  const auto c_region = csv.find_column("region");
  std::vector<Field_> fields;
  std::unordered_map<std::string, std::size_t> seen;
  Tally tally;
  CsvRow row;
  while (csv.next(row)) {
    Field_ f{row[c_id], row[c_file], row[c_crop], c_region ? row[*c_region] : "", row[c_fold], row.line()};
    if (f.id.empty()) fail<InputError>("{}: line {}: empty field id", csv.name(), row.line());
    if (auto [it, fresh] = seen.emplace(f.id, row.line()); !fresh) {
      fail<InputError>("{}: line {}: duplicate field id '{}' (first on line {})", csv.name(), row.line(), f.id,
                       it->second);
    }
    fields.push_back(std::move(f));
  }
  // Class of a release spelling ("Sugar Cane") or of a class name ("sugarcane").
  auto class_of = [&](const std::string& value) -> int {
    const std::string v = lower_no_space(value);
    for (std::size_t k = 0; k < target.classes.size(); ++k) {
      if (v == lower_no_space(target.classes[k]) ||
          (k < target.source_values.size() && v == lower_no_space(target.source_values[k]))) {
        return static_cast<int>(k);
      }
    }
    return -1;
  };

  StoreWriter writer(opt.out, schema, writer_options(opt));
  writer.add_source_file(describe_file(meta_path));
  const auto& x_shape = schema.field("x").shape;  // (14, 365)
  const std::size_t bands = static_cast<std::size_t>(x_shape[0]), days = static_cast<std::size_t>(x_shape[1]);
  run_import(
      writer, fields.size(), opt.threads, [&](std::size_t i) { return fields[i].id; },
      [&](std::size_t i, Example& ex) -> Loaded {
        const Field_& f = fields[i];
        if (f.crop.empty()) return {"missing_label", f.id, {}};
        const int cls = class_of(f.crop);
        if (cls < 0) return {"unknown_crop", fmt::format("{} ({})", f.id, f.crop), {}};
        fs::path file = root / f.file;
        if (!fs::exists(file)) file = root / "timeseries" / fs::path(f.file).filename();
        if (!fs::exists(file)) return {"missing_series", (root / f.file).string(), {}};
        const MaskedArray a = read_pickled_array(file);
        if (a.data.shape() != x_shape) {
          fail<InputError>("{}: field {}: series of shape ({}), expected ({})", file.string(), f.id,
                           fmt::join(a.data.shape(), ", "), fmt::join(x_shape, ", "));
        }
        const auto values = a.data.to_vector<float>();
        float* x = ex.as<float>("x");
        auto* observed = ex.as<std::uint8_t>("observed");
        for (std::size_t t = 0; t < days; ++t) observed[t] = a.mask.empty() ? 1 : 0;
        for (std::size_t b = 0; b < bands; ++b) {
          for (std::size_t t = 0; t < days; ++t) {
            const std::size_t k = b * days + t;
            const bool masked = !a.mask.empty() && a.mask[k];
            // Masked days hold no observation: 0, with observed[t] = 0 to say so.
            x[k] = masked ? 0.0f : values[k];
            if (!masked) observed[t] = 1;
          }
        }
        ex.id = f.id;
        const auto v = task.split.values.find(f.fold);
        ex.split = v == task.split.values.end() ? kNoSplit : split_code(v->second);
        ex.set("crop_type", cls);
        ex.set("region", f.region);
        return {"", "", {describe_file(file)}};
      },
      tally, opt.progress);
  return finish_import(writer, tally, task, opt);
}

}  // namespace sbench::store::detail
