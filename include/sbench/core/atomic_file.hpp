// Output files that never look complete when they are not: everything is written to
// NAME.partial and renamed to NAME by commit(). A writer that fails or is destroyed before
// commit() removes its partial file, and an older NAME stays untouched until the rename.
#pragma once

#include <filesystem>
#include <fstream>

namespace sbench {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path final_path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // The text/binary stream onto the partial file, opened on first use.
  std::ostream& stream();
  // Where writers that open files themselves (libzip, HDF5) must write.
  const std::filesystem::path& partial_path() const { return partial_; }
  const std::filesystem::path& final_path() const { return final_; }

  // Flushes, checks for write errors and renames the partial file to the final path.
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path partial_;
  std::ofstream out_;
  bool committed_ = false;
};

// NAME.partial for NAME.
std::filesystem::path partial_path_for(const std::filesystem::path& final_path);

}  // namespace sbench
