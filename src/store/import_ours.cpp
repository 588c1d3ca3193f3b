// Import layouts defined by sbench for the tasks whose release format is undocumented upstream
// (cropland 2A, land_cover_ood 15B) or only known from a third-party loader (land_cover_rep 15A,
// FORK-MW's metadata.csv + tile_triplets/). Documented in docs/formats.md, which says they are ours.
#include <fmt/format.h>

#include <cmath>
#include <unordered_map>

#include "import_common.hpp"
#include "importers.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/core/npy.hpp"

namespace sbench::store::detail {

namespace fs = std::filesystem;

namespace {

fs::path find_csv(const fs::path& from, const std::string& sub, const char* name) {
  for (const auto& c : {from / name, from / sub / name}) {
    if (fs::exists(c)) return c;
  }
  fail<InputError>("{}: no {} (looked in the folder and in {}/)", from.string(), name, sub);
}

// A numeric npy of the given shape, as doubles; an InputError naming the file otherwise.
std::vector<double> read_values(const fs::path& file, const std::vector<std::int64_t>& shape) {
  const NpyArray a = read_npy(file);
  if (a.shape() != shape || a.kind() == NpyKind::unicode) {
    fail<InputError>("{}: {} of shape ({}), expected numbers of shape ({})", file.string(), a.descr(),
                     fmt::join(a.shape(), ", "), fmt::join(shape, ", "));
  }
  return a.to_vector<double>();
}

std::unordered_map<std::string, std::size_t> check_unique(const CsvReader& csv, const std::vector<std::string>& ids,
                                                          const std::vector<std::size_t>& lines) {
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (auto [it, fresh] = seen.emplace(ids[i], lines[i]); !fresh) {
      fail<InputError>("{}: line {}: duplicate id '{}' (first on line {})", csv.name(), lines[i], ids[i], it->second);
    }
  }
  return seen;
}

std::uint8_t release_split(const SplitSpec& split, const std::string& value, const CsvReader& csv, std::size_t line) {
  const auto it = split.values.find(value);
  if (it == split.values.end()) {
    std::vector<std::string> valid;
    for (const auto& [k, v] : split.values) valid.push_back(k);
    fail<InputError>("{}: line {}: split '{}' is not one of {}", csv.name(), line, value, fmt::join(valid, ", "));
  }
  return split_code(it->second);
}

}  // namespace

// cropland/metadata.csv (id, split, lat, lon, point_row, point_col), cropland/x/{id}.npy
// (7, 50, 50) reflectance, cropland/mask/{id}.npy (50, 50) with 1 = cropland.
ImportReport import_cropland(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  const Schema schema = schema_from_card(task, registry);
  const fs::path meta = find_csv(opt.from, "cropland", "metadata.csv");
  const fs::path root = meta.parent_path();
  CsvReader csv(meta.string());
  const std::size_t c_id = csv.column("id"), c_split = csv.column("split"), c_lat = csv.column("lat"),
                    c_lon = csv.column("lon"), c_pr = csv.column("point_row"), c_pc = csv.column("point_col");
  struct Row {
    std::string id;
    std::uint8_t split;
    double lat, lon;
    std::int64_t pr, pc;
    std::size_t line;
  };
  std::vector<Row> rows;
  std::vector<std::string> ids;
  std::vector<std::size_t> lines;
  CsvRow r;
  const auto& mask_shape = schema.field("mask").shape;
  while (csv.next(r)) {
    Row row{r[c_id],
            release_split(task.split, r[c_split], csv, r.line()),
            csv.get_double(r, c_lat),
            csv.get_double(r, c_lon),
            csv.get_int(r, c_pr),
            csv.get_int(r, c_pc),
            r.line()};
    if (row.pr < 0 || row.pr >= mask_shape[0] || row.pc < 0 || row.pc >= mask_shape[1]) {
      fail<InputError>("{}: line {}: labelled pixel ({}, {}) is outside the {} x {} tile", csv.name(), r.line(), row.pr,
                       row.pc, mask_shape[0], mask_shape[1]);
    }
    ids.push_back(row.id);
    lines.push_back(row.line);
    rows.push_back(row);
  }
  check_unique(csv, ids, lines);
  StoreWriter writer(opt.out, schema, writer_options(opt));
  writer.add_source_file(describe_file(meta));
  Tally tally;
  run_import(
      writer, rows.size(), opt.threads, [&](std::size_t i) { return rows[i].id; },
      [&](std::size_t i, Example& ex) -> Loaded {
        const Row& row = rows[i];
        const fs::path xf = root / "x" / (row.id + ".npy"), mf = root / "mask" / (row.id + ".npy");
        if (!fs::exists(xf) || !fs::exists(mf)) return {"missing_file", fs::exists(xf) ? mf.string() : xf.string(), {}};
        const auto x = read_values(xf, schema.field("x").shape);
        const auto mask = read_values(mf, mask_shape);
        float* dx = ex.as<float>("x");
        for (std::size_t k = 0; k < x.size(); ++k) dx[k] = static_cast<float>(x[k]);
        auto* dm = ex.as<std::uint8_t>("mask");
        std::size_t crop = 0;
        for (std::size_t k = 0; k < mask.size(); ++k) {
          if (mask[k] != 0 && mask[k] != 1)
            fail<InputError>("{}: value {} at {}, expected 0 or 1", mf.string(), mask[k], k);
          dm[k] = static_cast<std::uint8_t>(mask[k]);
          crop += dm[k];
        }
        ex.id = row.id;
        ex.split = row.split;
        // The two weak labels (SUSTAINBENCH.md 2.C): the class of one pixel, and "at least half cropland".
        ex.set("point_label", dm[static_cast<std::size_t>(row.pr * mask_shape[1] + row.pc)]);
        ex.set("image_label", 2 * crop >= mask.size() ? 1 : 0);
        ex.set("point_row", static_cast<double>(row.pr));
        ex.set("point_col", static_cast<double>(row.pc));
        ex.set("lat", row.lat);
        ex.set("lon", row.lon);
        return {"", "", {describe_file(xf), describe_file(mf)}};
      },
      tally, opt.progress);
  return finish_import(writer, tally, task, opt);
}

