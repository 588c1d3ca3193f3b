// The crop-yield release: soybeans/{country}/{split}_{hists,yields,years,keys,ndvi}.npz, each a
// np.savez_compressed(path, data=...) with hists (N, 32, 32, 9) float64, yields (N,) or (N, 1),
// years as strings, keys "region_year", ndvi (N, 32) (SUSTAINBENCH.md 2.F; WANG:code/make_datasets.py).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <unordered_map>

#include "import_common.hpp"
#include "importers.hpp"
#include "sbench/core/npy.hpp"

namespace sbench::store::detail {

namespace fs = std::filesystem;

namespace {

struct Part {
  std::string country;
  std::string split;  // release name: train, dev, test
  fs::path folder;
  NpyArray hists, yields, years, keys, ndvi;
  bool has_ndvi = false;
  std::vector<std::string> key_text;
  std::vector<std::int64_t> year;
  std::vector<double> yield, ndvi_values;
};

NpyArray read_data(const fs::path& file) {
  NpzReader npz(file);
  if (!npz.contains("data")) {
    fail<InputError>("{}: no array 'data' (arrays: {}); the release stores each array under 'data'", file.string(),
                     fmt::join(npz.keys(), ", "));
  }
  return npz.read("data");
}

fs::path find_root(const fs::path& from) {
  for (const auto& candidate : {from / "soybeans", from}) {
    for (const char* country : {"usa", "argentina", "brazil"}) {
      if (fs::is_directory(candidate / country)) return candidate;
    }
  }
  fail<InputError>("{}: no soybeans/{{usa,argentina,brazil}} folder (expected {{split}}_hists.npz etc. inside)",
                   from.string());
}

}  // namespace

ImportReport import_crop_yield(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  const Schema schema = schema_from_card(task, registry);
  const fs::path root = find_root(opt.from);
  const auto& hist_shape = schema.field("hist").shape;  // (32, 32, 9)
  std::vector<std::int64_t> want = {0};
  want.insert(want.end(), hist_shape.begin(), hist_shape.end());

  std::vector<Part> parts;
  std::vector<fs::path> files;
  for (const auto& country : task.variants) {
    for (const char* split : {"train", "dev", "test"}) {
      const fs::path folder = root / country;
      if (!fs::exists(folder / fmt::format("{}_hists.npz", split))) continue;
      Part p;
      p.country = country;
      p.split = split;
      p.folder = folder;
      auto file = [&](const char* what) { return folder / fmt::format("{}_{}.npz", split, what); };
      for (const char* what : {"hists", "yields", "years", "keys"}) {
        if (!fs::exists(file(what)))
          fail<InputError>("{}: missing (it belongs with {})", file(what).string(), file("hists").string());
        files.push_back(file(what));
      }
      p.hists = read_data(file("hists"));
      p.yields = read_data(file("yields"));
      p.years = read_data(file("years"));
      p.keys = read_data(file("keys"));
      p.has_ndvi = fs::exists(file("ndvi"));
      if (p.has_ndvi) {
        p.ndvi = read_data(file("ndvi"));
        files.push_back(file("ndvi"));
      }
      const auto n = p.hists.shape().empty() ? 0 : p.hists.shape()[0];
      want[0] = n;
      if (p.hists.shape() != want || p.hists.kind() != NpyKind::floating) {
        fail<InputError>("{}: hists are {} of shape ({}), expected floats of shape ({})", file("hists").string(),
                         p.hists.descr(), fmt::join(p.hists.shape(), ", "), fmt::join(want, ", "));
      }
      auto check_n = [&](const NpyArray& a, const char* what, std::size_t per) {
        if (a.size() != static_cast<std::size_t>(n) * per || a.shape().empty() || a.shape()[0] != n) {
          fail<InputError>("{}: shape ({}), expected {} rows like the hists", file(what).string(),
                           fmt::join(a.shape(), ", "), n);
        }
      };
      check_n(p.yields, "yields", 1);  // (N,) or (N, 1)
      check_n(p.years, "years", 1);
      check_n(p.keys, "keys", 1);
      if (p.has_ndvi) check_n(p.ndvi, "ndvi", 32);
      if (p.keys.kind() != NpyKind::unicode)
        fail<InputError>("{}: keys are {}, expected strings", file("keys").string(), p.keys.descr());
      p.key_text = p.keys.strings();
      p.yield = p.yields.to_vector<double>();
      if (p.has_ndvi) p.ndvi_values = p.ndvi.to_vector<double>();
      // Years are stored as strings ('<U4') upstream; integers are accepted too.
      if (p.years.kind() == NpyKind::unicode) {
        const auto text = p.years.strings();
        for (std::size_t i = 0; i < text.size(); ++i) {
          std::int64_t y = 0;
          const auto [ptr, ec] = std::from_chars(text[i].data(), text[i].data() + text[i].size(), y);
          if (ec != std::errc() || ptr != text[i].data() + text[i].size()) {
            fail<InputError>("{}: row {} (key {}): year '{}' is not a number", file("years").string(), i, p.key_text[i],
                             text[i]);
          }
          p.year.push_back(y);
        }
      } else {
        p.year = p.years.to_vector<std::int64_t>();
      }
      parts.push_back(std::move(p));
    }
  }
  if (parts.empty()) fail<InputError>("{}: no {{train,dev,test}}_hists.npz in any country folder", root.string());

  // One item per row, in country, split, row order.
  struct Row {
    std::size_t part, row;
  };
  std::vector<Row> rows;
  std::unordered_map<std::string, std::string> seen;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    for (std::size_t i = 0; i < parts[p].key_text.size(); ++i) {
      const std::string& key = parts[p].key_text[i];
      const std::string where = fmt::format("{}/{}_keys.npz row {}", parts[p].folder.string(), parts[p].split, i);
      if (auto [it, fresh] = seen.emplace(key, where); !fresh) {
        fail<InputError>("{}: duplicate key '{}' (also {})", where, key, it->second);
      }
      rows.push_back({p, i});
    }
  }

