#include "sbench/store/street.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "h5.hpp"
#include "sbench/core/error.hpp"

namespace sbench::store {

namespace fs = std::filesystem;
using h5::check;
using h5::Handle;

namespace {

// A 1-D dataset of `n` values of `type` written whole.
void write_1d(hid_t group, const char* name, hid_t type, std::size_t n, const void* data) {
  const hsize_t dims[1] = {static_cast<hsize_t>(n)};
  Handle space(H5Screate_simple(1, dims, nullptr));
  Handle plist(H5Pcreate(H5P_DATASET_CREATE));
  if (n > 0) {
    const hsize_t chunk[1] = {std::min<hsize_t>(dims[0], 65536)};
    H5Pset_chunk(plist, 1, chunk);
    H5Pset_deflate(plist, 4);
  }
  Handle ds(
      check(H5Dcreate2(group, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT), fmt::format("create {}", name)));
  if (n > 0) check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), fmt::format("write {}", name));
}

void write_strings(hid_t group, const char* name, const std::vector<std::string>& values) {
  Handle type = h5::memory_type(ElementType::string);
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  write_1d(group, name, type, values.size(), ptrs.data());
}

template <typename T>
std::vector<T> read_1d(hid_t group, const char* name, hid_t type, const std::string& where) {
  Handle ds(check(H5Dopen2(group, name, H5P_DEFAULT), fmt::format("{}: /street/{}", where, name)));
  Handle space(H5Dget_space(ds));
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<T> out(static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
  if (n > 0)
    check(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), fmt::format("{}: read {}", where, name));
  return out;
}

}  // namespace

struct StreetWriter::Impl {
  fs::path out, partial;
  int size = 0;
  Handle file, group, images;
  std::vector<std::string> ids;  // the store's examples
  std::unordered_map<std::string, std::size_t> row_of;
  std::vector<StreetImage> meta;
  std::vector<std::int64_t> first;
  std::vector<std::int32_t> count;
  std::vector<bool> seen;
  bool finished = false;
};

StreetWriter::StreetWriter(const fs::path& store, const fs::path& out, int size) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (size < 8 || size > 4096) fail<UsageError>("--size {}: expected 8 to 4096 pixels", size);
  if (fs::exists(out)) fail<UsageError>("{}: exists (give a new --out)", out.string());
  m.out = out;
  m.size = size;
  m.partial = out;
  m.partial += ".partial";
  {
    std::lock_guard<std::mutex> lock(h5::library_mutex());
    Handle f(H5Fopen(store.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!f.valid()) fail<InputError>("{}: not a readable store", store.string());
    if (H5Lexists(f, "street", H5P_DEFAULT) > 0)
      fail<InputError>("{}: already has street-level images", store.string());
    Handle ids(check(H5Dopen2(f, "meta/id", H5P_DEFAULT), fmt::format("{}: /meta/id", store.string())));
    m.ids = h5::read_strings(ids, store.string() + ": /meta/id");
  }
  // The copy (gigabytes for a whole store) outside the HDF5 lock; a stale OUT.partial of a failed
  // run is replaced.
  std::error_code ec;
  fs::copy_file(store, m.partial, fs::copy_options::overwrite_existing, ec);
  if (ec) fail<IoError>("{}: cannot copy to {}: {}", store.string(), m.partial.string(), ec.message());
  for (std::size_t i = 0; i < m.ids.size(); ++i) m.row_of.emplace(m.ids[i], i);
  m.first.assign(m.ids.size(), 0);
  m.count.assign(m.ids.size(), 0);
  m.seen.assign(m.ids.size(), false);
  try {
    open_copy(m);
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(h5::library_mutex());
      m.images.reset();
      m.group.reset();
      m.file.reset();
    }
    fs::remove(m.partial, ec);
    throw;
  }
}

