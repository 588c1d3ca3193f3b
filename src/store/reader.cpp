#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "h5.hpp"
#include "sbench/store/store.hpp"

namespace sbench::store {

namespace fs = std::filesystem;

namespace {
// Archive layout: how a field's one-example chunks are stored, when read() can decode them itself
// (outside HDF5's lock) instead of through H5Dread.
enum class RawChunks : std::uint8_t { no, plain, deflate, shuffle_deflate };
}  // namespace

struct StoreReader::Impl {
  fs::path path;
  std::string name;  // for messages
  h5::Handle file;
  Schema schema;
  Layout layout = Layout::archive;
  std::int64_t version = 0;
  std::size_t n = 0;
  std::vector<std::string> ids;
  std::unordered_map<std::string, std::size_t> by_id;
  std::vector<std::uint8_t> splits;
  std::vector<h5::Handle> datasets;  // per field
  std::vector<haddr_t> offsets;      // train layout: file offset of each fixed-size field
  std::vector<RawChunks> raw;        // archive layout: how each field's chunks can be decoded here
  std::map<std::string, std::string> attributes;
  int fd = -1;

  ~Impl() {
    if (fd >= 0) ::close(fd);
  }

  std::vector<std::string> list(const char* group) const {
    std::vector<std::string> names;
    if (H5Lexists(file, group, H5P_DEFAULT) <= 0) return names;
    h5::Handle g(H5Gopen2(file, group, H5P_DEFAULT));
    H5_index_t index = H5_INDEX_NAME;
    h5::Handle gcpl(H5Gget_create_plist(g));
    unsigned flags = 0;
    if (H5Pget_link_creation_order(gcpl, &flags) >= 0 && (flags & H5P_CRT_ORDER_INDEXED)) index = H5_INDEX_CRT_ORDER;
    hsize_t idx = 0;
    H5Literate(
        g, index, H5_ITER_INC, &idx,
        [](hid_t, const char* link, const H5L_info_t*, void* data) -> herr_t {
          static_cast<std::vector<std::string>*>(data)->emplace_back(link);
          return 0;
        },
        &names);
    return names;
  }

  const Field& fixed_field(const std::string& field, std::size_t& k) const {
    k = schema.index(field);
    const Field& f = schema.fields[k];
    if (f.type == ElementType::string) fail<Error>("{}: field '{}' holds strings", name, field);
    return f;
  }
};

namespace {

// Whether the examples of an archive-layout dataset can be read as raw chunks and decoded here:
// one chunk per example, the element type as stored in memory, and no filter but HDF5's byte
// shuffle followed by deflate (what StoreWriter writes) or deflate alone or none.
RawChunks raw_chunks(hid_t ds, const Field& f) {
  using R = RawChunks;
  if (f.type == ElementType::string || f.shape.empty()) return R::no;
  h5::Handle dcpl(H5Dget_create_plist(ds));
  if (H5Pget_layout(dcpl) != H5D_CHUNKED) return R::no;
  std::vector<hsize_t> chunk(f.shape.size() + 1);
  if (H5Pget_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()) != static_cast<int>(chunk.size())) return R::no;
  if (chunk[0] != 1) return R::no;
  for (std::size_t d = 0; d < f.shape.size(); ++d) {
    if (chunk[d + 1] != static_cast<hsize_t>(f.shape[d])) return R::no;
  }
  h5::Handle type(H5Dget_type(ds));
  h5::Handle mtype = h5::memory_type(f.type);
  if (H5Tequal(type, mtype) <= 0) return R::no;
  const int n = H5Pget_nfilters(dcpl);
  std::vector<H5Z_filter_t> filters;
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0, values[8];
    std::size_t nvalues = 8;
    filters.push_back(H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &nvalues, values, 0, nullptr, nullptr));
  }
  if (filters.empty()) return R::plain;
  if (filters == std::vector<H5Z_filter_t>{H5Z_FILTER_DEFLATE}) return R::deflate;
  if (filters == std::vector<H5Z_filter_t>{H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE}) return R::shuffle_deflate;
  return R::no;
}

