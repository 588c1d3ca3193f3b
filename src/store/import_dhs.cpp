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
#include "sbench/store/dhs.hpp"

namespace sbench::store::detail {

namespace fs = std::filesystem;

namespace {

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

}  // namespace

ImportReport import_dhs(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  const fs::path labels_path = find_labels(opt.from);
  const fs::path images = find_images(opt.from);
  const DhsLabels labels = read_dhs_labels(labels_path.string(), task, registry);
  const Schema schema = dhs_schema(task, registry, labels);
  Tally tally;
  std::vector<const DhsCluster*> clusters;
  for (const auto& c : labels.rows) {
    if (c.drop.empty()) {
      clusters.push_back(&c);
    } else {
      tally.add(c.drop, c.id);
    }
  }

  StoreWriter writer(opt.out, schema, writer_options(opt));
  writer.add_source_file(describe_file(labels_path));

  const std::size_t x_index = schema.index("x");
  const std::vector<std::int64_t> x_shape = schema.fields[x_index].shape;
  run_import(
      writer, clusters.size(), opt.threads, [&](std::size_t i) { return clusters[i]->id; },
      [&](std::size_t i, Example& ex) -> Loaded {
        const DhsCluster& c = *clusters[i];
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
        fill_dhs_example(ex, c, labels, task);
        return {"", "", {describe_file(file)}};
      },
      tally, opt.progress);

  return finish_import(writer, tally, task, opt);
}

}  // namespace sbench::store::detail
