#include "sbench/core/atomic_file.hpp"

#include <system_error>

#include "sbench/core/error.hpp"

namespace sbench {

std::filesystem::path partial_path_for(const std::filesystem::path& final_path) {
  std::filesystem::path partial = final_path;
  partial += ".partial";
  return partial;
}

AtomicFile::AtomicFile(std::filesystem::path final_path)
    : final_(std::move(final_path)), partial_(partial_path_for(final_)) {
  if (final_.empty()) fail<UsageError>("empty output path");
  const auto parent = final_.parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent)) {
    fail<IoError>("{}: cannot write: directory '{}' does not exist", final_.string(), parent.string());
  }
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  if (out_.is_open()) out_.close();
  std::error_code ignored;
  std::filesystem::remove(partial_, ignored);
}

std::ostream& AtomicFile::stream() {
  if (committed_) fail<Error>("{}: written to after commit", final_.string());
  if (!out_.is_open()) {
    out_.open(partial_, std::ios::binary | std::ios::trunc);
    if (!out_) fail<IoError>("{}: cannot open for writing", partial_.string());
  }
  return out_;
}

void AtomicFile::commit() {
  if (committed_) return;
  if (out_.is_open()) {
    out_.flush();
    const bool ok = static_cast<bool>(out_);
    out_.close();
    if (!ok || out_.fail()) fail<IoError>("{}: write failed (disk full?)", partial_.string());
  }
  if (!std::filesystem::exists(partial_)) fail<IoError>("{}: nothing was written", partial_.string());
  std::error_code ec;
  std::filesystem::rename(partial_, final_, ec);
  if (ec) fail<IoError>("{}: cannot rename to {}: {}", partial_.string(), final_.string(), ec.message());
  committed_ = true;
}

}  // namespace sbench
