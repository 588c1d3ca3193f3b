// What the task builders share: the catalog of the inputs, writer options, the report.
#pragma once

#include <array>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "sbench/prepare/prepare.hpp"
#include "sbench/raster/catalog.hpp"
#include "sbench/store/pipeline.hpp"
#include "sbench/store/store.hpp"

namespace sbench::prepare {

// The scenes of --imagery (scanned) or --catalog (read); unrecognised files are logged.
raster::Catalog load_catalog(const PrepareOptions& options);

// Scenes that could not be read, reported once per file (a warning and the status
// unreadable_scene with the file), whatever the tiles that met them. Thread-safe.
class UnreadableScenes {
 public:
  explicit UnreadableScenes(store::Tally& tally) : tally_(tally) {}
  void report(const std::vector<std::string>& errors);  // tile_from_scenes' messages: "FILE: reason"

 private:
  store::Tally& tally_;
  std::mutex mutex_;
  std::set<std::string> reported_;
};

// The scenes of the catalog whose sensor passes `keep` and whose date is in [start, end], with
// the counts of the others; none is an InputError saying `what` was looked for and where.
struct SceneSet {
  std::vector<raster::Scene> scenes;
  std::vector<const raster::Scene*> pointers() const;
  std::size_t other_sensors = 0, outside_window = 0, unrecognised_files = 0;
};
SceneSet select_scenes(const PrepareOptions& options, const std::function<bool(const std::string&)>& keep,
                       const std::string& start, const std::string& end, const std::string& what);

// The longitude/latitude box (west, south, east, north) of the square of `side` metres whose
// upper-left corner is (x0, y1) in `crs`: the box of its projected corners. Thread-safe (each call
// has its own spatial references); a corner that does not transform is an Error.
std::array<double, 4> lonlat_box(const std::string& crs, double x0, double y1, double side);

// Layout, resume and provenance. The source names the builder, the labels and the imagery (not
// the shard), so that merged shards carry the single run's source; the shard goes into the
// resume check only.
store::WriterOptions writer_options(const PrepareOptions& options, const std::string& builder);

// The counts of every status, by name (so that the merge of shards equals a single run), with
// the first few ids of each.
std::string report_json(const store::ImportReport& report);

// Ends a build: nothing written is an error that leaves nothing behind (an empty shard is kept); otherwise the report
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
store::ImportReport prepare_crop_yield(const TaskCard& task, const TaskRegistry& registry,
                                       const PrepareOptions& options);
store::ImportReport prepare_land_cover_ood(const TaskCard& task, const TaskRegistry& registry,
                                           const PrepareOptions& options);
store::ImportReport prepare_land_cover_rep(const TaskCard& task, const TaskRegistry& registry,
                                           const PrepareOptions& options);
store::ImportReport prepare_crop_type_kenya(const TaskCard& task, const TaskRegistry& registry,
                                            const PrepareOptions& options);
store::ImportReport prepare_crop_type_africa(const TaskCard& task, const TaskRegistry& registry,
                                             const PrepareOptions& options);
store::ImportReport prepare_cropland(const TaskCard& task, const TaskRegistry& registry, const PrepareOptions& options);

}  // namespace sbench::prepare