// FORK-MW's layout: metadata.csv (fileName, landCover, split) and tile_triplets/{fileName}, numpy
// tiles of 100 x 100 with the 4 NAIP channels (R, G, B, N) first and optionally the CDL mask as a
// fifth, channels first or last (Tile2Vec's tiles are H x W x 5).
ImportReport import_land_cover_rep(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  const Schema schema = schema_from_card(task, registry);
  const fs::path meta = find_csv(opt.from, "land_cover_rep", "metadata.csv");
  const fs::path root = meta.parent_path();
  CsvReader csv(meta.string());
  const std::size_t c_file = csv.column("fileName"), c_label = csv.column("landCover"), c_split = csv.column("split");
  const auto c_lat = csv.find_column("lat"), c_lon = csv.find_column("lon");
  struct Row {
    std::string file;
    std::int64_t label;
    std::uint8_t split;
    double lat, lon;
  };
  std::vector<Row> rows;
  std::vector<std::string> ids;
  std::vector<std::size_t> lines;
  CsvRow r;
  while (csv.next(r)) {
    const std::int64_t label = csv.get_int(r, c_label);
    if (label < 0 || label > 255)
      fail<InputError>("{}: line {}: landCover {} is not a CDL code (0-255)", csv.name(), r.line(), label);
    rows.push_back({r[c_file], label, release_split(task.split, r[c_split], csv, r.line()),
                    c_lat ? csv.get_double_or_nan(r, *c_lat) : NAN, c_lon ? csv.get_double_or_nan(r, *c_lon) : NAN});
    ids.push_back(r[c_file]);
    lines.push_back(r.line());
  }
  check_unique(csv, ids, lines);
  StoreWriter writer(opt.out, schema, writer_options(opt));
  writer.add_source_file(describe_file(meta));
  Tally tally;
  run_import(
      writer, rows.size(), opt.threads, [&](std::size_t i) { return rows[i].file; },
      [&](std::size_t i, Example& ex) -> Loaded {
        const Row& row = rows[i];
        fs::path file = root / "tile_triplets" / row.file;
        if (!fs::exists(file)) file = root / row.file;
        if (!fs::exists(file)) return {"missing_tile", (root / "tile_triplets" / row.file).string(), {}};
        const NpyArray a = read_npy(file);
        const auto& s = a.shape();
        const bool first = s.size() == 3 && (s[0] == 4 || s[0] == 5) && s[1] == 100 && s[2] == 100;
        const bool last = s.size() == 3 && s[0] == 100 && s[1] == 100 && (s[2] == 4 || s[2] == 5);
        if (!first && !last) {
          fail<InputError>("{}: tile of shape ({}), expected (4 or 5, 100, 100) or (100, 100, 4 or 5)", file.string(),
                           fmt::join(s, ", "));
        }
        const auto v = a.to_vector<double>();
        const std::size_t channels = static_cast<std::size_t>(first ? s[0] : s[2]);
        auto* x = ex.as<std::uint8_t>("x");
        for (std::size_t c = 0; c < 4; ++c) {
          for (std::size_t p = 0; p < 100 * 100; ++p) {
            const double value = first ? v[c * 10000 + p] : v[p * channels + c];
            if (!(value >= 0 && value <= 255))
              fail<InputError>("{}: value {} outside 0-255 (NAIP is 8-bit)", file.string(), value);
            x[c * 10000 + p] = static_cast<std::uint8_t>(std::lround(value));
          }
        }
        ex.id = row.file;
        ex.split = row.split;
        ex.set("land_cover", static_cast<double>(row.label));
        ex.set("lat", row.lat);
        ex.set("lon", row.lon);
        return {"", "", {describe_file(file)}};
      },
      tally, opt.progress);
  return finish_import(writer, tally, task, opt);
}

