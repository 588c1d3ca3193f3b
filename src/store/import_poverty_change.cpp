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
#include "sbench/store/lsms.hpp"

namespace sbench::store::detail {

namespace fs = std::filesystem;

namespace {

fs::path find_file(const fs::path& from, const char* name) {
  for (const auto& c : {from / name, from / "final_labels" / name, from / "lsms_utils" / "final_labels" / name}) {
    if (fs::exists(c)) return c;
  }
  return {};
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

  const std::vector<LsmsPair> pairs = read_lsms_pairs(pairs_path, coords_path);

  StoreWriter writer(opt.out, schema, writer_options(opt));
  writer.add_source_file(describe_file(pairs_path));
  if (!coords_path.empty()) writer.add_source_file(describe_file(coords_path));
  Tally tally;
  const std::size_t before = schema.index("x_before"), after = schema.index("x_after");
  const auto& shape = schema.fields[before].shape;
  run_import(
      writer, pairs.size(), opt.threads, [&](std::size_t i) { return pairs[i].id(); },
      [&](std::size_t i, Example& ex) -> Loaded {
        const LsmsPair& p = pairs[i];
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
        fill_lsms_example(ex, p, task);
        return out;
      },
      tally, opt.progress);
  return finish_import(writer, tally, task, opt);
}

}  // namespace sbench::store::detail
