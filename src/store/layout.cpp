#include "layout.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sbench::store::layout {

namespace {

constexpr hsize_t kScalarChunk = 4096;
const char* const kGroups[] = {"/inputs", "/targets", "/meta", "/provenance"};

h5::Handle group_create_plist() {
  h5::Handle gcpl(H5Pcreate(H5P_GROUP_CREATE));
  H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  return gcpl;
}

h5::Handle file_type(ElementType type) {
  switch (type) {
    case ElementType::boolean:
    case ElementType::uint8: return h5::Handle(H5Tcopy(H5T_STD_U8LE));
    case ElementType::int8: return h5::Handle(H5Tcopy(H5T_STD_I8LE));
    case ElementType::int16: return h5::Handle(H5Tcopy(H5T_STD_I16LE));
    case ElementType::int32: return h5::Handle(H5Tcopy(H5T_STD_I32LE));
    case ElementType::int64: return h5::Handle(H5Tcopy(H5T_STD_I64LE));
    case ElementType::uint16: return h5::Handle(H5Tcopy(H5T_STD_U16LE));
    case ElementType::uint32: return h5::Handle(H5Tcopy(H5T_STD_U32LE));
    case ElementType::uint64: return h5::Handle(H5Tcopy(H5T_STD_U64LE));
    case ElementType::float32: return h5::Handle(H5Tcopy(H5T_IEEE_F32LE));
    case ElementType::float64: return h5::Handle(H5Tcopy(H5T_IEEE_F64LE));
    case ElementType::string: return h5::memory_type(ElementType::string);
  }
  fail<Error>("unknown element type");
}

std::vector<hsize_t> dims_of(const Field& f, hsize_t rows) {
  std::vector<hsize_t> d = {rows};
  for (auto s : f.shape) d.push_back(static_cast<hsize_t>(s));
  return d;
}

// The archive layout's filters: byte shuffle, then deflate. Shuffling groups the bytes of equal
// significance of neighbouring values, which makes imagery compress better and about twice as
// fast (and inflate five times as fast) as deflate alone. h5py reads it as its shuffle=True.
void add_compression(hid_t dcpl, int deflate_level) {
  if (deflate_level <= 0) return;
  H5Pset_shuffle(dcpl);
  H5Pset_deflate(dcpl, static_cast<unsigned>(deflate_level));
}

void write_field_attributes(hid_t ds, const Field& f) {
  if (!f.bands.empty()) h5::write_attribute(ds, "bands", f.bands);
  if (!f.axes.empty()) h5::write_attribute(ds, "axes", f.axes);
  if (!f.units.empty()) h5::write_attribute(ds, "units", f.units);
}

// Data is created and written through the same file-space selection of `count` rows.
h5::Handle select_rows(hid_t dataset, std::size_t row, std::size_t count, std::vector<hsize_t>& block) {
  h5::Handle space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  std::vector<hsize_t> start(dims.size(), 0);
  start[0] = row;
  block = dims;
  block[0] = count;
  h5::check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr), "select rows");
  return space;
}

}  // namespace

void create_groups(hid_t file) {
  h5::Handle gcpl = group_create_plist();
  for (const char* g : kGroups) {
    h5::Handle group(h5::check(H5Gcreate2(file, g, H5P_DEFAULT, gcpl, H5P_DEFAULT), fmt::format("create {}", g)));
  }
}

h5::Handle create_extendible(hid_t file, const Field& f, int deflate_level) {
  const auto dims = dims_of(f, 0);
  auto maxdims = dims;
  maxdims[0] = H5S_UNLIMITED;
  auto chunk = dims;
  chunk[0] = f.shape.empty() ? kScalarChunk : 1;
  h5::Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data()));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
  add_compression(dcpl, deflate_level);
  // Every byte is written, so fill values would be written for nothing (HDF5 needs them for strings).
  if (f.type != ElementType::string) H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  h5::Handle type = file_type(f.type);
  h5::Handle ds(h5::check(H5Dcreate2(file, f.path().c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                          fmt::format("create {}", f.path())));
  write_field_attributes(ds, f);
  return ds;
}

void append_row(hid_t dataset, const Field& f, std::size_t row, const void* data, hid_t memtype) {
  auto dims = dims_of(f, row + 1);
  h5::check(H5Dset_extent(dataset, dims.data()), fmt::format("extend {}", f.path()));
  std::vector<hsize_t> block;
  h5::Handle fspace = select_rows(dataset, row, 1, block);
  h5::Handle mspace(H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr));
  // Strings go through HDF5's type conversion, whose buffers default to 1 MB each, allocated and
  // zero-filled on every write: size them for one row instead.
  // The property list lives until HDF5 closes every identifier when the process ends.
  static const hid_t small_buffers = [] {
    const hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_buffer(dxpl, 64 * 1024, nullptr, nullptr);
    return dxpl;
  }();
  const hid_t dxpl = f.type == ElementType::string ? small_buffers : H5P_DEFAULT;
  h5::check(H5Dwrite(dataset, memtype, mspace, fspace, dxpl, data), fmt::format("write {}", f.path()));
}