  StoreWriter writer(opt.out, schema, writer_options(opt));
  for (const auto& f : files) writer.add_source_file(describe_file(f));

  Tally tally;
  const std::size_t hist_values = schema.field("hist").values_per_example();
  run_import(
      writer, rows.size(), opt.threads, [&](std::size_t k) { return parts[rows[k].part].key_text[rows[k].row]; },
      [&](std::size_t k, Example& ex) -> Loaded {
        const Part& p = parts[rows[k].part];
        const std::size_t i = rows[k].row;
        ex.id = p.key_text[i];
        ex.split = split_code(p.split == "dev" ? "val" : p.split);
        float* hist = ex.as<float>("hist");
        const std::size_t off = i * hist_values;
        if (p.hists.itemsize() == 8) {
          const double* src = p.hists.data<double>() + off;
          for (std::size_t v = 0; v < hist_values; ++v) hist[v] = static_cast<float>(src[v]);
        } else {
          std::memcpy(hist, p.hists.data<float>() + off, hist_values * sizeof(float));
        }
        float* ndvi = ex.as<float>("ndvi");
        for (std::size_t t = 0; t < 32; ++t) {
          ndvi[t] = p.has_ndvi ? static_cast<float>(p.ndvi_values[i * 32 + t]) : NAN;
        }
        const double y = p.yield[i];
        if (!std::isfinite(y)) return {"missing_yield", ex.id, {}};
        ex.set("yield", y);
        ex.set("country", p.country);
        ex.set("year", static_cast<double>(p.year[i]));
        // The key is "<region>_<year>": the region is what precedes the last underscore.
        const auto cut = ex.id.rfind('_');
        ex.set("region", cut == std::string::npos ? ex.id : ex.id.substr(0, cut));
        return {};
      },
      tally, opt.progress);
  for (const auto& p : parts) {
    if (!p.has_ndvi) tally.add("no_ndvi_file", fmt::format("{}/{}", p.country, p.split));
  }
  return finish_import(writer, tally, task, opt);
}

}  // namespace sbench::store::detail