// Inflates a zlib stream into exactly `size` bytes; false when the stream is broken or of another size.
bool inflate_exact(const std::byte* in, std::size_t in_size, std::byte* out, std::size_t size) {
  uLongf got = static_cast<uLongf>(size);
  const int rc =
      uncompress(reinterpret_cast<Bytef*>(out), &got, reinterpret_cast<const Bytef*>(in), static_cast<uLong>(in_size));
  return rc == Z_OK && got == size;
}

}  // namespace

StoreReader::StoreReader(const fs::path& path) : impl_(std::make_unique<Impl>()) {
  init_hdf5();
  auto& m = *impl_;
  m.path = path;
  m.name = path.string();
  if (!fs::exists(path)) {
    const fs::path partial = fs::path(path.string() + ".partial");
    if (fs::exists(partial)) {
      fail<IoError>("{}: no such store; {} is an unfinished one (rerun the command with --resume)", m.name,
                    partial.string());
    }
    fail<IoError>("{}: no such store", m.name);
  }
  const hid_t fid = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (fid < 0) {
    H5Eclear2(H5E_DEFAULT);
    fail<InputError>("{}: not a readable HDF5 file (truncated or corrupt?)", m.name);
  }
  m.file = h5::Handle(fid);
  if (!h5::has_attribute(m.file, "sbench_format"))
    fail<InputError>("{}: not an sbench store (no sbench_format attribute)", m.name);
  m.version = h5::read_int_attribute(m.file, "sbench_format", m.name);
  if (m.version > kFormatVersion) {
    fail<InputError>("{}: store format {} is newer than this sbench reads ({}); update sbench", m.name, m.version,
                     kFormatVersion);
  }
  m.schema.task = h5::read_string_attribute(m.file, "task", m.name);
  m.schema.family = h5::read_string_attribute(m.file, "family", m.name);
  m.schema.tasks = h5::read_string_list_attribute(m.file, "tasks", m.name);
  m.layout = parse_layout(h5::read_string_attribute(m.file, "layout", m.name));
  // Root string attributes: provenance and whatever the importer recorded.
  H5Aiterate2(
      m.file, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr,
      [](hid_t obj, const char* attr, const H5A_info_t*, void* data) -> herr_t {
        auto* self = static_cast<Impl*>(data);
        h5::Handle a(H5Aopen(obj, attr, H5P_DEFAULT));
        h5::Handle t(H5Aget_type(a));
        h5::Handle s(H5Aget_space(a));
        if (H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_type(s) == H5S_SCALAR) {
          self->attributes[attr] = h5::read_string_attribute(obj, attr, self->name);
        }
        return 0;
      },
      &m);

  h5::Handle id_ds(H5Dopen2(m.file, "/meta/id", H5P_DEFAULT));
  h5::Handle split_ds(H5Dopen2(m.file, "/meta/split", H5P_DEFAULT));
  if (!id_ds.valid() || !split_ds.valid()) {
    H5Eclear2(H5E_DEFAULT);
    fail<InputError>("{}: not an sbench store (no /meta/id or /meta/split)", m.name);
  }
  m.ids = h5::read_strings(id_ds, m.name + ":/meta/id");
  m.n = m.ids.size();
  m.splits.resize(m.n);
  if (m.n) {
    h5::check(H5Dread(split_ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, m.splits.data()),
              fmt::format("{}: read /meta/split", m.name));
  }
  for (std::size_t i = 0; i < m.n; ++i) m.by_id.emplace(m.ids[i], i);

  for (const Group g : {Group::input, Group::target, Group::meta}) {
    const std::string group = fmt::format("/{}", to_string(g));
    for (const auto& child : m.list(group.c_str())) {
      if (g == Group::meta && (child == "id" || child == "split")) continue;
      Field f;
      f.group = g;
      f.name = child;
      const std::string where = fmt::format("{}:{}/{}", m.name, group, child);
      h5::Handle ds(h5::check(H5Dopen2(m.file, f.path().c_str(), H5P_DEFAULT), where));
      h5::Handle type(H5Dget_type(ds));
      f.type = h5::element_type_of(type, where);
      h5::Handle space(H5Dget_space(ds));
      const int rank = H5Sget_simple_extent_ndims(space);
      std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 1)), 0);
      if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
      if (rank < 1 || dims[0] != m.n) {
        fail<InputError>("{}: has {} examples, /meta/id has {}", where, rank < 1 ? 0 : dims[0], m.n);
      }
      for (std::size_t d = 1; d < dims.size(); ++d) f.shape.push_back(static_cast<std::int64_t>(dims[d]));
      if (h5::has_attribute(ds, "bands")) f.bands = h5::read_string_list_attribute(ds, "bands", where);
      if (h5::has_attribute(ds, "axes")) f.axes = h5::read_string_attribute(ds, "axes", where);
      if (h5::has_attribute(ds, "units")) f.units = h5::read_string_attribute(ds, "units", where);
      haddr_t offset = HADDR_UNDEF;
      if (m.layout == Layout::train && f.type != ElementType::string && m.n > 0) {
        h5::Handle dcpl(H5Dget_create_plist(ds));
        offset = H5Dget_offset(ds);
        if (H5Pget_layout(dcpl) != H5D_CONTIGUOUS || offset == HADDR_UNDEF) {
          fail<InputError>("{}: the store says 'train' layout but this dataset is not contiguous", where);
        }
      }
      const auto raw = m.layout == Layout::archive ? raw_chunks(ds, f) : RawChunks::no;
      m.schema.fields.push_back(std::move(f));
      m.datasets.push_back(std::move(ds));
      m.offsets.push_back(offset);
      m.raw.push_back(raw);
    }
  }
  if (m.layout == Layout::train) {
    m.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m.fd < 0) fail<IoError>("{}: cannot open: {}", m.name, std::strerror(errno));
  }
}

