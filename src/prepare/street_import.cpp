#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "sbench/core/csv.hpp"
#include "sbench/core/error.hpp"
#include "sbench/prepare/street.hpp"
#include "sbench/raster/image.hpp"
#include "sbench/store/pipeline.hpp"
#include "sbench/store/store.hpp"
#include "sbench/store/street.hpp"

namespace sbench::prepare {

namespace fs = std::filesystem;

namespace {

struct Meta {
  std::string id;
  double lat = 0, lon = 0;
  int year = 0;
  fs::path file;  // own images: the file, when the CSV names it
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::size_t column_of(const CsvReader& csv, std::initializer_list<const char*> names, const char* what) {
  for (const char* n : names) {
    for (std::size_t i = 0; i < csv.header().size(); ++i) {
      if (lower(csv.header()[i]) == n) return i;
    }
  }
  fail<InputError>("{}: no {} column (looked for {}; it has {})", csv.name(), what, fmt::join(names, ", "),
                   fmt::join(csv.header(), ", "));
}

std::optional<std::size_t> maybe_column(const CsvReader& csv, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    for (std::size_t i = 0; i < csv.header().size(); ++i) {
      if (lower(csv.header()[i]) == n) return i;
    }
  }
  return std::nullopt;
}

// Image metadata: id, lat, lon and year (or a timestamp in milliseconds, UTC; values under 10^11
// are taken as seconds), optional file. A row that does not parse is counted bad_metadata (file,
// line and reason) and skipped; a file without the columns is an InputError.
std::vector<Meta> read_metadata(const fs::path& path, store::Tally& tally) {
  CsvReader csv(path.string());
  const std::size_t c_id = column_of(csv, {"id", "image_id", "mapillary_id", "key"}, "image id");
  const std::size_t c_lat = column_of(csv, {"lat", "latitude"}, "latitude");
  const std::size_t c_lon = column_of(csv, {"lon", "lng", "longitude"}, "longitude");
  const auto c_year = maybe_column(csv, {"year"});
  const auto c_time = maybe_column(csv, {"timestamp", "captured_at"});
  const auto c_file = maybe_column(csv, {"file", "path", "filename"});
  if (!c_year && !c_time) fail<InputError>("{}: no year or timestamp column", csv.name());
  std::vector<Meta> out;
  CsvRow row;
  while (csv.next(row)) {
    Meta m;
    try {
      m.id = row[c_id];
      if (m.id.empty()) fail<InputError>("{}: line {}: empty image id", csv.name(), row.line());
      m.lat = csv.get_double(row, c_lat);
      m.lon = csv.get_double(row, c_lon);
      if (!std::isfinite(m.lat) || !std::isfinite(m.lon) || std::abs(m.lat) > 90 || std::abs(m.lon) > 180)
        fail<InputError>("{}: line {}: position ({}, {}) is not a latitude and longitude", csv.name(), row.line(),
                         row[c_lat], row[c_lon]);
      if (c_year && !row[*c_year].empty()) {
        const double y = csv.get_double(row, *c_year);
        if (!std::isfinite(y) || y < 1900 || y > 2200 || y != std::floor(y))
          fail<InputError>("{}: line {}: year '{}'", csv.name(), row.line(), row[*c_year]);
        m.year = static_cast<int>(y);
      } else {
        if (!c_time || row[*c_time].empty())
          fail<InputError>("{}: line {}: neither a year nor a timestamp", csv.name(), row.line());
        double t = csv.get_double(row, *c_time);
        if (!std::isfinite(t) || t < 0)
          fail<InputError>("{}: line {}: timestamp '{}'", csv.name(), row.line(), row[*c_time]);
        if (t >= 1e11) t /= 1000;  // milliseconds
        const auto seconds = static_cast<std::time_t>(t);
        std::tm tm{};
        gmtime_r(&seconds, &tm);
        m.year = tm.tm_year + 1900;
      }
    } catch (const InputError& e) {
      tally.add("bad_metadata", e.what());
      continue;
    }
    if (c_file) m.file = row[*c_file];
    out.push_back(std::move(m));
  }
  return out;
}

double distance_m(double lat1, double lon1, double lat2, double lon2) {  // haversine, mean Earth radius
  constexpr double kRad = 3.14159265358979323846 / 180, kEarth = 6371008.8;
  const double dlat = (lat2 - lat1) * kRad, dlon = (lon2 - lon1) * kRad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarth * std::asin(std::min(1.0, std::sqrt(a)));
}

struct Job {
  std::string cluster;
  fs::path file;
  Meta meta;
};

bool is_jpeg_name(const fs::path& p) {
  const std::string e = lower(p.extension().string());
  return e == ".jpeg" || e == ".jpg";
}

}  // namespace

store::ImportReport import_street(const StreetOptions& opt) {
  if (opt.from.empty() == opt.images.empty())
    fail<UsageError>("give either --from (the release's layout) or --images with --metadata");
  if (!opt.images.empty() && opt.metadata.empty()) fail<UsageError>("--images needs --metadata CSV");
  if (fs::exists(opt.out)) fail<UsageError>("{}: exists (give a new --out)", opt.out.string());
  if (opt.size < 8 || opt.size > 4096) fail<UsageError>("--size {}: expected 8 to 4096 pixels", opt.size);
  if (!(opt.radius_deg >= 0) || opt.years < 0 || opt.max_per_cluster < 1)
    fail<UsageError>("--radius, --years must not be negative and --max-per-cluster must be at least 1");
  store::StoreReader reader(opt.store);
  for (const char* f : {"lat", "lon", "year"}) {
    if (!reader.schema().find(f))
      fail<InputError>("{}: no '{}' field: street images go with a DHS store (lat, lon, year)", opt.store.string(), f);
  }
  const auto& ids = reader.ids();
  const auto lat = reader.read_numbers("lat"), lon = reader.read_numbers("lon"), year = reader.read_numbers("year");
  std::unordered_map<std::string, std::size_t> row_of;
  for (std::size_t i = 0; i < ids.size(); ++i) row_of.emplace(ids[i], i);
  store::Tally tally;
  std::vector<std::vector<Job>> per_cluster(ids.size());

  if (!opt.from.empty()) {
    // The release: metadata/{CC}.csv and imagery/{CC}/{cluster}/{id}.jpeg.
    fs::path root = opt.from;
    if (!fs::is_directory(root / "metadata") && fs::is_directory(root / "mapillary" / "metadata")) root /= "mapillary";
    if (!fs::is_directory(root / "metadata") || !fs::is_directory(root / "imagery")) {
      fail<InputError>("{}: no metadata/ and imagery/ folders (also looked in mapillary/)", opt.from.string());
    }
    std::map<std::string, std::unordered_map<std::string, Meta>> meta;  // country -> id -> row
    std::vector<fs::path> csvs;
    for (const auto& e : fs::directory_iterator(root / "metadata")) {
      if (e.is_regular_file() && lower(e.path().extension().string()) == ".csv") csvs.push_back(e.path());
    }
    std::sort(csvs.begin(), csvs.end());
    for (const auto& c : csvs) {
      auto& m = meta[c.stem().string()];
      std::vector<Meta> rows;
      try {
        rows = read_metadata(c, tally);
      } catch (const InputError& e) {  // one country's file: counted, the others still imported
        tally.add("bad_metadata", e.what());
        continue;
      }
      for (auto& row : rows) {
        const std::string id = row.id;
        if (!m.emplace(id, std::move(row)).second)
          tally.add("duplicate_metadata", fmt::format("{}: {}", c.string(), id));
      }
    }
    std::map<std::string, std::set<std::string>> used;  // country -> ids with an image file
    std::vector<fs::path> countries;
    for (const auto& e : fs::directory_iterator(root / "imagery")) {
      if (e.is_directory()) countries.push_back(e.path());
    }
    std::sort(countries.begin(), countries.end());
    for (const auto& cdir : countries) {
      const std::string cc = cdir.filename().string();
      const auto m = meta.find(cc);
      std::vector<fs::path> clusters;
      for (const auto& e : fs::directory_iterator(cdir)) {
        if (e.is_directory()) clusters.push_back(e.path());
      }
      std::sort(clusters.begin(), clusters.end());
      for (const auto& kdir : clusters) {
        const std::string cluster = kdir.filename().string();
        const auto row = row_of.find(cluster);
        if (row == row_of.end()) {
          tally.add("unknown_cluster", kdir.string());
          continue;
        }
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(kdir)) {
          if (!e.is_regular_file()) continue;
          if (is_jpeg_name(e.path())) {
            files.push_back(e.path());
          } else {
            tally.add("not_a_jpeg_name", e.path().string());
          }
        }
        std::sort(files.begin(), files.end());
        std::set<std::string> ids_here;
        for (const auto& f : files) {
          const std::string id = f.stem().string();
          if (!ids_here.insert(id).second) {
            tally.add("duplicate_id", f.string());
            continue;
          }
          const Meta* found = nullptr;
          if (m != meta.end()) {
            const auto it = m->second.find(id);
            if (it != m->second.end()) found = &it->second;
          }
          if (!found) {
            tally.add("image_without_metadata", f.string());
            continue;
          }
          used[cc].insert(id);
          per_cluster[row->second].push_back({cluster, f, *found});
        }
      }
    }
    for (const auto& [cc, rows] : meta) {
      for (const auto& [id, row] : rows) {
        if (!used[cc].count(id)) tally.add("metadata_without_image", fmt::format("{}/{}", cc, id));
      }
    }
  } else {
    // Own images: every image goes to every cluster within the radius and years, nearest first,
    // at most max_per_cluster.
    std::vector<Meta> all_rows = read_metadata(opt.metadata, tally);
    // Each row's file, once: rows without one, and repeated ids, are counted and left out.
    std::vector<Meta> rows;
    std::set<std::string> seen_ids;
    for (auto& m : all_rows) {
      if (!seen_ids.insert(m.id).second) {
        tally.add("duplicate_metadata", m.id);
        continue;
      }
      fs::path file = m.file.empty() ? fs::path() : opt.images / m.file;
      if (file.empty()) {
        for (const char* ext : {".jpeg", ".jpg", ".JPG", ".JPEG"}) {
          if (fs::exists(opt.images / (m.id + ext))) {
            file = opt.images / (m.id + ext);
            break;
          }
        }
      }
      if (file.empty() || !fs::exists(file)) {
        tally.add("metadata_without_image", m.id);
        continue;
      }
      m.file = file;
      rows.push_back(std::move(m));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Meta& a, const Meta& b) { return a.lat < b.lat; });
    std::vector<std::size_t> matched(rows.size(), 0);
    for (std::size_t c = 0; c < ids.size(); ++c) {
      if (!std::isfinite(lat[c]) || !std::isfinite(lon[c]) || !std::isfinite(year[c])) continue;
      const auto lo = std::lower_bound(rows.begin(), rows.end(), lat[c] - opt.radius_deg,
                                       [](const Meta& m, double v) { return m.lat < v; });
      std::vector<std::pair<double, std::size_t>> near;
      for (auto it = lo; it != rows.end() && it->lat <= lat[c] + opt.radius_deg; ++it) {
        if (std::abs(it->lon - lon[c]) > opt.radius_deg) continue;
        if (std::abs(it->year - year[c]) > opt.years) continue;
        near.emplace_back(distance_m(lat[c], lon[c], it->lat, it->lon), static_cast<std::size_t>(it - rows.begin()));
      }
      std::sort(near.begin(), near.end());
      for (std::size_t k = 0; k < near.size(); ++k) {
        const Meta& m = rows[near[k].second];
        ++matched[near[k].second];
        if (k >= static_cast<std::size_t>(opt.max_per_cluster)) {
          tally.add("over_limit", fmt::format("{} ({})", m.id, ids[c]));
          continue;
        }
        per_cluster[c].push_back({ids[c], m.file, m});
      }
    }
    for (std::size_t k = 0; k < rows.size(); ++k) {
      if (!matched[k]) tally.add("outside_window", rows[k].id);
    }
    std::set<std::string> listed;
    for (const auto& r : rows) listed.insert(r.file.lexically_normal().string());
    for (const auto& e : fs::recursive_directory_iterator(opt.images)) {
      if (e.is_regular_file() && is_jpeg_name(e.path()) && !listed.count(e.path().lexically_normal().string()))
        tally.add("image_without_metadata", e.path().string());
    }
  }

  // Decode and resize in batches (in parallel), append in cluster order.
  std::vector<const Job*> jobs;
  for (std::size_t c = 0; c < ids.size(); ++c) {
    for (const auto& j : per_cluster[c]) jobs.push_back(&j);
  }
  std::vector<std::size_t> imported(ids.size(), 0);
  store::StreetWriter writer(opt.store, opt.out, opt.size);
  const std::size_t per = 3 * static_cast<std::size_t>(opt.size) * static_cast<std::size_t>(opt.size);
  constexpr std::size_t kBatch = 64;
  const int threads = opt.threads > 0 ? opt.threads : tbb::this_task_arena::max_concurrency();
  tbb::task_arena arena(threads);
  std::vector<std::uint8_t> pixels(kBatch * per);
  std::vector<std::string> errors(kBatch);
  std::vector<std::uint8_t> ok(kBatch);  // not vector<bool>: the tasks write their own elements
  for (std::size_t b0 = 0; b0 < jobs.size(); b0 += kBatch) {
    const std::size_t n = std::min(kBatch, jobs.size() - b0);
    arena.execute([&] {
      tbb::parallel_for(std::size_t{0}, n, [&](std::size_t k) {
        try {
          const auto img = raster::read_photo_square(jobs[b0 + k]->file, opt.size);
          std::copy(img.begin(), img.end(), pixels.begin() + static_cast<long>(k * per));
          ok[k] = 1;
        } catch (const std::exception& e) {
          errors[k] = e.what();
          ok[k] = 0;
        }
      });
    });
    std::vector<store::StreetImage> meta;
    std::vector<std::uint8_t> good;
    good.reserve(n * per);
    for (std::size_t k = 0; k < n; ++k) {
      const Job& j = *jobs[b0 + k];
      if (!ok[k]) {
        spdlog::warn("{}", errors[k]);
        tally.add("broken_image", j.file.string());
        continue;
      }
      const std::size_t row = row_of.at(j.cluster);
      // A cluster without a position or year (NaN in the store) gives NaN distance and gap 0.
      const double dist = std::isfinite(lat[row]) && std::isfinite(lon[row])
                              ? distance_m(lat[row], lon[row], j.meta.lat, j.meta.lon)
                              : std::nan("");
      const int gap = std::isfinite(year[row]) ? j.meta.year - static_cast<int>(year[row]) : 0;
      meta.push_back({j.cluster, j.meta.id, static_cast<float>(dist), static_cast<std::int16_t>(gap)});
      ++imported[row];
      good.insert(good.end(), pixels.begin() + static_cast<long>(k * per),
                  pixels.begin() + static_cast<long>((k + 1) * per));
      tally.add("imported", j.meta.id);
    }
    writer.append(meta, good);
    if (opt.progress) opt.progress(b0 + n, jobs.size(), "street images");
  }
  for (std::size_t c = 0; c < ids.size(); ++c) {
    if (imported[c] == 0) tally.add("cluster_without_images", ids[c]);
  }
  if (writer.written() == 0) {
    const auto r = tally.report(0, 0);
    std::string counts;
    for (const auto& [k, v] : r.counts) counts += fmt::format(" {} {}", k, v);
    fail<InputError>("no street image could be imported:{}", counts);
  }
  store::ImportReport report = tally.report(writer.written(), 0);
  nlohmann::ordered_json settings;
  settings["size"] = opt.size;
  settings["resize"] = "centred square of the short side, averaged down (bilinear up) to size x size";
  settings["source"] = opt.from.empty() ? fmt::format("images={} metadata={}", fs::absolute(opt.images).string(),
                                                      fs::absolute(opt.metadata).string())
                                        : fmt::format("release={}", fs::absolute(opt.from).string());
  if (opt.from.empty()) {
    settings["association"] = fmt::format(
        "within {} degree of latitude and longitude and {} years of the survey, at most {} per cluster, nearest first",
        opt.radius_deg, opt.years, opt.max_per_cluster);
  }
  writer.finish(report.to_json(), settings.dump());
  return report;
}

}  // namespace sbench::prepare