void append_chunk(hid_t dataset, const Field& f, std::size_t row, const std::vector<std::byte>& chunk) {
  auto dims = dims_of(f, row + 1);
  h5::check(H5Dset_extent(dataset, dims.data()), fmt::format("extend {}", f.path()));
  std::vector<hsize_t> offset(dims.size(), 0);
  offset[0] = row;
  h5::check(H5Dwrite_chunk(dataset, H5P_DEFAULT, 0, offset.data(), chunk.size(), chunk.data()),
            fmt::format("write {}", f.path()));
}

bool read_rows(hid_t dataset, const Field& f, std::size_t row, std::size_t count, void* dst) {
  std::vector<hsize_t> block;
  h5::Handle fspace = select_rows(dataset, row, count, block);
  h5::Handle mspace(H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr));
  h5::Handle memtype = h5::memory_type(f.type);
  const herr_t status = H5Dread(dataset, memtype, mspace, fspace, H5P_DEFAULT, dst);
  if (status < 0) H5Eclear2(H5E_DEFAULT);
  return status >= 0;
}

void set_rows(hid_t dataset, std::size_t rows) {
  h5::Handle space(H5Dget_space(dataset));
  std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  dims[0] = rows;
  h5::check(H5Dset_extent(dataset, dims.data()), "resize dataset");
}

void write_source_files(hid_t file, const std::vector<SourceFile>& files) {
  for (const char* name : {"/provenance/path", "/provenance/size", "/provenance/crc32"}) {
    if (H5Lexists(file, name, H5P_DEFAULT) > 0) H5Ldelete(file, name, H5P_DEFAULT);
  }
  const hsize_t n = files.size();
  h5::Handle space(H5Screate_simple(1, &n, nullptr));
  std::vector<const char*> paths;
  std::vector<std::uint64_t> sizes;
  std::vector<std::uint32_t> crcs;
  for (const auto& f : files) {
    paths.push_back(f.path.c_str());
    sizes.push_back(f.size);
    crcs.push_back(f.crc32);
  }
  h5::Handle stype = h5::memory_type(ElementType::string);
  auto write = [&](const char* name, hid_t ftype, hid_t mtype, const void* data) {
    h5::Handle ds(h5::check(H5Dcreate2(file, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                            fmt::format("create {}", name)));
    if (n) h5::check(H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), fmt::format("write {}", name));
  };
  write("/provenance/path", stype, stype, paths.data());
  write("/provenance/size", H5T_STD_U64LE, H5T_NATIVE_UINT64, sizes.data());
  write("/provenance/crc32", H5T_STD_U32LE, H5T_NATIVE_UINT32, crcs.data());
}

