// What the task builders share: the catalog of the inputs, writer options, the report.
#pragma once

#include <string>

#include "sbench/prepare/prepare.hpp"
#include "sbench/raster/catalog.hpp"
#include "sbench/store/pipeline.hpp"
#include "sbench/store/store.hpp"

namespace sbench::prepare {

// The scenes of --imagery (scanned) or --catalog (read); unrecognised files are logged.
raster::Catalog load_catalog(const PrepareOptions& options);

// Layout, resume and provenance. The source names the builder, the labels and the imagery (not
// the shard), so that merged shards carry the single run's source; the shard goes into the
// resume check only.
store::WriterOptions writer_options(const PrepareOptions& options, const std::string& builder);

// The counts of every status, by name (so that the merge of shards equals a single run), with
// the first few ids of each.
std::string report_json(const store::ImportReport& report);

// Ends a build: nothing written is an error that leaves nothing behind; otherwise the report
// (prepare_report), the settings (prepare_settings), what the imagery held (prepare_imagery: scenes
// by kind, files and scenes not used), the card's normalization and the shard (K/N, for shards
// only) go into the store, which is finished.
store::ImportReport finish_prepare(store::StoreWriter& writer, const store::Tally& tally, const TaskCard& task,
                                   const PrepareOptions& options, const std::string& settings_json,
                                   const std::string& imagery_json);

store::ImportReport prepare_dhs(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& options);
store::ImportReport prepare_lsms(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& options);
store::ImportReport prepare_brick_kiln(const TaskCard& task, const TaskRegistry& registry,
                                       const PrepareOptions& options);
store::ImportReport prepare_field_delineation(const TaskCard& task, const TaskRegistry& registry,
                                              const PrepareOptions& options);
store::ImportReport prepare_cropland(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& options);

}  // namespace sbench::prepare
