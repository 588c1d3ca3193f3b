#include "sbench/store/lsms.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <tuple>
#include <unordered_map>

#include "sbench/core/csv.hpp"
#include "sbench/core/error.hpp"
#include "sbench/store/pipeline.hpp"

namespace sbench::store {

namespace {
// EA ids are written as numbers in the label files: "101010001" and "101010001.0" are one id.
std::string ea_text(const std::string& v) {
  if (v.size() > 2 && v.compare(v.size() - 2, 2, ".0") == 0) return v.substr(0, v.size() - 2);
  return v;
}

}  // namespace

std::string LsmsPair::id() const {
  return fmt::format("{}-{}-{}-{}", country, ea, year_x, year_y);
}

std::vector<LsmsPair> read_lsms_pairs(const std::filesystem::path& pairs_path,
                                      const std::filesystem::path& coords_path) {
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
  std::vector<LsmsPair> pairs;
  std::unordered_map<std::string, std::size_t> seen;
  CsvRow row;
  while (csv.next(row)) {
    LsmsPair p;
    p.line = row.line();
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

  return pairs;
}

void fill_lsms_example(Example& ex, const LsmsPair& p, const TaskCard& task) {
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
}

}  // namespace sbench::store
