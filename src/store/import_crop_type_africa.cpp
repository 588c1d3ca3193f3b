// The Ghana / South Sudan crop-type release (SUSTAINBENCH.md 2.D), per country folder:
// list_eval_partition.csv (id, partition), npy/{country}_{id:06d}.npz with s1, s2, planet arrays
// (C, H, W, T), truth/{country}_{id:06d}.npz (truth, 64 x 64), and the dates of every step in
// {s1,s2,planet}/{sensor}_{country}_{id}.json ({"dates": ["YYYY-MM-DD", ...]}).
// Stored as (C, T, H, W) padded with zeros to 256 steps; dates as YYYYMMDD with 0 for padding;
// PlanetScope resized to 64 x 64 bilinearly (the loader's Resize(64)).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "import_common.hpp"
#include "importers.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/core/npy.hpp"

namespace sbench::store::detail {

namespace fs = std::filesystem;

namespace {

struct Tile {
  std::string country;
  std::int64_t id = 0;
  int partition = 0;
  fs::path folder;
};

fs::path find_root(const fs::path& from) {
  for (const auto& c : {from / "africa_crop_type_mapping", from}) {
    if (fs::is_directory(c / "ghana") || fs::is_directory(c / "southsudan")) return c;
  }
  fail<InputError>("{}: no ghana/ or southsudan/ folder (also looked in africa_crop_type_mapping/)", from.string());
}

std::vector<std::int32_t> read_dates(const fs::path& folder, const std::string& sensor, const std::string& country,
                                     std::int64_t id) {
  // The JSON names are not settled upstream: try the plain id, then the zero-padded one.
  fs::path file = folder / sensor / fmt::format("{}_{}_{}.json", sensor, country, id);
  if (!fs::exists(file)) file = folder / sensor / fmt::format("{}_{}_{:06d}.json", sensor, country, id);
  if (!fs::exists(file)) fail<InputError>("{}: missing (dates of the {} series)", file.string(), sensor);
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    fail<InputError>("{}: not valid JSON: {}", file.string(), e.what());
  }
  if (!j.contains("dates") || !j["dates"].is_array()) fail<InputError>("{}: no 'dates' list", file.string());
  std::vector<std::int32_t> out;
  for (const auto& d : j["dates"]) {
    const std::string s = d.is_string() ? d.get<std::string>() : "";
    int y = 0, m = 0, day = 0;
    if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d", &y, &m, &day) != 3) {
      fail<InputError>("{}: date '{}' is not YYYY-MM-DD", file.string(), d.dump());
    }
    out.push_back(y * 10000 + m * 100 + day);
  }
  return out;
}

// Bilinear resize of one H x W plane to 64 x 64 with half-pixel centres (PyTorch's
// interpolate(mode="bilinear", align_corners=False), the Resize(64) of the upstream loader).
void resize_plane(const double* src, std::size_t h, std::size_t w, double* dst, std::size_t oh, std::size_t ow) {
  const double sy = static_cast<double>(h) / static_cast<double>(oh);
  const double sx = static_cast<double>(w) / static_cast<double>(ow);
  for (std::size_t oy = 0; oy < oh; ++oy) {
    const double fy = std::max(0.0, (static_cast<double>(oy) + 0.5) * sy - 0.5);
    const auto y0 = std::min(static_cast<std::size_t>(fy), h - 1);
    const std::size_t y1 = std::min(y0 + 1, h - 1);
    const double wy = fy - static_cast<double>(y0);
    for (std::size_t ox = 0; ox < ow; ++ox) {
      const double fx = std::max(0.0, (static_cast<double>(ox) + 0.5) * sx - 0.5);
      const auto x0 = std::min(static_cast<std::size_t>(fx), w - 1);
      const std::size_t x1 = std::min(x0 + 1, w - 1);
      const double wx = fx - static_cast<double>(x0);
      dst[oy * ow + ox] = (1 - wy) * ((1 - wx) * src[y0 * w + x0] + wx * src[y0 * w + x1]) +
                          wy * ((1 - wx) * src[y1 * w + x0] + wx * src[y1 * w + x1]);
    }
  }
}

// (C, H, W, T) release array into the store's (C, Tmax, 64, 64), zero padded in time.
// Returns the number of steps kept.
template <typename Out>
std::size_t place_series(const NpyArray& a, Out* out, std::size_t channels, std::size_t t_max, bool resize,
                         const std::string& where) {
  if (a.ndim() != 4 || static_cast<std::size_t>(a.shape()[0]) != channels) {
    fail<InputError>("{}: shape ({}), expected ({}, H, W, T)", where, fmt::join(a.shape(), ", "), channels);
  }
  const auto h = static_cast<std::size_t>(a.shape()[1]), w = static_cast<std::size_t>(a.shape()[2]);
  const auto t = static_cast<std::size_t>(a.shape()[3]);
  if ((h != 64 || w != 64) && !resize) fail<InputError>("{}: tiles are {} x {}, expected 64 x 64", where, h, w);
  const std::size_t kept = std::min(t, t_max);
  const auto values = a.to_vector<double>();
  std::vector<double> plane(h * w), small(64 * 64);
  std::fill(out, out + channels * t_max * 64 * 64, Out{});
  for (std::size_t c = 0; c < channels; ++c) {
    for (std::size_t s = 0; s < kept; ++s) {
      for (std::size_t p = 0; p < h * w; ++p) plane[p] = values[(c * h * w + p) * t + s];
      const double* src = plane.data();
      if (h != 64 || w != 64) {
        resize_plane(plane.data(), h, w, small.data(), 64, 64);
        src = small.data();
      }
      Out* dst = out + (c * t_max + s) * 64 * 64;
      for (std::size_t p = 0; p < 64 * 64; ++p) {
        if constexpr (std::is_integral_v<Out>) {
          dst[p] = static_cast<Out>(std::lround(src[p]));
        } else {
          dst[p] = static_cast<Out>(src[p]);
        }
      }
    }
  }
  return t;
}

}  // namespace

