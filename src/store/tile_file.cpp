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
  bool committed = false;
};

namespace {
h5::Handle make_1d(hid_t file, const char* name, hid_t type, std::size_t n, const std::string& path) {
  const hsize_t dims[1] = {static_cast<hsize_t>(n)};
  h5::Handle space(h5::check(H5Screate_simple(1, dims, nullptr), path));
  return h5::Handle(h5::check(H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                              path + ": creating /" + std::string(name + 1)));
}

void write_at(hid_t ds, hid_t memtype, std::size_t index, const void* value, const std::string& what) {
  h5::Handle space(h5::check(H5Dget_space(ds), what));
  const hsize_t start[1] = {static_cast<hsize_t>(index)}, one[1] = {1};
  h5::check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, one, nullptr), what);
  h5::Handle mem(h5::check(H5Screate_simple(1, one, nullptr), what));
  h5::check(H5Dwrite(ds, memtype, mem, space, H5P_DEFAULT, value), what);
}
}  // namespace

TileFileWriter::TileFileWriter(const std::string& path, const TileFileInfo& info) : impl_(std::make_unique<Impl>()) {
  init_hdf5();
  Impl& m = *impl_;
  m.path = path;
  m.partial = partial_path_for(path);
  m.info = info;
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
  if (r.values) {
    h5::Handle space(h5::check(H5Dget_space(m.tiles), what));
    const hsize_t c = m.info.bands.size(), s = static_cast<hsize_t>(m.info.size);
    const hsize_t start[4] = {static_cast<hsize_t>(index), 0, 0, 0}, count[4] = {1, c, s, s};
    h5::check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr), what);
    h5::Handle mem(h5::check(H5Screate_simple(4, count, nullptr), what));
    h5::check(H5Dwrite(m.tiles, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, r.values), what);
  }
  const char* id = r.id.c_str();
  const char* status = r.status.c_str();
  write_at(m.id, m.strtype, index, &id, what);
  write_at(m.status, m.strtype, index, &status, what);
  write_at(m.lon, H5T_NATIVE_DOUBLE, index, &r.lon, what);
  write_at(m.lat, H5T_NATIVE_DOUBLE, index, &r.lat, what);
  write_at(m.valid, H5T_NATIVE_DOUBLE, index, &r.valid_fraction, what);
  write_at(m.scenes, H5T_NATIVE_INT, index, &r.scenes, what);
}

void TileFileWriter::commit() {
  Impl& m = *impl_;
  const std::string p = m.partial.string();
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