StoreReader::~StoreReader() = default;

const fs::path& StoreReader::path() const {
  return impl_->path;
}
const Schema& StoreReader::schema() const {
  return impl_->schema;
}
Layout StoreReader::layout() const {
  return impl_->layout;
}
std::int64_t StoreReader::format_version() const {
  return impl_->version;
}
std::size_t StoreReader::size() const {
  return impl_->n;
}
const std::vector<std::string>& StoreReader::ids() const {
  return impl_->ids;
}
const std::vector<std::uint8_t>& StoreReader::splits() const {
  return impl_->splits;
}
const std::map<std::string, std::string>& StoreReader::attributes() const {
  return impl_->attributes;
}

std::optional<std::size_t> StoreReader::find(const std::string& id) const {
  auto it = impl_->by_id.find(id);
  if (it == impl_->by_id.end()) return std::nullopt;
  return it->second;
}

std::size_t StoreReader::index(const std::string& id) const {
  if (auto i = find(id)) return *i;
  fail<InputError>("{}: no example with id '{}'", impl_->name, id);
}

std::vector<std::size_t> StoreReader::indices(const std::string& split) const {
  const std::uint8_t code = split_code(split);
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < impl_->n; ++i) {
    if (impl_->splits[i] == code) out.push_back(i);
  }
  return out;
}

std::map<std::string, std::size_t> StoreReader::split_counts() const {
  std::map<std::string, std::size_t> out;
  const auto& names = split_names();
  for (auto s : impl_->splits) out[s < names.size() ? names[s] : fmt::format("code {}", s)]++;
  return out;
}

