// Street-level images of a DHS store: the group /street (docs/store.md) holds, per image, the
// cluster (an example id of the store), the image id, its distance to the cluster point, the gap
// between its year and the survey's, and its pixels (3 x S x S uint8); per example of the store, the
// range [first, first + count) of its images. Written into a copy of the store, so the input store
// is never modified and a failed run leaves nothing that looks complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sbench::store {

struct StreetImage {
  std::string cluster;
  std::string image_id;
  float distance_m = 0;
  std::int16_t year_gap = 0;
};

class StreetWriter {
 public:
  // Copies `store` to OUT.partial and opens the copy; a store that already has /street is an
  // InputError naming it.
  StreetWriter(const std::filesystem::path& store, const std::filesystem::path& out, int size);
  ~StreetWriter();  // removes OUT.partial unless finished
  StreetWriter(const StreetWriter&) = delete;
  StreetWriter& operator=(const StreetWriter&) = delete;

  // Appends images (pixels: 3 x size x size each, in order). The images of a cluster must be
  // consecutive; a cluster that is not an example of the store is an Error.
  void append(const std::vector<StreetImage>& images, const std::vector<std::uint8_t>& pixels);
  std::size_t written() const;
  // Writes the per-image fields, /street/first and /street/count (one per example), the
  // attributes street_report and street_settings, and renames OUT.partial to OUT.
  void finish(const std::string& report_json, const std::string& settings_json);

 private:
  struct Impl;
  static void open_copy(Impl& m);
  std::unique_ptr<Impl> impl_;
};

// /street of a store without its pixels. A store without /street is an InputError naming it.
struct StreetIndex {
  int size = 0;
  std::vector<std::string> cluster, image_id;
  std::vector<float> distance_m;
  std::vector<std::int16_t> year_gap;
  std::vector<std::int64_t> first;  // per example of the store
  std::vector<std::int32_t> count;
  std::string report, settings;  // JSON: the import's counts, its settings
};
StreetIndex read_street_index(const std::filesystem::path& store);
// Images [first, first + count) into dst (count x 3 x size x size).
void read_street_images(const std::filesystem::path& store, std::int64_t first, std::int64_t count, std::uint8_t* dst);
// The same reads with /street/image kept open, for loaders that read many small runs (a training
// batch reads up to K images of each of its clusters). Reads are serialized on HDF5's lock.
class StreetImageReader {
 public:
  explicit StreetImageReader(const std::filesystem::path& store);
  ~StreetImageReader();
  StreetImageReader(const StreetImageReader&) = delete;
  StreetImageReader& operator=(const StreetImageReader&) = delete;
  std::int64_t images() const;
  int size() const;  // S of the 3 x S x S images
  void read(std::int64_t first, std::int64_t count, std::uint8_t* dst) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
// Whether a store has street-level images.
bool has_street(const std::filesystem::path& store);

}  // namespace sbench::store
