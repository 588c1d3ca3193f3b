// Importers of the official SustainBench release formats into task stores (`sbench import`).
// One importer per task family; the formats, quirks included, are in docs/formats.md.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sbench/core/npy.hpp"
#include "sbench/core/progress.hpp"
#include "sbench/core/tasks.hpp"
#include "sbench/store/schema.hpp"

namespace sbench::store {

struct ImportOptions {
  std::filesystem::path from;  // the release folder
  std::filesystem::path out;   // STORE.h5
  Layout layout = Layout::archive;
  bool resume = false;
  int threads = 0;  // decoding threads; 0 = every available core
  std::string command_line;
  ProgressFn progress;
  // Decodes an image file (JPEG, PNG) into a uint8 (bands, height, width) array. The store has no
  // image codecs of its own: the CLI passes the raster component's GDAL reader. Needed by the
  // field_delineation importer only.
  std::function<NpyArray(const std::filesystem::path&)> read_image;
  // crop_type_africa: truth codes past the card's classes (the release legend's yam, intercrop,
  // sorghum, ... in Ghana) are imported as 0 (unlabelled), the tiles that had any counted as
  // tile_with_other_classes; without it they are an error naming the file.
  bool other_classes_unlabelled = false;
};

// What an import did: examples written and every other outcome counted, with the first few ids
// (or files) of each, in the order the statuses were first seen.
struct ImportReport {
  std::size_t written = 0;
  std::size_t resumed = 0;
  std::vector<std::pair<std::string, std::size_t>> counts;
  std::map<std::string, std::vector<std::string>> samples;
  std::string to_json() const;
};

// Families with an importer, and whether a task's family has one.
std::vector<std::string> importable_families();

// Imports the release in options.from for the task's family. Writes options.out only when the
// import completes; an interrupted import resumes with options.resume.
ImportReport import_release(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& options);

}  // namespace sbench::store
