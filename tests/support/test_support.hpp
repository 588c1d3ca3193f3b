// Helpers shared by the test programs: temporary folders, running processes (the sbench CLI,
// Debian's python3 with numpy as an independent reference) and reading files.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sbench::test {

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH when it has no '/') with extra environment variables.
ProcessResult run_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});

// Starts argv[0] without waiting, stdout and stderr to the given files; returns its pid.
int start_process(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path);
// Waits for a started process; its exit code, or 128 + signal.
int wait_process(int pid);

// The sbench executable under test.
std::string sbench_exe();
ProcessResult run_sbench(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

// Starts `sbench ARGS --threads 1` (ARGS as run_sbench takes them, the last one the output store),
// SIGKILLs it once `journaled` examples are in the store's journal, checks that it left no store,
// resumes it (ARGS --resume) and checks with compare_stores.py that the result equals `complete`,
// the store of an uninterrupted run. Failures fail the calling test.
void kill_resume_and_compare(const std::vector<std::string>& args, const std::filesystem::path& complete,
                             int journaled = 32);

// Runs `sbench ARGS --shard K/N` (ARGS as run_sbench takes them, the last one the output store) for
// each K of `order` (N = its size) into DIR/shardK.h5, merges them in that order into
// DIR/merged.h5 with `sbench store merge`, and checks with compare_stores.py that the merge equals
// `reference`, the single run's store. Failures fail the calling test.
void shards_merge_and_compare(std::vector<std::string> args, const std::filesystem::path& dir,
                              const std::vector<int>& order, const std::filesystem::path& reference);

// Debian's python3 (numpy, h5py, ... load only there) and the folder of the test scripts.
std::string python();
std::filesystem::path python_script(const std::string& name);
// Runs a script of tests/python; a non-zero exit fails the calling test with its output.
ProcessResult run_python(const std::string& script, const std::vector<std::string>& args);

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& content);

}  // namespace sbench::test
