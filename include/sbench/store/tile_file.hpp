// The HDF5 file of `sbench tile --points`: one tile per point with its status (docs/raster.md).
//   /tiles           float32 (N, C, H, W), NaN where there is no imagery, chunked one tile per chunk
//   /id, /status     variable-length UTF-8 strings
//   /lon, /lat       float64 (the point), /valid_fraction float64, /scenes int32 (scenes used)
//   root attributes  bands (names), sensor, crs, res, size, south_up, composite, command_line
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace sbench::store {

struct TileFileInfo {
  std::size_t count = 0;
  std::vector<std::string> bands;
  int size = 0;
  std::string sensor, crs, composite, command_line;
  double res = 0;
  bool south_up = false;
};

struct TileRecord {
  std::string id, status;
  double lon = 0, lat = 0, valid_fraction = 0;
  int scenes = 0;
  const float* values = nullptr;  // C x H x W, or nullptr for a tile of NaN
};

// Writes NAME.partial and renames it to NAME on commit(); destroyed without commit(), the partial
// file is removed, so no complete-looking file is left by a failed run.
class TileFileWriter {
 public:
  TileFileWriter(const std::string& path, const TileFileInfo& info);
  ~TileFileWriter();
  TileFileWriter(const TileFileWriter&) = delete;
  TileFileWriter& operator=(const TileFileWriter&) = delete;
  void write(std::size_t index, const TileRecord& record);
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbench::store
