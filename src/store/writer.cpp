#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "h5.hpp"
#include "layout.hpp"
#include "sbench/core/atomic_file.hpp"
#include "sbench/core/version.hpp"
#include "sbench/store/store.hpp"

namespace sbench::store {

namespace fs = std::filesystem;

SourceFile describe_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail<IoError>("{}: cannot open", path.string());
  // One buffer per thread, not zero-filled: a fresh megabyte per file costs more than its CRC.
  constexpr std::size_t kBuffer = 1 << 20;
  thread_local std::unique_ptr<Bytef[]> buf(new Bytef[kBuffer]);
  uLong crc = crc32_z(0L, Z_NULL, 0);
  std::uint64_t size = 0;
  for (;;) {
    const ssize_t got = ::read(fd, buf.get(), kBuffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      ::close(fd);
      fail<IoError>("{}: read error", path.string());
    }
    if (got == 0) break;
    crc = crc32_z(crc, buf.get(), static_cast<std::size_t>(got));
    size += static_cast<std::uint64_t>(got);
  }
  ::close(fd);
  return {path.string(), size, static_cast<std::uint32_t>(crc)};
}

namespace {

constexpr const char* kJournalMagic = "sbench-journal 1";

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// CRC-32 of the fixed-size fields of an example, in field order.
std::uint32_t example_crc(const Schema& schema, const std::vector<const std::byte*>& data) {
  uLong crc = crc32_z(0L, Z_NULL, 0);
  for (std::size_t i = 0; i < schema.fields.size(); ++i) {
    const std::size_t n = schema.fields[i].example_bytes();
    if (n) crc = crc32_z(crc, reinterpret_cast<const Bytef*>(data[i]), n);
  }
  return static_cast<std::uint32_t>(crc);
}

void check_journal_text(std::string_view text, std::string_view what) {
  if (text.find_first_of("\t\n\r") != std::string_view::npos) {
    fail<InputError>("{} '{}' contains a tab or line break", what, text);
  }
}

// A zlib stream (what HDF5's deflate filter writes) of data into out. Each thread keeps its
// deflate state: compress2() would allocate and free about 270 KB per call, which costs more than
// the compression itself where first touch of memory is slow.
void deflate_chunk(const std::byte* data, std::size_t size, int level, std::vector<std::byte>& out) {
  struct Stream {
    z_stream z{};
    int level = -1;
    ~Stream() {
      if (level >= 0) deflateEnd(&z);
    }
  };
  thread_local Stream s;
  if (s.level != level) {
    if (s.level >= 0) deflateEnd(&s.z);
    s.z = z_stream{};
    s.level = deflateInit(&s.z, level) == Z_OK ? level : -1;
    if (s.level < 0) {
      out.clear();
      return;
    }
  } else {
    deflateReset(&s.z);
  }
  out.resize(deflateBound(&s.z, static_cast<uLong>(size)));
  s.z.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(data));
  s.z.avail_in = static_cast<uInt>(size);
  s.z.next_out = reinterpret_cast<Bytef*>(out.data());
  s.z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&s.z, Z_FINISH) != Z_STREAM_END) {
    out.clear();
    return;
  }
  out.resize(s.z.total_out);
}

}  // namespace

struct StoreWriter::Impl {
  fs::path final_path;
  fs::path partial;
  fs::path journal_path;
  Schema schema;
  WriterOptions opt;
  h5::Handle file;
  std::vector<h5::Handle> datasets;  // one per schema field
  std::vector<h5::Handle> memtypes;
  h5::Handle id_ds, split_ds;
  std::size_t n = 0;
  std::size_t resumed = 0;
  std::unordered_set<std::string> ids;
  std::vector<std::string> pending;  // journal lines waiting for the next flush
  std::size_t pending_examples = 0;
  std::vector<SourceFile> files;
  std::unordered_map<std::string, std::size_t> file_index;  // path -> position in files
  std::map<std::string, std::string> attributes;
  std::FILE* journal = nullptr;
  bool finished = false;

  ~Impl() {
    datasets.clear();
    id_ds.reset();
    split_ds.reset();
    file.reset();
    if (journal) std::fclose(journal);
  }