ImportReport import_crop_type_africa(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  const Schema schema = schema_from_card(task, registry);
  const fs::path root = find_root(opt.from);
  const std::size_t t_max = static_cast<std::size_t>(schema.field("s1").shape[1]);
  std::vector<Tile> tiles;
  std::vector<fs::path> csvs;
  for (const auto& country : task.variants) {
    const fs::path folder = root / country;
    if (!fs::is_directory(folder)) continue;
    const fs::path csv_path = folder / "list_eval_partition.csv";
    CsvReader csv(csv_path.string());
    const std::size_t c_id = csv.column("id"), c_part = csv.column("partition");
    CsvRow row;
    while (csv.next(row)) {
      const auto part = csv.get_int(row, c_part);
      if (part < 0 || part > 2)
        fail<InputError>("{}: line {}: partition {} is not 0, 1 or 2", csv.name(), row.line(), part);
      tiles.push_back({country, csv.get_int(row, c_id), static_cast<int>(part), folder});
    }
    csvs.push_back(csv_path);
  }
  const std::int64_t num_classes = task.find_target("truth")->num_classes;

  StoreWriter writer(opt.out, schema, writer_options(opt));
  for (const auto& c : csvs) writer.add_source_file(describe_file(c));
  auto id_of = [&](std::size_t i) { return fmt::format("{}_{:06d}", tiles[i].country, tiles[i].id); };
  Tally tally;
  run_import(
      writer, tiles.size(), opt.threads, id_of,
      [&](std::size_t i, Example& ex) -> Loaded {
        const Tile& tile = tiles[i];
        ex.id = id_of(i);
        const fs::path npz_path = tile.folder / "npy" / (ex.id + ".npz");
        const fs::path truth_path = tile.folder / "truth" / (ex.id + ".npz");
        if (!fs::exists(npz_path)) return {"missing_series", npz_path.string(), {}};
        if (!fs::exists(truth_path)) return {"missing_truth", truth_path.string(), {}};
        NpzReader npz(npz_path);
        for (const char* key : {"s1", "s2", "planet"}) {
          if (!npz.contains(key))
            fail<InputError>("{}: no array '{}' (arrays: {})", npz_path.string(), key, fmt::join(npz.keys(), ", "));
        }
        Loaded loaded;
        bool cropped = false, mismatch = false;
        const struct {
          const char* sensor;
          std::size_t channels;
          bool resize;
        } sensors[] = {{"s1", 3, false}, {"s2", 10, false}, {"planet", 4, true}};
        for (const auto& s : sensors) {
          const NpyArray a = npz.read(s.sensor);
          const std::string where = fmt::format("{}: member '{}.npy'", npz_path.string(), s.sensor);
          std::size_t steps = 0;
          if (std::string(s.sensor) == "s1") {
            steps = place_series(a, ex.as<float>(s.sensor), s.channels, t_max, s.resize, where);
          } else {
            steps = place_series(a, ex.as<std::int32_t>(s.sensor), s.channels, t_max, s.resize, where);
          }
          cropped |= steps > t_max;
          const auto dates = read_dates(tile.folder, s.sensor, tile.country, tile.id);
          mismatch |= dates.size() != steps;
          auto* d = ex.as<std::int32_t>(std::string(s.sensor) + "_dates");
          for (std::size_t k = 0; k < t_max; ++k) d[k] = k < dates.size() && k < steps ? dates[k] : 0;
        }
        NpzReader truth_npz(truth_path);
        const NpyArray truth = truth_npz.read("truth");
        if (truth.shape() != std::vector<std::int64_t>{64, 64}) {
          fail<InputError>("{}: truth has shape ({}), expected (64, 64)", truth_path.string(),
                           fmt::join(truth.shape(), ", "));
        }
        const auto labels = truth.to_vector<std::int64_t>();
        auto* t = ex.as<std::uint8_t>("truth");
        std::size_t other = 0;
        for (std::size_t p = 0; p < labels.size(); ++p) {
          if (labels[p] >= num_classes && opt.other_classes_unlabelled) {
            t[p] = 0;
            ++other;
            continue;
          }
          if (labels[p] < 0 || labels[p] >= num_classes) {
            fail<InputError>(
                "{}: pixel {} has class {}, expected 0 (unlabelled) to {}{}", truth_path.string(), p, labels[p],
                num_classes - 1,
                labels[p] > 0 ? " (--other-classes-unlabelled imports codes past the card's classes as 0)" : "");
          }
          t[p] = static_cast<std::uint8_t>(labels[p]);
        }
        if (other > 0) loaded.notes.push_back("tile_with_other_classes");
        ex.split = static_cast<std::uint8_t>(tile.partition);
        ex.set("country", tile.country);
        ex.set("tile", static_cast<double>(tile.id));
        if (cropped) spdlog::warn("tile {}: series longer than {} steps cropped", ex.id, t_max);
        if (mismatch) spdlog::warn("tile {}: number of dates differs from the number of steps", ex.id);
        loaded.files = {describe_file(npz_path), describe_file(truth_path)};
        return loaded;
      },
      tally, opt.progress);
  return finish_import(writer, tally, task, opt);
}

}  // namespace sbench::store::detail
