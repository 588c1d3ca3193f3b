// The task store: one HDF5 file per prepared or imported task dataset (docs/store.md).
//
// StoreWriter appends examples crash-safely: it writes NAME.partial and a journal
// NAME.partial.journal of the examples flushed to disk, resumes from the journal after a crash,
// and makes NAME appear only when the store is complete. StoreReader gives random access by index
// and id, range reads and split indexes; in the train layout range reads bypass HDF5 (positioned
// reads of contiguous datasets), so any number of threads read in parallel without its lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sbench/core/progress.hpp"
#include "sbench/store/schema.hpp"

namespace sbench::store {

// The store format version, root attribute sbench_format.
inline constexpr std::int64_t kFormatVersion = 1;

struct WriterOptions {
  Layout layout = Layout::archive;
  int deflate_level = 4;     // archive layout: zlib level of every dataset
  std::size_t batch = 32;    // examples per flush to disk and journal entry
  bool resume = false;       // continue NAME.partial when its journal matches; else start over
  std::string source;        // what the store is made from (resume checks that it did not change)
  std::string command_line;  // provenance
};

// An input file the store was made from (provenance).
struct SourceFile {
  std::string path;
  std::uint64_t size = 0;
  std::uint32_t crc32 = 0;
};

// Size and CRC-32 of a file.
SourceFile describe_file(const std::filesystem::path& path);

class StoreWriter {
 public:
  StoreWriter(std::filesystem::path path, Schema schema, WriterOptions options);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  const Schema& schema() const;
  // Examples in the store so far (those resumed included).
  std::size_t size() const;
  // Examples that a resume found already written, in order.
  std::size_t resumed() const;
  bool contains(const std::string& id) const;

  // Optional, thread-safe, on any thread before append(): compresses the example's chunks and
  // computes its checksum, so that the serial append only writes bytes. Importers call it on
  // their worker threads; the archive layout's deflate then runs in parallel.
  void pack(Example& example) const;
  // Appends one example (using what pack() prepared, if it ran). An id already in the store is an
  // InputError.
  void append(Example& example);
  // Records an input file of the example appended next (kept through resumes).
  void add_source_file(SourceFile file);
  // A root attribute written when the store is finished (import counts, normalization, ...).
  void set_attribute(const std::string& name, std::string value);

  // Writes everything, converts to the train layout when asked, and renames NAME.partial to NAME.
  void finish(const ProgressFn& progress = {});
  // Gives up: removes NAME.partial and its journal (nothing worth resuming was written).
  void discard();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class StoreReader {
 public:
  explicit StoreReader(const std::filesystem::path& path);
  ~StoreReader();
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;

  const std::filesystem::path& path() const;
  const Schema& schema() const;
  Layout layout() const;
  std::int64_t format_version() const;
  std::size_t size() const;

  const std::vector<std::string>& ids() const;
  std::optional<std::size_t> find(const std::string& id) const;
  // Index of an id; an InputError naming the store and the id otherwise.
  std::size_t index(const std::string& id) const;
  const std::vector<std::uint8_t>& splits() const;
  // Indices of the examples of a split ("train", "val", "test", "none"), ascending.
  std::vector<std::size_t> indices(const std::string& split) const;
  std::map<std::string, std::size_t> split_counts() const;

  // Examples [begin, begin + count) of a fixed-size field into dst (count x example_bytes()).
  // Thread-safe. Train layout: positioned reads without HDF5; archive layout: each example's
  // compressed chunk read under HDF5's lock, inflated and unshuffled outside it (in parallel when
  // threads read at once); chunks of other filters or types go through H5Dread under the lock.
  void read(const std::string& field, std::size_t begin, std::size_t count, void* dst) const;
  // Whether read() decodes this field's chunks itself (archive layout, one chunk per example,
  // shuffle + deflate, deflate or no filter, native type) rather than through H5Dread.
  bool decodes_chunks(const std::string& field) const;
  // A scalar field of every example converted to double (NaN stays NaN).
  std::vector<double> read_numbers(const std::string& field) const;
  // A string field of every example.
  std::vector<std::string> read_strings(const std::string& field) const;

  // Root string attributes (provenance, counts, normalization), by name.
  const std::map<std::string, std::string>& attributes() const;
  std::vector<SourceFile> source_files() const;
  // Per-band statistics written by `sbench store stats`: group -> field -> (mean, std, count).
  struct BandStats {
    std::vector<double> mean;
    std::vector<double> std;
    std::uint64_t count = 0;  // values per band
  };
  std::map<std::string, std::map<std::string, BandStats>> stats() const;

 private:
  void read_raw_chunks(std::size_t field, std::size_t begin, std::size_t count, void* dst) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Copies a store into the other layout (or the same, to recompress). Writes to.partial, then renames.
void repack(const std::filesystem::path& from, const std::filesystem::path& to, Layout layout, int deflate_level = 4,
            const ProgressFn& progress = {});

// Joins the stores of `sbench prepare --shard K/N` (K = 0..N-1, each exactly once, any order)
// into the store a single run makes: examples in shard order, the prepare reports summed, the
// source without the shard. Stores of different tasks, schemas, sources or settings, a missing or
// repeated shard, or a store that is not a shard are InputErrors naming the file. Returns the
// number of examples.
std::size_t merge_shards(const std::vector<std::filesystem::path>& shards, const std::filesystem::path& out,
                         const std::string& command_line, const ProgressFn& progress = {});

}  // namespace sbench::store