  std::string journal_header() const {
    return fmt::format("{}\nschema\t{}\nsource\t{}\nlayout\t{}\n", kJournalMagic, schema.digest(), opt.source,
                       to_string(opt.layout));
  }

  void open_journal_for_append() {
    journal = std::fopen(journal_path.c_str(), "ab");
    if (!journal) fail<IoError>("{}: cannot open the journal for writing", journal_path.string());
  }

  void start_fresh() {
    std::error_code ignored;
    if (fs::exists(partial) && !opt.resume) {
      spdlog::warn("{}: replacing the partial store of an earlier run (use --resume to continue it)", partial.string());
    }
    fs::remove(partial, ignored);
    fs::remove(journal_path, ignored);
    h5::Handle fcpl(H5Pcreate(H5P_FILE_CREATE));
    file = h5::Handle(h5::check(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT),
                                fmt::format("{}: cannot create the store", partial.string())));
    layout::create_groups(file);
    for (const auto& f : schema.fields) {
      datasets.push_back(layout::create_extendible(file, f, opt.layout == Layout::archive ? opt.deflate_level : 0));
    }
    const Field id_field{Group::meta, "id", ElementType::string, {}, {}, "", ""};
    const Field split_field{Group::meta, "split", ElementType::uint8, {}, {}, "", ""};
    id_ds = layout::create_extendible(file, id_field, opt.layout == Layout::archive ? opt.deflate_level : 0);
    split_ds = layout::create_extendible(file, split_field, opt.layout == Layout::archive ? opt.deflate_level : 0);
    h5::write_attribute(split_ds, "names", split_names());
    write_root_attributes();
    {
      std::ofstream j(journal_path, std::ios::binary | std::ios::trunc);
      j << journal_header();
      if (!j) fail<IoError>("{}: cannot write the journal", journal_path.string());
    }
    open_journal_for_append();
  }

  // Continues NAME.partial when its journal matches this run and every journaled example reads
  // back with its checksum; false (start over) when the partial store cannot be trusted.
  bool try_resume() {
    if (!fs::exists(partial) || !fs::exists(journal_path)) return false;
    std::ifstream in(journal_path, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string text = buf.str();
    const std::string header = journal_header();
    if (text.rfind(header, 0) != 0) {
      fail<UsageError>(
          "{}: the interrupted run used other options, sources or task (its journal {} does not match); delete "
          "it or run without --resume",
          partial.string(), journal_path.string());
    }
    // Complete lines only: a kill can cut the last one.
    std::vector<std::pair<std::string, std::uint32_t>> examples;
    std::vector<SourceFile> pending_files;
    std::vector<SourceFile> kept_files;
    std::size_t pos = header.size();
    while (true) {
      const std::size_t end = text.find('\n', pos);
      if (end == std::string::npos) break;
      const std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      std::vector<std::string> parts;
      std::size_t s = 0;
      for (std::size_t t; (t = line.find('\t', s)) != std::string::npos; s = t + 1)
        parts.push_back(line.substr(s, t - s));
      parts.push_back(line.substr(s));
      if (parts[0] == "E" && parts.size() == 3) {
        examples.emplace_back(parts[1], static_cast<std::uint32_t>(std::stoul(parts[2], nullptr, 16)));
        kept_files.insert(kept_files.end(), pending_files.begin(), pending_files.end());
        pending_files.clear();
      } else if (parts[0] == "F" && parts.size() == 4) {
        pending_files.push_back(
            {parts[1], std::stoull(parts[2]), static_cast<std::uint32_t>(std::stoul(parts[3], nullptr, 16))});
      } else {
        spdlog::warn("{}: ignoring a damaged journal line", journal_path.string());
      }
    }
    auto give_up = [&](const std::string& why) {
      spdlog::warn("{}: cannot resume ({}); starting over", partial.string(), why);
      datasets.clear();
      id_ds.reset();
      split_ds.reset();
      file.reset();
      H5Eclear2(H5E_DEFAULT);
      return false;
    };
    const hid_t f = H5Fopen(partial.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return give_up("the partial store does not open");
    file = h5::Handle(f);
    for (const auto& field : schema.fields) {
      const hid_t d = H5Dopen2(file, field.path().c_str(), H5P_DEFAULT);
      if (d < 0) return give_up(fmt::format("{} is missing", field.path()));
      datasets.emplace_back(d);
    }
    id_ds = h5::Handle(H5Dopen2(file, "/meta/id", H5P_DEFAULT));
    split_ds = h5::Handle(H5Dopen2(file, "/meta/split", H5P_DEFAULT));
    if (!id_ds.valid() || !split_ds.valid()) return give_up("/meta/id or /meta/split is missing");
    std::vector<std::string> stored_ids;
    try {
      stored_ids = h5::read_strings(id_ds, "/meta/id");
    } catch (const Error& e) {
      return give_up(e.what());
    }
    if (stored_ids.size() < examples.size()) return give_up("fewer examples than the journal lists");
    Example ex(schema);
    std::vector<const std::byte*> ptrs(schema.fields.size());
    for (std::size_t i = 0; i < examples.size(); ++i) {
      if (stored_ids[i] != examples[i].first) return give_up(fmt::format("example {} is not {}", i, examples[i].first));
      for (std::size_t k = 0; k < schema.fields.size(); ++k) {
        if (schema.fields[k].example_bytes() == 0) continue;
        if (!layout::read_rows(datasets[k], schema.fields[k], i, 1, ex.bytes(k))) {
          return give_up(fmt::format("example {} does not read back", examples[i].first));
        }
        ptrs[k] = ex.bytes(k);
      }
      if (example_crc(schema, ptrs) != examples[i].second) {
        return give_up(fmt::format("example {} does not match its checksum", examples[i].first));
      }
    }
    // Drop whatever the interrupted run wrote after its last journaled flush.
    n = examples.size();
    for (auto& d : datasets) layout::set_rows(d, n);
    layout::set_rows(id_ds, n);
    layout::set_rows(split_ds, n);
    for (const auto& e : examples) ids.insert(e.first);
    files = kept_files;
    for (std::size_t i = 0; i < files.size(); ++i) file_index.emplace(files[i].path, i);
    resumed = n;
    // Rewrite the journal without any damaged tail, atomically.
    {
      AtomicFile j(journal_path);
      j.stream() << header;
      for (const auto& sf : files) j.stream() << fmt::format("F\t{}\t{}\t{:08x}\n", sf.path, sf.size, sf.crc32);
      for (const auto& e : examples) j.stream() << fmt::format("E\t{}\t{:08x}\n", e.first, e.second);
      j.commit();
    }
    open_journal_for_append();
    spdlog::info("{}: resuming after {} examples", partial.string(), n);
    return true;
  }

  void write_root_attributes() {
    h5::write_attribute(file, "sbench_format", kFormatVersion);
    h5::write_attribute(file, "task", schema.task);
    h5::write_attribute(file, "family", schema.family);
    h5::write_attribute(file, "tasks", schema.tasks);
    h5::write_attribute(file, "layout", to_string(opt.layout));
    h5::write_attribute(file, "sbench_version", version());
    h5::write_attribute(file, "command_line", opt.command_line);
    h5::write_attribute(file, "source", opt.source);
  }

  void flush() {
    if (pending.empty()) return;
    h5::check(H5Fflush(file, H5F_SCOPE_GLOBAL), fmt::format("{}: flush", partial.string()));
    for (const auto& line : pending) std::fputs(line.c_str(), journal);
    if (std::fflush(journal) != 0 || fsync(fileno(journal)) != 0) {
      fail<IoError>("{}: cannot write the journal", journal_path.string());
    }
    pending.clear();
    pending_examples = 0;
  }
};

StoreWriter::StoreWriter(fs::path path, Schema schema, WriterOptions options) : impl_(std::make_unique<Impl>()) {
  init_hdf5();
  auto& m = *impl_;
  m.final_path = std::move(path);
  m.partial = partial_path_for(m.final_path);
  m.journal_path = m.partial;
  m.journal_path += ".journal";
  m.schema = std::move(schema);
  m.opt = std::move(options);
  if (m.opt.batch == 0) m.opt.batch = 1;
  const auto parent = m.final_path.parent_path();
  if (!parent.empty() && !fs::is_directory(parent)) {
    fail<IoError>("{}: cannot write: directory '{}' does not exist", m.final_path.string(), parent.string());
  }
  for (const auto& f : m.schema.fields) {
    if (f.name == "id" || f.name == "split") fail<Error>("field names 'id' and 'split' are reserved");
  }
  for (const auto& f : m.schema.fields) {
    m.memtypes.push_back(h5::memory_type(f.type));
  }
  if (!(m.opt.resume && m.try_resume())) m.start_fresh();
}

StoreWriter::~StoreWriter() {
  if (impl_ && !impl_->finished) {
    try {
      impl_->flush();
    } catch (const std::exception& e) {
      spdlog::warn("{}", e.what());
    }
  }
}

const Schema& StoreWriter::schema() const {
  return impl_->schema;
}
std::size_t StoreWriter::size() const {
  return impl_->n;
}
std::size_t StoreWriter::resumed() const {
  return impl_->resumed;
}
bool StoreWriter::contains(const std::string& id) const {
  return impl_->ids.count(id) > 0;
}

void StoreWriter::add_source_file(SourceFile file) {
  check_journal_text(file.path, "source file path");
  // A resumed import records its shared inputs (the label file) again: once is enough, but a
  // file that changed since the interrupted run makes the two halves inconsistent.
  if (auto it = impl_->file_index.find(file.path); it != impl_->file_index.end()) {
    const SourceFile& known = impl_->files[it->second];
    if (known.size == file.size && known.crc32 == file.crc32) return;
    fail<UsageError>("{} changed since the interrupted run wrote {}; rerun without --resume", file.path,
                     impl_->partial.string());
  }
  impl_->file_index.emplace(file.path, impl_->files.size());
  impl_->pending.push_back(fmt::format("F\t{}\t{}\t{:08x}\n", file.path, file.size, file.crc32));
  impl_->files.push_back(std::move(file));
}

void StoreWriter::pack(Example& ex) const {
  const auto& m = *impl_;
  std::vector<const std::byte*> ptrs(m.schema.fields.size());
  ex.packed_.resize(m.schema.fields.size());
  for (std::size_t k = 0; k < m.schema.fields.size(); ++k) {
    const Field& f = m.schema.fields[k];
    ptrs[k] = ex.bytes(k);
    auto& out = ex.packed_[k];
    out.clear();
    // One chunk per example: compress it here, on the caller's thread.
    if (f.shape.empty() || f.type == ElementType::string || m.opt.layout != Layout::archive ||
        m.opt.deflate_level <= 0) {
      continue;
    }
    // As HDF5's filter pipeline would: byte shuffle, then deflate.
    thread_local std::vector<std::byte> shuffled;
    const std::size_t size = f.example_bytes();
    const std::size_t width = element_size(f.type);
    const std::byte* src = ex.bytes(k);
    if (width > 1) {
      shuffled.resize(size);
      const std::size_t count = size / width;
      for (std::size_t b = 0; b < width; ++b) {
        std::byte* dst = shuffled.data() + b * count;
        for (std::size_t e = 0; e < count; ++e) dst[e] = src[e * width + b];
      }
      src = shuffled.data();
    }
    deflate_chunk(src, size, m.opt.deflate_level, out);
    if (out.empty()) fail<Error>("example {}: zlib compression of '{}' failed", ex.id, f.name);
  }
  ex.crc_ = example_crc(m.schema, ptrs);
}

void StoreWriter::append(Example& ex) {
  auto& m = *impl_;
  if (m.finished) fail<Error>("{}: append after finish", m.final_path.string());
  if (&ex.schema() != &m.schema && ex.schema().digest() != m.schema.digest()) {
    fail<Error>("example {} was made for another schema", ex.id);
  }
  if (ex.id.empty()) fail<InputError>("an example has an empty id");
  check_journal_text(ex.id, "example id");
  if (!m.ids.insert(ex.id).second) fail<InputError>("duplicate example id '{}'", ex.id);
  if (!ex.crc_) pack(ex);
  for (std::size_t k = 0; k < m.schema.fields.size(); ++k) {
    const Field& f = m.schema.fields[k];
    if (f.type == ElementType::string) {
      const char* s = ex.text(k).c_str();
      layout::append_row(m.datasets[k], f, m.n, &s, m.memtypes[k]);
    } else if (!ex.packed_[k].empty()) {
      layout::append_chunk(m.datasets[k], f, m.n, ex.packed_[k]);
    } else {
      layout::append_row(m.datasets[k], f, m.n, ex.bytes(k), m.memtypes[k]);
    }
  }
  const std::uint32_t crc = *ex.crc_;
  ex.crc_.reset();
  const char* id = ex.id.c_str();
  static const Field id_field{Group::meta, "id", ElementType::string, {}, {}, "", ""};
  static const Field split_field{Group::meta, "split", ElementType::uint8, {}, {}, "", ""};
  const h5::Handle string_type = h5::memory_type(ElementType::string);
  layout::append_row(m.id_ds, id_field, m.n, &id, string_type);
  layout::append_row(m.split_ds, split_field, m.n, &ex.split, H5T_NATIVE_UINT8);
  ++m.n;
  m.pending.push_back(fmt::format("E\t{}\t{:08x}\n", ex.id, crc));
  if (++m.pending_examples >= m.opt.batch) m.flush();
}

void StoreWriter::set_attribute(const std::string& name, std::string value) {
  impl_->attributes[name] = std::move(value);
}

void StoreWriter::finish(const ProgressFn& progress) {
  auto& m = *impl_;
  if (m.finished) return;
  m.flush();
  // Provenance and attributes; an interrupted earlier finish may have written some already.
  layout::write_source_files(m.file, m.files);
  m.write_root_attributes();
  h5::write_attribute(m.file, "created", now_utc());
  for (const auto& [name, value] : m.attributes) h5::write_attribute(m.file, name.c_str(), value);
  h5::check(H5Fflush(m.file, H5F_SCOPE_GLOBAL), fmt::format("{}: flush", m.partial.string()));
  m.datasets.clear();
  m.id_ds.reset();
  m.split_ds.reset();
  m.file.reset();
  std::fclose(m.journal);
  m.journal = nullptr;
  std::error_code ec;
  if (m.opt.layout == Layout::train) {
    fs::path tmp = m.final_path;
    tmp += ".repack.partial";
    layout::copy_store(m.partial, tmp, Layout::train, 0, progress);
    fs::rename(tmp, m.final_path, ec);
    if (ec) fail<IoError>("{}: cannot rename to {}: {}", tmp.string(), m.final_path.string(), ec.message());
    fs::remove(m.partial, ec);
  } else {
    fs::rename(m.partial, m.final_path, ec);
    if (ec) fail<IoError>("{}: cannot rename to {}: {}", m.partial.string(), m.final_path.string(), ec.message());
  }
  fs::remove(m.journal_path, ec);
  m.finished = true;
}

void StoreWriter::discard() {
  auto& m = *impl_;
  m.pending.clear();
  m.datasets.clear();
  m.id_ds.reset();
  m.split_ds.reset();
  m.file.reset();
  if (m.journal) std::fclose(m.journal);
  m.journal = nullptr;
  std::error_code ignored;
  fs::remove(m.partial, ignored);
  fs::remove(m.journal_path, ignored);
  m.finished = true;
}

void repack(const fs::path& from, const fs::path& to, Layout layout_kind, int deflate_level,
            const ProgressFn& progress) {
  init_hdf5();
  if (fs::exists(to) && fs::equivalent(from, to))
    fail<UsageError>("repack: input and output are the same file: {}", from.string());
  const fs::path tmp = partial_path_for(to);
  try {
    layout::copy_store(from, tmp, layout_kind, layout_kind == Layout::archive ? deflate_level : 0, progress);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, to, ec);
  if (ec) fail<IoError>("{}: cannot rename to {}: {}", tmp.string(), to.string(), ec.message());
}

}  // namespace sbench::store
