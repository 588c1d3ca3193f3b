#include "test_support.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace sbench::test {

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() / ("sbench-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary folder");
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  TempDir tmp;
  const std::string out_path = (tmp / "stdout").string();
  const std::string err_path = (tmp / "stderr").string();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const auto key = entry.substr(0, entry.find('='));
    if (!env.count(key)) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ProcessResult result;
  if (rc != 0) {
    result.err = "cannot start " + argv[0] + ": " + std::strerror(rc);
    return result;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

int start_process(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argp[0], &actions, nullptr, argp.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

int wait_process(int pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string sbench_exe() {
  return SBENCH_EXE;
}

ProcessResult run_sbench(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {sbench_exe()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, env);
}

std::string python() {
  return SBENCH_PYTHON;
}

std::filesystem::path python_script(const std::string& name) {
  return std::filesystem::path(SBENCH_TEST_PYTHON_DIR) / name;
}

ProcessResult run_python(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {python(), python_script(script).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << script << " failed\nstdout:\n" << r.out << "\nstderr:\n" << r.err;
  return r;
}

void kill_resume_and_compare(const std::vector<std::string>& args, const std::filesystem::path& complete,
                             int journaled) {
  ASSERT_FALSE(args.empty());
  const std::filesystem::path out = args.back();
  std::vector<std::string> argv = {sbench_exe()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--threads", "1"});
  const std::string log = out.string() + ".killed";
  const int pid = start_process(argv, log + ".out", log + ".err");
  const std::filesystem::path journal = out.string() + ".partial.journal";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string j = std::filesystem::exists(journal) ? read_file(journal) : "";
    if (std::count(j.begin(), j.end(), 'E') >= journaled) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  ASSERT_EQ(wait_process(pid), 128 + SIGKILL) << "the run ended before it could be killed: " << read_file(log + ".err");
  EXPECT_FALSE(std::filesystem::exists(out)) << "a killed run must not leave a store that looks complete";
  std::vector<std::string> resume = args;
  resume.push_back("--resume");
  const auto r = run_sbench(resume);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  run_python("compare_stores.py", {complete.string(), out.string()});
}

void shards_merge_and_compare(std::vector<std::string> args, const std::filesystem::path& dir,
                              const std::vector<int>& order, const std::filesystem::path& reference) {
  ASSERT_FALSE(args.empty());
  std::vector<std::string> merge = {"-q", "store", "merge"};
  for (int k : order) {
    args.back() = (dir / ("shard" + std::to_string(k) + ".h5")).string();
    auto s = args;
    s.insert(s.end(), {"--shard", std::to_string(k) + "/" + std::to_string(order.size())});
    const auto r = run_sbench(s);
    ASSERT_EQ(r.exit_code, 0) << "shard " << k << ": " << r.err;
    merge.push_back(args.back());
  }
  merge.insert(merge.end(), {"--out", (dir / "merged.h5").string()});
  const auto m = run_sbench(merge);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  run_python("compare_stores.py", {reference.string(), (dir / "merged.h5").string()});
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace sbench::test