// land_cover_ood/points.csv (id, region, region_group, row, lat, lon, land_cover) and
// land_cover_ood/series/{region}.npy, an (P, 8, 46) array of the region's point series (row = index).
ImportReport import_land_cover_ood(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  const Schema schema = schema_from_card(task, registry);
  const fs::path meta = find_csv(opt.from, "land_cover_ood", "points.csv");
  const fs::path root = meta.parent_path();
  CsvReader csv(meta.string());
  const std::size_t c_id = csv.column("id"), c_region = csv.column("region"), c_group = csv.column("region_group"),
                    c_row = csv.column("row"), c_lat = csv.column("lat"), c_lon = csv.column("lon"),
                    c_label = csv.column("land_cover");
  struct Row {
    std::string id, region, group;
    std::int64_t row, label;
    double lat, lon;
  };
  std::vector<Row> rows;
  std::vector<std::string> ids;
  std::vector<std::size_t> lines;
  const std::int64_t classes = task.find_target("land_cover")->num_classes;
  CsvRow r;
  while (csv.next(r)) {
    Row row{r[c_id],
            r[c_region],
            r[c_group],
            csv.get_int(r, c_row),
            csv.get_int(r, c_label),
            csv.get_double(r, c_lat),
            csv.get_double(r, c_lon)};
    if (row.label < 1 || row.label >= classes) {
      fail<InputError>("{}: line {}: land_cover {} is not an IGBP class (1-{})", csv.name(), r.line(), row.label,
                       classes - 1);
    }
    ids.push_back(row.id);
    lines.push_back(r.line());
    rows.push_back(std::move(row));
  }
  check_unique(csv, ids, lines);
  // Every region's series file, read once.
  std::unordered_map<std::string, NpyArray> series;
  std::vector<fs::path> files;
  for (const auto& row : rows) {
    if (series.count(row.region)) continue;
    const fs::path f = root / "series" / (row.region + ".npy");
    if (!fs::exists(f)) fail<InputError>("{}: missing (series of region {})", f.string(), row.region);
    NpyArray a = read_npy(f);
    const auto& want = schema.field("x").shape;
    if (a.ndim() != 3 || a.shape()[1] != want[0] || a.shape()[2] != want[1] || a.kind() == NpyKind::unicode) {
      fail<InputError>("{}: {} of shape ({}), expected (points, {}, {})", f.string(), a.descr(),
                       fmt::join(a.shape(), ", "), want[0], want[1]);
    }
    if (!a.holds<float>()) a = NpyArray::from<float>(a.shape(), a.to_vector<float>());
    series.emplace(row.region, std::move(a));
    files.push_back(f);
  }
  for (const auto& row : rows) {
    if (row.row < 0 || row.row >= series.at(row.region).shape()[0]) {
      fail<InputError>("{}: point {}: row {} is outside {}.npy ({} points)", csv.name(), row.id, row.row, row.region,
                       series.at(row.region).shape()[0]);
    }
  }
  const auto& test_groups = task.split.members.at("test");
  StoreWriter writer(opt.out, schema, writer_options(opt));
  writer.add_source_file(describe_file(meta));
  for (const auto& f : files) writer.add_source_file(describe_file(f));
  Tally tally;
  const std::size_t per_point = schema.field("x").values_per_example();
  run_import(
      writer, rows.size(), opt.threads, [&](std::size_t i) { return rows[i].id; },
      [&](std::size_t i, Example& ex) -> Loaded {
        const Row& row = rows[i];
        const NpyArray& a = series.at(row.region);
        float* x = ex.as<float>("x");
        const std::size_t base = static_cast<std::size_t>(row.row) * per_point;
        std::memcpy(x, a.data<float>() + base, per_point * sizeof(float));
        ex.id = row.id;
        // Held-out region groups (sub-Saharan Africa) are meta-test; other regions split by a hash of
        // the region, so that all points of a region share a split.
        const bool held_out = std::find(test_groups.begin(), test_groups.end(), row.group) != test_groups.end();
        ex.split = held_out ? kTest : hash_split(row.region, task.split.seed.value_or(0), task.split.fractions);
        ex.set("land_cover", static_cast<double>(row.label));
        ex.set("region", row.region);
        ex.set("region_group", row.group);
        ex.set("lat", row.lat);
        ex.set("lon", row.lon);
        return {};
      },
      tally, opt.progress);
  return finish_import(writer, tally, task, opt);
}

}  // namespace sbench::store::detail