void StreetWriter::open_copy(Impl& m) {
  std::lock_guard<std::mutex> lock(h5::library_mutex());
  m.file = Handle(check(H5Fopen(m.partial.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), m.partial.string()));
  m.group = Handle(check(H5Gcreate2(m.file, "street", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create /street"));
  const hsize_t dims[4] = {0, 3, static_cast<hsize_t>(m.size), static_cast<hsize_t>(m.size)};
  const hsize_t maxdims[4] = {H5S_UNLIMITED, 3, dims[2], dims[3]};
  const hsize_t chunk[4] = {1, 3, dims[2], dims[3]};
  Handle space(H5Screate_simple(4, dims, maxdims));
  Handle plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(plist, 4, chunk);
  // No deflate: decoded photos shrink little and deflate (serial, under the HDF5 lock) halved the
  // import rate (bench/street_decode.sh); one chunk per image.
  m.images = Handle(check(H5Dcreate2(m.group, "image", H5T_NATIVE_UINT8, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                          "create /street/image"));
}

StreetWriter::~StreetWriter() {
  if (!impl_ || impl_->finished) return;
  {
    std::lock_guard<std::mutex> lock(h5::library_mutex());
    impl_->images.reset();
    impl_->group.reset();
    impl_->file.reset();
  }
  std::error_code ec;
  fs::remove(impl_->partial, ec);
}

std::size_t StreetWriter::written() const {
  return impl_->meta.size();
}

void StreetWriter::append(const std::vector<StreetImage>& images, const std::vector<std::uint8_t>& pixels) {
  Impl& m = *impl_;
  const std::size_t per = 3 * static_cast<std::size_t>(m.size) * static_cast<std::size_t>(m.size);
  if (pixels.size() != images.size() * per)
    fail<Error>("street: {} images with {} bytes", images.size(), pixels.size());
  if (images.empty()) return;
  for (const auto& im : images) {
    const auto it = m.row_of.find(im.cluster);
    if (it == m.row_of.end()) fail<Error>("street: cluster '{}' is not an example of the store", im.cluster);
    const std::size_t row = it->second;
    const auto at = static_cast<std::int64_t>(m.meta.size());
    if (m.seen[row] && m.first[row] + m.count[row] != at) {
      fail<Error>("street: the images of cluster '{}' are not consecutive", im.cluster);
    }
    if (!m.seen[row]) m.first[row] = at, m.seen[row] = true;
    ++m.count[row];
    m.meta.push_back(im);
  }
  std::lock_guard<std::mutex> lock(h5::library_mutex());
  const hsize_t n = m.meta.size(), before = n - images.size();
  const hsize_t dims[4] = {n, 3, static_cast<hsize_t>(m.size), static_cast<hsize_t>(m.size)};
  check(H5Dset_extent(m.images, dims), "extend /street/image");
  Handle space(H5Dget_space(m.images));
  const hsize_t start[4] = {before, 0, 0, 0}, cnt[4] = {images.size(), 3, dims[2], dims[3]};
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, cnt, nullptr);
  Handle mem(H5Screate_simple(4, cnt, nullptr));
  check(H5Dwrite(m.images, H5T_NATIVE_UINT8, mem, space, H5P_DEFAULT, pixels.data()), "write /street/image");
}

void StreetWriter::finish(const std::string& report_json, const std::string& settings_json) {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(h5::library_mutex());
    std::vector<std::string> cluster, image_id;
    std::vector<float> distance;
    std::vector<std::int16_t> gap;
    for (const auto& im : m.meta) {
      cluster.push_back(im.cluster);
      image_id.push_back(im.image_id);
      distance.push_back(im.distance_m);
      gap.push_back(im.year_gap);
    }
    write_strings(m.group, "cluster", cluster);
    write_strings(m.group, "image_id", image_id);
    write_1d(m.group, "distance_m", H5T_NATIVE_FLOAT, distance.size(), distance.data());
    write_1d(m.group, "year_gap", H5T_NATIVE_INT16, gap.size(), gap.data());
    write_1d(m.group, "first", H5T_NATIVE_INT64, m.first.size(), m.first.data());
    write_1d(m.group, "count", H5T_NATIVE_INT32, m.count.size(), m.count.data());
    h5::write_attribute(m.group, "size", static_cast<std::int64_t>(m.size));
    h5::write_attribute(m.group, "street_report", report_json);
    h5::write_attribute(m.group, "street_settings", settings_json);
    m.images.reset();
    m.group.reset();
    check(H5Fflush(m.file, H5F_SCOPE_GLOBAL), "flush");
    m.file.reset();
  }
  std::error_code ec;
  fs::rename(m.partial, m.out, ec);
  if (ec) fail<IoError>("{}: cannot rename to {}: {}", m.partial.string(), m.out.string(), ec.message());
  m.finished = true;
}

bool has_street(const fs::path& store) {
  std::lock_guard<std::mutex> lock(h5::library_mutex());
  Handle f(H5Fopen(store.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  return f.valid() && H5Lexists(f, "street", H5P_DEFAULT) > 0;
}

StreetIndex read_street_index(const fs::path& store) {
  std::lock_guard<std::mutex> lock(h5::library_mutex());
  const std::string where = store.string();
  Handle f(H5Fopen(store.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!f.valid()) fail<InputError>("{}: not a readable store", where);
  if (H5Lexists(f, "street", H5P_DEFAULT) <= 0)
    fail<InputError>("{}: no street-level images (add them with `sbench street import`)", where);
  Handle g(check(H5Gopen2(f, "street", H5P_DEFAULT), where + ": /street"));
  StreetIndex out;
  out.size = static_cast<int>(h5::read_int_attribute(g, "size", where + ": /street"));
  out.report = h5::read_string_attribute(g, "street_report", where + ": /street");
  out.settings = h5::read_string_attribute(g, "street_settings", where + ": /street");
  {
    Handle ds(check(H5Dopen2(g, "cluster", H5P_DEFAULT), where + ": /street/cluster"));
    out.cluster = h5::read_strings(ds, where + ": /street/cluster");
  }
  {
    Handle ds(check(H5Dopen2(g, "image_id", H5P_DEFAULT), where + ": /street/image_id"));
    out.image_id = h5::read_strings(ds, where + ": /street/image_id");
  }
  out.distance_m = read_1d<float>(g, "distance_m", H5T_NATIVE_FLOAT, where);
  out.year_gap = read_1d<std::int16_t>(g, "year_gap", H5T_NATIVE_INT16, where);
  out.first = read_1d<std::int64_t>(g, "first", H5T_NATIVE_INT64, where);
  out.count = read_1d<std::int32_t>(g, "count", H5T_NATIVE_INT32, where);
  Handle ids(check(H5Dopen2(f, "meta/id", H5P_DEFAULT), where + ": /meta/id"));
  Handle ids_space(H5Dget_space(ids));
  const auto examples = static_cast<std::size_t>(H5Sget_simple_extent_npoints(ids_space));
  const std::size_t n = out.cluster.size();
  bool ok = out.first.size() == examples && out.count.size() == examples && out.image_id.size() == n &&
            out.distance_m.size() == n && out.year_gap.size() == n;
  for (std::size_t i = 0; ok && i < out.first.size(); ++i) {
    ok = out.first[i] >= 0 && out.count[i] >= 0 && static_cast<std::size_t>(out.first[i] + out.count[i]) <= n;
  }
  if (!ok) fail<InputError>("{}: /street does not match the store's {} examples (a damaged file?)", where, examples);
  return out;
}

struct StreetImageReader::Impl {
  std::string where;
  Handle file, ds;
  hsize_t dims[4] = {0, 0, 0, 0};
};

StreetImageReader::StreetImageReader(const fs::path& store) {
  std::lock_guard<std::mutex> lock(h5::library_mutex());
  auto m = std::make_unique<Impl>();  // on an error, closed before the lock is released
  m->where = store.string();
  m->file = Handle(check(H5Fopen(store.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), m->where));
  m->ds = Handle(check(H5Dopen2(m->file, "street/image", H5P_DEFAULT), m->where + ": /street/image"));
  Handle space(H5Dget_space(m->ds));
  if (H5Sget_simple_extent_ndims(space) != 4)
    fail<InputError>("{}: /street/image: expected 4 dimensions (image, band, row, column)", m->where);
  H5Sget_simple_extent_dims(space, m->dims, nullptr);
  if (m->dims[1] != 3 || m->dims[2] != m->dims[3])
    fail<InputError>("{}: /street/image: images of {} x {} x {}, expected 3 x S x S", m->where, m->dims[1], m->dims[2],
                     m->dims[3]);
  impl_ = std::move(m);
}

StreetImageReader::~StreetImageReader() {
  std::lock_guard<std::mutex> lock(h5::library_mutex());
  impl_.reset();
}

int StreetImageReader::size() const {
  return static_cast<int>(impl_->dims[2]);
}

std::int64_t StreetImageReader::images() const {
  return static_cast<std::int64_t>(impl_->dims[0]);
}

void StreetImageReader::read(std::int64_t first, std::int64_t count, std::uint8_t* dst) const {
  if (count <= 0) return;
  const auto& d = impl_->dims;
  if (first < 0 || static_cast<hsize_t>(first + count) > d[0])
    fail<InputError>("{}: street images [{}, {}) of {}", impl_->where, first, first + count, d[0]);
  std::lock_guard<std::mutex> lock(h5::library_mutex());
  Handle space(H5Dget_space(impl_->ds));
  const hsize_t start[4] = {static_cast<hsize_t>(first), 0, 0, 0},
                cnt[4] = {static_cast<hsize_t>(count), 3, d[2], d[3]};
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, cnt, nullptr);
  Handle mem(H5Screate_simple(4, cnt, nullptr));
  check(H5Dread(impl_->ds, H5T_NATIVE_UINT8, mem, space, H5P_DEFAULT, dst), impl_->where + ": read /street/image");
}

void read_street_images(const fs::path& store, std::int64_t first, std::int64_t count, std::uint8_t* dst) {
  if (count <= 0) return;
  StreetImageReader(store).read(first, count, dst);
}

}  // namespace sbench::store