void StoreReader::read(const std::string& field, std::size_t begin, std::size_t count, void* dst) const {
  const auto& m = *impl_;
  std::size_t k = 0;
  const Field& f = m.fixed_field(field, k);
  if (begin > m.n || count > m.n - begin) {
    fail<InputError>("{}: examples [{}, {}) of '{}' requested, the store has {}", m.name, begin, begin + count, field,
                     m.n);
  }
  if (count == 0) return;
  const std::size_t bytes = f.example_bytes();
  if (m.layout == Layout::train) {
    auto* out = static_cast<char*>(dst);
    std::size_t left = count * bytes;
    auto offset = static_cast<off_t>(m.offsets[k] + begin * bytes);
    while (left > 0) {
      const ssize_t got = ::pread(m.fd, out, left, offset);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail<IoError>("{}: read of '{}' failed (file truncated?)", m.name, field);
      out += got;
      offset += got;
      left -= static_cast<std::size_t>(got);
    }
    return;
  }
  if (m.raw[k] != RawChunks::no) {
    read_raw_chunks(k, begin, count, dst);
    return;
  }
  // HDF5 is not thread-safe here: one thread at a time (the lock outlives the handles below).
  std::lock_guard<std::mutex> lock(h5::library_mutex());
  h5::Handle space(H5Dget_space(m.datasets[k]));
  std::vector<hsize_t> start(f.shape.size() + 1, 0), block(f.shape.size() + 1);
  start[0] = begin;
  block[0] = count;
  for (std::size_t d = 0; d < f.shape.size(); ++d) block[d + 1] = static_cast<hsize_t>(f.shape[d]);
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr);
  h5::Handle mspace(H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr));
  h5::Handle mtype = h5::memory_type(f.type);
  h5::check(H5Dread(m.datasets[k], mtype, mspace, space, H5P_DEFAULT, dst),
            fmt::format("{}: read '{}'", m.name, field));
}

// The archive layout's examples one chunk at a time: the compressed bytes are read under HDF5's
// lock, and inflated and unshuffled after it is released, so that threads decode in parallel.
void StoreReader::read_raw_chunks(std::size_t k, std::size_t begin, std::size_t count, void* dst) const {
  const auto& m = *impl_;
  const Field& f = m.schema.fields[k];
  const std::size_t bytes = f.example_bytes();
  const std::size_t width = element_size(f.type);
  const auto kind = m.raw[k];
  thread_local std::vector<std::byte> packed, plain;
  std::vector<hsize_t> offset(f.shape.size() + 1, 0);
  for (std::size_t i = 0; i < count; ++i) {
    auto* out = static_cast<std::byte*>(dst) + i * bytes;
    offset[0] = begin + i;
    std::uint32_t filter_mask = 0;
    {
      std::lock_guard<std::mutex> lock(h5::library_mutex());
      hsize_t stored = 0;
      h5::check(H5Dget_chunk_storage_size(m.datasets[k], offset.data(), &stored),
                fmt::format("{}: '{}' of example {}", m.name, f.name, m.ids[begin + i]));
      if (stored == 0) {
        fail<InputError>("{}: '{}' of example {} was never written (an unfinished store?)", m.name, f.name,
                         m.ids[begin + i]);
      }
      std::byte* target = out;
      if (kind != RawChunks::plain) {
        packed.resize(stored);
        target = packed.data();
      } else if (stored != bytes) {
        fail<InputError>("{}: '{}' of example {} holds {} bytes, expected {}", m.name, f.name, m.ids[begin + i], stored,
                         bytes);
      }
      h5::check(H5Dread_chunk(m.datasets[k], H5P_DEFAULT, offset.data(), &filter_mask, target),
                fmt::format("{}: read '{}' of example {}", m.name, f.name, m.ids[begin + i]));
    }
    if (kind == RawChunks::plain) continue;
    // A set bit in filter_mask: that filter was skipped when the chunk was written.
    const bool shuffled = kind == RawChunks::shuffle_deflate && !(filter_mask & 1u) && width > 1;
    const bool deflated = !(filter_mask & (kind == RawChunks::shuffle_deflate ? 2u : 1u));
    const std::byte* src = packed.data();
    std::size_t src_size = packed.size();
    std::byte* inflated = shuffled ? (plain.resize(bytes), plain.data()) : out;
    if (deflated) {
      if (!inflate_exact(src, src_size, inflated, bytes)) {
        fail<InputError>("{}: '{}' of example {}: the compressed chunk is corrupt", m.name, f.name, m.ids[begin + i]);
      }
    } else {
      if (src_size != bytes) {
        fail<InputError>("{}: '{}' of example {} holds {} bytes, expected {}", m.name, f.name, m.ids[begin + i],
                         src_size, bytes);
      }
      std::memcpy(inflated, src, bytes);
    }
    if (shuffled) {  // undo HDF5's byte shuffle: byte b of element e is at b * count + e
      const std::size_t elements = bytes / width;
      for (std::size_t b = 0; b < width; ++b) {
        const std::byte* from = plain.data() + b * elements;
        for (std::size_t e = 0; e < elements; ++e) out[e * width + b] = from[e];
      }
    }
  }
}

