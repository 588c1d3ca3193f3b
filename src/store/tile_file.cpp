#include "sbench/store/tile_file.hpp"

#include <filesystem>
#include <limits>

#include "h5.hpp"
#include "sbench/core/atomic_file.hpp"

namespace sbench::store {

struct TileFileWriter::Impl {
  std::string path;
  std::filesystem::path partial;
  TileFileInfo info;
  h5::Handle file, tiles, id, status, lon, lat, valid, scenes, strtype;
  std::vector<float> nan_tile;
  // The per-point columns are small: kept here and written once by commit(), since HDF5 makes
  // single-element writes to contiguous datasets costly.
  std::vector<std::string> ids, statuses;
  std::vector<double> lons, lats, valids;
  std::vector<int> scene_counts;
  bool committed = false;
};

namespace {
h5::Handle make_1d(hid_t file, const char* name, hid_t type, std::size_t n, const std::string& path) {
  const hsize_t dims[1] = {static_cast<hsize_t>(n)};
  h5::Handle space(h5::check(H5Screate_simple(1, dims, nullptr), path));
  return h5::Handle(h5::check(H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                              path + ": creating /" + std::string(name + 1)));
}

template <typename T>
void write_all(hid_t ds, hid_t memtype, const std::vector<T>& values, const std::string& what) {
  if (!values.empty()) h5::check(H5Dwrite(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), what);
}
}  // namespace

TileFileWriter::TileFileWriter(const std::string& path, const TileFileInfo& info) : impl_(std::make_unique<Impl>()) {
  init_hdf5();
  Impl& m = *impl_;
  m.path = path;
  m.partial = partial_path_for(path);
  m.info = info;
  m.ids.resize(info.count);
  m.statuses.resize(info.count);
  m.lons.resize(info.count);
  m.lats.resize(info.count);
  m.valids.resize(info.count);
  m.scene_counts.resize(info.count);
  const std::string p = m.partial.string();
  m.file = h5::Handle(h5::check(H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), p + ": cannot create"));
  const hsize_t c = info.bands.size(), s = static_cast<hsize_t>(info.size);
  const hsize_t dims[4] = {static_cast<hsize_t>(info.count), c, s, s};
  const hsize_t chunk[4] = {1, c, s, s};
  h5::Handle space(h5::check(H5Screate_simple(4, dims, nullptr), p));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (info.count > 0 && c > 0) h5::check(H5Pset_chunk(dcpl, 4, chunk), p);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  h5::check(H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &nan), p);
  // Chunks are written whole (tiles), or filled with NaN by write() for points without one: HDF5
  // need not fill them first.
  h5::check(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), p);
  m.tiles = h5::Handle(h5::check(H5Dcreate2(m.file, "/tiles", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                                 p + ": creating /tiles"));
  m.strtype = h5::memory_type(ElementType::string);
  m.id = make_1d(m.file, "/id", m.strtype, info.count, p);
  m.status = make_1d(m.file, "/status", m.strtype, info.count, p);
  m.lon = make_1d(m.file, "/lon", H5T_IEEE_F64LE, info.count, p);
  m.lat = make_1d(m.file, "/lat", H5T_IEEE_F64LE, info.count, p);
  m.valid = make_1d(m.file, "/valid_fraction", H5T_IEEE_F64LE, info.count, p);
  m.scenes = make_1d(m.file, "/scenes", H5T_STD_I32LE, info.count, p);
  h5::write_attribute(m.file, "format", "sbench-tiles");
  h5::write_attribute(m.file, "bands", info.bands);
  h5::write_attribute(m.file, "sensor", info.sensor);
  h5::write_attribute(m.file, "crs", info.crs);
  h5::write_attribute(m.file, "composite", info.composite);
  h5::write_attribute(m.file, "command_line", info.command_line);
  h5::write_attribute(m.file, "size", static_cast<std::int64_t>(info.size));
  h5::write_attribute(m.file, "south_up", static_cast<std::int64_t>(info.south_up));
  {
    const hsize_t one[1] = {1};
    h5::Handle as(H5Screate_simple(1, one, nullptr));
    h5::Handle a(h5::check(H5Acreate2(m.file, "res", H5T_IEEE_F64LE, as, H5P_DEFAULT, H5P_DEFAULT), p));
    h5::check(H5Awrite(a, H5T_NATIVE_DOUBLE, &info.res), p);
  }
}

TileFileWriter::~TileFileWriter() {
  if (!impl_->committed) {
    impl_->tiles.reset();
    impl_->file.reset();
    std::error_code ec;
    std::filesystem::remove(impl_->partial, ec);
  }
}

void TileFileWriter::write(std::size_t index, const TileRecord& r) {
  Impl& m = *impl_;
  const std::string what = m.partial.string() + ": writing tile " + std::to_string(index) + " (" + r.id + ")";
  if (!r.values) {
    m.nan_tile.assign(
        m.info.bands.size() * static_cast<std::size_t>(m.info.size) * static_cast<std::size_t>(m.info.size),
        std::numeric_limits<float>::quiet_NaN());
  }
  const float* values = r.values ? r.values : m.nan_tile.data();
  if (!m.info.bands.empty()) {
    h5::Handle space(h5::check(H5Dget_space(m.tiles), what));
    const hsize_t c = m.info.bands.size(), s = static_cast<hsize_t>(m.info.size);
    const hsize_t start[4] = {static_cast<hsize_t>(index), 0, 0, 0}, count[4] = {1, c, s, s};
    h5::check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr), what);
    h5::Handle mem(h5::check(H5Screate_simple(4, count, nullptr), what));
    h5::check(H5Dwrite(m.tiles, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, values), what);
  }
  if (index >= m.info.count) fail<Error>("{}: tile index {} beyond {}", what, index, m.info.count);
  m.ids[index] = r.id;
  m.statuses[index] = r.status;
  m.lons[index] = r.lon;
  m.lats[index] = r.lat;
  m.valids[index] = r.valid_fraction;
  m.scene_counts[index] = r.scenes;
}

void TileFileWriter::commit() {
  Impl& m = *impl_;
  const std::string p = m.partial.string();
  std::vector<const char*> ids, statuses;
  for (const auto& x : m.ids) ids.push_back(x.c_str());
  for (const auto& x : m.statuses) statuses.push_back(x.c_str());
  write_all(m.id, m.strtype, ids, p + ": writing /id");
  write_all(m.status, m.strtype, statuses, p + ": writing /status");
  write_all(m.lon, H5T_NATIVE_DOUBLE, m.lons, p + ": writing /lon");
  write_all(m.lat, H5T_NATIVE_DOUBLE, m.lats, p + ": writing /lat");
  write_all(m.valid, H5T_NATIVE_DOUBLE, m.valids, p + ": writing /valid_fraction");
  write_all(m.scenes, H5T_NATIVE_INT, m.scene_counts, p + ": writing /scenes");
  h5::check(H5Fflush(m.file, H5F_SCOPE_GLOBAL), p);
  m.tiles.reset();
  m.id.reset();
  m.status.reset();
  m.lon.reset();
  m.lat.reset();
  m.valid.reset();
  m.scenes.reset();
  m.file.reset();
  std::error_code ec;
  std::filesystem::rename(m.partial, m.path, ec);
  if (ec) fail<IoError>("{}: cannot rename to {} ({})", p, m.path, ec.message());
  m.committed = true;
}

}  // namespace sbench::store