namespace {

struct CopyContext {
  hid_t src;
  hid_t dst;
  Layout layout;
  int deflate;
  std::uint64_t rows_total = 0;
  std::uint64_t rows_done = 0;
  const ProgressFn* progress;
  std::vector<std::string> datasets;  // paths, in creation order, of the group being copied
};

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

std::vector<std::string> children(hid_t group) {
  std::vector<std::string> names;
  H5_index_t index = H5_INDEX_NAME;
  h5::Handle gcpl(H5Gget_create_plist(group));
  unsigned flags = 0;
  if (gcpl.valid() && H5Pget_link_creation_order(gcpl, &flags) >= 0 && (flags & H5P_CRT_ORDER_INDEXED)) {
    index = H5_INDEX_CRT_ORDER;
  }
  hsize_t idx = 0;
  h5::check(H5Literate(group, index, H5_ITER_INC, &idx, collect_link, &names), "list group");
  return names;
}

void copy_dataset(CopyContext& c, const std::string& path, bool per_example) {
  h5::Handle in(h5::check(H5Dopen2(c.src, path.c_str(), H5P_DEFAULT), fmt::format("open {}", path)));
  h5::Handle type(H5Dget_type(in));
  h5::Handle space(H5Dget_space(in));
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  h5::Handle out_space(rank > 0 ? H5Screate_simple(rank, dims.data(), nullptr) : H5Scopy(space));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  const bool chunked = c.layout == Layout::archive && per_example && rank > 0 && dims[0] > 0;
  if (chunked) {
    auto chunk = dims;
    chunk[0] = rank == 1 ? std::min<hsize_t>(dims[0], kScalarChunk) : 1;
    H5Pset_chunk(dcpl, rank, chunk.data());
    add_compression(dcpl, c.deflate);
  } else {
    H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  }
  if (H5Tdetect_class(type, H5T_STRING) <= 0 && H5Tdetect_class(type, H5T_VLEN) <= 0) {
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  }
  h5::Handle out(h5::check(H5Dcreate2(c.dst, path.c_str(), type, out_space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                           fmt::format("create {}", path)));
  h5::copy_attributes(in, out);
  if (rank == 0 || dims[0] == 0) {
    if (rank == 0) {
      h5::Handle mtype(H5Tget_native_type(type, H5T_DIR_DEFAULT));
      std::vector<unsigned char> buf(H5Tget_size(mtype));
      h5::check(H5Dread(in, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), fmt::format("read {}", path));
      h5::check(H5Dwrite(out, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), fmt::format("write {}", path));
    }
    return;
  }
  h5::Handle mtype(H5Tget_native_type(type, H5T_DIR_DEFAULT));
  const bool variable = H5Tis_variable_str(mtype) > 0;
  std::size_t row_bytes = H5Tget_size(mtype);
  for (std::size_t d = 1; d < dims.size(); ++d) row_bytes *= dims[d];
  // About 64 MB per block: large sequential writes, bounded memory.
  const hsize_t rows_per_block = std::max<hsize_t>(1, (64u << 20) / std::max<std::size_t>(row_bytes, 1));
  std::vector<unsigned char> buf(static_cast<std::size_t>(std::min(rows_per_block, dims[0])) * row_bytes);
  for (hsize_t row = 0; row < dims[0]; row += rows_per_block) {
    const hsize_t count = std::min(rows_per_block, dims[0] - row);
    std::vector<hsize_t> block;
    h5::Handle fin = select_rows(in, row, count, block);
    h5::Handle fout = select_rows(out, row, count, block);
    h5::Handle mspace(H5Screate_simple(rank, block.data(), nullptr));
    h5::check(H5Dread(in, mtype, mspace, fin, H5P_DEFAULT, buf.data()), fmt::format("read {}", path));
    h5::check(H5Dwrite(out, mtype, mspace, fout, H5P_DEFAULT, buf.data()), fmt::format("write {}", path));
    if (variable) H5Dvlen_reclaim(mtype, mspace, H5P_DEFAULT, buf.data());
    if (per_example && rank > 1) {
      c.rows_done += count;
      if (*c.progress && !(*c.progress)(c.rows_done, c.rows_total, "repack")) throw Cancelled();
    }
  }
}

void copy_group(CopyContext& c, const std::string& path) {
  h5::Handle in(h5::check(H5Gopen2(c.src, path.c_str(), H5P_DEFAULT), fmt::format("open {}", path)));
  if (path != "/") {
    h5::Handle gcpl = group_create_plist();
    h5::Handle out(
        h5::check(H5Gcreate2(c.dst, path.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), fmt::format("create {}", path)));
    h5::copy_attributes(in, out);
  }
  const bool per_example = path == "/inputs" || path == "/targets" || path == "/meta";
  for (const auto& name : children(in)) {
    const std::string child = path == "/" ? "/" + name : path + "/" + name;
    H5O_info_t info;
    h5::check(H5Oget_info_by_name2(c.src, child.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT),
              fmt::format("inspect {}", child));
    if (info.type == H5O_TYPE_GROUP) {
      copy_group(c, child);
    } else if (info.type == H5O_TYPE_DATASET) {
      copy_dataset(c, child, per_example);
    }
  }
}

}  // namespace

void copy_store(const std::filesystem::path& from, const std::filesystem::path& to, Layout layout, int deflate_level,
                const ProgressFn& progress) {
  h5::Handle src(h5::check(H5Fopen(from.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                           fmt::format("{}: not a readable HDF5 file", from.string())));
  h5::Handle dst(h5::check(H5Fcreate(to.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                           fmt::format("{}: cannot create", to.string())));
  h5::copy_attributes(src, dst);
  h5::write_attribute(dst, "layout", to_string(layout));
  CopyContext c{src, dst, layout, deflate_level, 0, 0, &progress, {}};
  // Progress counts examples of the multi-dimensional fields.
  if (H5Lexists(src, "/meta/id", H5P_DEFAULT) > 0) {
    h5::Handle ids(H5Dopen2(src, "/meta/id", H5P_DEFAULT));
    h5::Handle space(H5Dget_space(ids));
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space, &n, nullptr);
    h5::Handle inputs(H5Gopen2(src, "/inputs", H5P_DEFAULT));
    h5::Handle targets(H5Gopen2(src, "/targets", H5P_DEFAULT));
    std::size_t multi = 0;
    for (hid_t g : {inputs.get(), targets.get()}) {
      if (g < 0) continue;
      for (const auto& name : children(g)) {
        h5::Handle d(H5Dopen2(g, name.c_str(), H5P_DEFAULT));
        h5::Handle s(H5Dget_space(d));
        if (H5Sget_simple_extent_ndims(s) > 1) ++multi;
      }
    }
    c.rows_total = n * multi;
  }
  copy_group(c, "/");
  h5::check(H5Fflush(dst, H5F_SCOPE_GLOBAL), fmt::format("{}: flush", to.string()));
}

}  // namespace sbench::store::layout