bool StoreReader::decodes_chunks(const std::string& field) const {
  return impl_->raw[impl_->schema.index(field)] != RawChunks::no;
}

std::vector<double> StoreReader::read_numbers(const std::string& field) const {
  const auto& m = *impl_;
  std::size_t k = 0;
  const Field& f = m.fixed_field(field, k);
  if (!f.shape.empty()) fail<Error>("{}: field '{}' is not a scalar", m.name, field);
  std::vector<double> out(m.n);
  if (m.n) {
    h5::check(H5Dread(m.datasets[k], H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
              fmt::format("{}: read '{}'", m.name, field));
  }
  return out;
}

std::vector<std::string> StoreReader::read_strings(const std::string& field) const {
  const auto& m = *impl_;
  const std::size_t k = m.schema.index(field);
  if (m.schema.fields[k].type != ElementType::string)
    fail<Error>("{}: field '{}' does not hold strings", m.name, field);
  return h5::read_strings(m.datasets[k], m.name + ":" + m.schema.fields[k].path());
}

std::vector<SourceFile> StoreReader::source_files() const {
  const auto& m = *impl_;
  std::vector<SourceFile> out;
  if (H5Lexists(m.file, "/provenance/path", H5P_DEFAULT) <= 0) return out;
  h5::Handle p(H5Dopen2(m.file, "/provenance/path", H5P_DEFAULT));
  h5::Handle s(H5Dopen2(m.file, "/provenance/size", H5P_DEFAULT));
  h5::Handle c(H5Dopen2(m.file, "/provenance/crc32", H5P_DEFAULT));
  const auto paths = h5::read_strings(p, m.name + ":/provenance/path");
  std::vector<std::uint64_t> sizes(paths.size());
  std::vector<std::uint32_t> crcs(paths.size());
  if (!paths.empty()) {
    h5::check(H5Dread(s, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, sizes.data()), "read /provenance/size");
    h5::check(H5Dread(c, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, crcs.data()), "read /provenance/crc32");
  }
  for (std::size_t i = 0; i < paths.size(); ++i) out.push_back({paths[i], sizes[i], crcs[i]});
  return out;
}

std::map<std::string, std::map<std::string, StoreReader::BandStats>> StoreReader::stats() const {
  const auto& m = *impl_;
  std::map<std::string, std::map<std::string, BandStats>> out;
  for (const auto& field : m.list("/stats")) {
    const std::string fpath = "/stats/" + field;
    for (const auto& group : m.list(fpath.c_str())) {
      const std::string gpath = fpath + "/" + group;
      BandStats b;
      for (auto [name, vec] : {std::pair<const char*, std::vector<double>*>{"mean", &b.mean}, {"std", &b.std}}) {
        h5::Handle ds(h5::check(H5Dopen2(m.file, (gpath + "/" + name).c_str(), H5P_DEFAULT), gpath));
        h5::Handle sp(H5Dget_space(ds));
        vec->resize(static_cast<std::size_t>(H5Sget_simple_extent_npoints(sp)));
        if (!vec->empty()) h5::check(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, vec->data()), gpath);
      }
      h5::Handle g(H5Gopen2(m.file, gpath.c_str(), H5P_DEFAULT));
      b.count = static_cast<std::uint64_t>(h5::read_int_attribute(g, "count", gpath));
      out[group][field] = std::move(b);
    }
  }
  return out;
}

}  // namespace sbench::store
