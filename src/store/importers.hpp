// One function per task family with a release importer (dispatched by import_release).
#pragma once

#include "sbench/store/import.hpp"

namespace sbench::store::detail {

ImportReport import_poverty_change(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);
ImportReport import_cropland(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);
ImportReport import_land_cover_rep(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);
ImportReport import_land_cover_ood(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);
ImportReport import_field_delineation(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);
ImportReport import_dhs(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);
ImportReport import_brick_kiln(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);
ImportReport import_crop_type_africa(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);
ImportReport import_crop_type_kenya(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);
ImportReport import_crop_yield(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);

}  // namespace sbench::store::detail
