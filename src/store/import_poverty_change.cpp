// Poverty change (LSMS, SUSTAINBENCH.md 2.B): the label file
// asset_infrstructure_indicies_lsms_over_time.csv (country, ea_id, year.x, year.y, asset_index,
// asset_index_diff, ..., n), the static file asset_infrstructure_indicies_lsms.csv for
// coordinates, and one tile per EA and survey year. Upstream never published the tile layout,
// so it is sbench's (docs/formats.md): lsms_npzs/{country}_{year}/{ea_id}.npz with key x, an
// (8, 255, 255) float32 tile processed as the DHS tiles. The split is ours: the task card's
// seeded random rule over pairs.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <map>
#include <unordered_map>

#include "import_common.hpp"
#include "importers.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/core/npy.hpp"

namespace sbench::store::detail {

namespace fs = std::filesystem;

namespace {

struct Pair {
  std::string country, ea;
  std::int64_t year_x = 0, year_y = 0;
  double index_diff = NAN, diff_index = NAN, n = NAN, lat = NAN, lon = NAN;
  std::string id() const { return fmt::format("{}-{}-{}-{}", country, ea, year_x, year_y); }
};

fs::path find_file(const fs::path& from, const char* name) {
  for (const auto& c : {from / name, from / "final_labels" / name, from / "lsms_utils" / "final_labels" / name}) {
    if (fs::exists(c)) return c;
  }
  return {};
}

// EA ids are written as numbers in the label files: "101010001" and "101010001.0" are one id.
std::string ea_text(const std::string& v) {
  if (v.size() > 2 && v.compare(v.size() - 2, 2, ".0") == 0) return v.substr(0, v.size() - 2);
  return v;
}

}  // namespace

ImportReport import_poverty_change(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  const Schema schema = schema_from_card(task, registry);
  const fs::path pairs_path = find_file(opt.from, "asset_infrstructure_indicies_lsms_over_time.csv");
  if (pairs_path.empty()) {
    fail<InputError>("{}: no asset_infrstructure_indicies_lsms_over_time.csv (looked in the folder and final_labels/)",
                     opt.from.string());
  }
  const fs::path coords_path = find_file(opt.from, "asset_infrstructure_indicies_lsms.csv");
  const fs::path tiles = opt.from / "lsms_npzs";
  if (!fs::is_directory(tiles)) fail<InputError>("{}: no lsms_npzs/ folder of tiles", opt.from.string());

  std::map<std::tuple<std::string, std::string, std::int64_t>, std::pair<double, double>> coords;
  if (!coords_path.empty()) {
    CsvReader c(coords_path.string());
    const std::size_t cc = c.column("country"), cy = c.column("year"), ce = c.column("ea_id"), clat = c.column("lat"),
                      clon = c.column("lon");
    CsvRow row;
    while (c.next(row)) {
      coords[{row[cc], ea_text(row[ce]), c.get_int(row, cy)}] = {c.get_double_or_nan(row, clat),
                                                                 c.get_double_or_nan(row, clon)};
    }
  }
  CsvReader csv(pairs_path.string());
  const std::size_t c_country = csv.column("country"), c_ea = csv.column("ea_id"), c_x = csv.column("year.x"),
                    c_y = csv.column("year.y"), c_diff = csv.column("asset_index_diff"),
                    c_idx = csv.column("asset_index"), c_n = csv.column("n");
  std::vector<Pair> pairs;
  std::unordered_map<std::string, std::size_t> seen;
  CsvRow row;
  while (csv.next(row)) {
    Pair p;
    p.country = row[c_country];
    p.ea = ea_text(row[c_ea]);
    p.year_x = csv.get_int(row, c_x);
    p.year_y = csv.get_int(row, c_y);
    p.index_diff = csv.get_double_or_nan(row, c_diff);
    p.diff_index = csv.get_double_or_nan(row, c_idx);
    p.n = csv.get_double_or_nan(row, c_n);
    if (auto it = coords.find({p.country, p.ea, p.year_x}); it != coords.end()) std::tie(p.lat, p.lon) = it->second;
    if (auto [it, fresh] = seen.emplace(p.id(), row.line()); !fresh) {
      fail<InputError>("{}: line {}: pair {} also on line {}", csv.name(), row.line(), p.id(), it->second);
    }
    pairs.push_back(std::move(p));
  }

  StoreWriter writer(opt.out, schema, writer_options(opt));
  writer.add_source_file(describe_file(pairs_path));
  if (!coords_path.empty()) writer.add_source_file(describe_file(coords_path));
  Tally tally;
  const std::size_t before = schema.index("x_before"), after = schema.index("x_after");
  const auto& shape = schema.fields[before].shape;
  run_import(
      writer, pairs.size(), opt.threads, [&](std::size_t i) { return pairs[i].id(); },
      [&](std::size_t i, Example& ex) -> Loaded {
        const Pair& p = pairs[i];
        Loaded out;
        for (auto [field, year] : {std::pair<std::size_t, std::int64_t>{before, p.year_x}, {after, p.year_y}}) {
          const fs::path file = tiles / fmt::format("{}_{}", p.country, year) / (p.ea + ".npz");
          if (!fs::exists(file)) return {"missing_image", file.string(), {}};
          NpzReader npz(file);
          const NpyArray x = npz.read("x");
          if (x.shape() != shape || !x.holds<float>()) {
            fail<InputError>("{}: array 'x' is {} of shape ({}), expected <f4 of shape ({})", file.string(), x.descr(),
                             fmt::join(x.shape(), ", "), fmt::join(shape, ", "));
          }
          const float* px = x.data<float>();
          for (std::size_t k = 0; k < x.size(); ++k) {
            if (std::isnan(px[k])) return {"nan_pixels", file.string(), {}};
          }
          std::memcpy(ex.bytes(field), px, x.nbytes());
          out.files.push_back(describe_file(file));
        }
        ex.id = p.id();
        ex.split = hash_split(ex.id, task.split.seed.value_or(0), task.split.fractions);
        ex.set("asset_index_diff", p.index_diff);
        ex.set("asset_index", p.diff_index);
        ex.set("country", p.country);
        ex.set("ea_id", p.ea);
        ex.set("year_before", static_cast<double>(p.year_x));
        ex.set("year_after", static_cast<double>(p.year_y));
        ex.set("n", std::isfinite(p.n) ? p.n : -1.0);
        ex.set("lat", p.lat);
        ex.set("lon", p.lon);
        return out;
      },
      tally, opt.progress);
  return finish_import(writer, tally, task, opt);
}

}  // namespace sbench::store::detail
