#include "sbench/store/import.hpp"

#include <fmt/format.h>

#include "importers.hpp"
#include "sbench/core/error.hpp"
#include "sbench/store/hdf5_env.hpp"

namespace sbench::store {

namespace {
using ImportFn = ImportReport (*)(const TaskCard&, const TaskRegistry&, const ImportOptions&);
const std::vector<std::pair<std::string, ImportFn>>& importers() {
  static const std::vector<std::pair<std::string, ImportFn>> table = {
      {"dhs", detail::import_dhs},
      {"lsms_pair", detail::import_poverty_change},
      {"crop_yield", detail::import_crop_yield},
      {"brick_kiln", detail::import_brick_kiln},
      {"crop_type_tiles", detail::import_crop_type_africa},
      {"crop_type_fields", detail::import_crop_type_kenya},
      {"cropland", detail::import_cropland},
      {"field_delineation", detail::import_field_delineation},
      {"land_cover_rep", detail::import_land_cover_rep},
      {"land_cover_ood", detail::import_land_cover_ood},
  };
  return table;
}
}  // namespace

std::vector<std::string> importable_families() {
  std::vector<std::string> out;
  for (const auto& [family, fn] : importers()) out.push_back(family);
  return out;
}

ImportReport import_release(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options) {
  init_hdf5();
  if (!std::filesystem::is_directory(options.from)) fail<IoError>("{}: not a folder", options.from.string());
  for (const auto& [family, fn] : importers()) {
    if (family == task.family) return fn(task, registry, options);
  }
  std::vector<std::string> ids;
  for (const auto& t : registry.tasks()) {
    for (const auto& [family, fn] : importers()) {
      if (t.family == family) ids.push_back(t.id);
    }
  }
  fail<UsageError>("no importer for task '{}' (family {}) yet; tasks with one: {}", task.id, task.family,
                   fmt::join(ids, ", "));
}

}  // namespace sbench::store
