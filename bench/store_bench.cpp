// The task store against the official loaders' way of reading, in one run:
//  1. import throughput of a DHS-like release (np.savez_compressed npz per cluster), archive
//     layout with 1 and 2 threads, and train layout;
//  2. random reads of 8 x 255 x 255 examples: train layout (positioned reads, 1 and 2 threads),
//     archive layout (raw chunks inflated by the reader), and numpy's np.load of one npz per example.
//
// usage: sbench_bench_store [CLUSTERS] [READS]   (defaults 400 clusters, 400 random reads)
#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include "bench_util.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "sbench/core/tasks.hpp"
#include "sbench/store/import.hpp"
#include "sbench/store/store.hpp"

namespace fs = std::filesystem;
using sbench::store::Layout;

namespace {

using sbench::bench::run;
using sbench::bench::seconds_since;

double import(const fs::path& release, const fs::path& out, Layout layout, int threads) {
  const auto& reg = sbench::TaskRegistry::builtin();
  sbench::store::ImportOptions opt;
  opt.from = release;
  opt.out = out;
  opt.layout = layout;
  opt.threads = threads;
  const auto t0 = std::chrono::steady_clock::now();
  sbench::store::import_release(reg.get("poverty"), reg, opt);
  return seconds_since(t0);
}

// Best of `repeats` passes reading the examples in `order`, one at a time, on `threads` threads.
double read_pass(const sbench::store::StoreReader& r, const std::vector<std::size_t>& order, int threads, int repeats,
                 double& checksum) {
  oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(threads));
  std::vector<float> probe(order.size());
  double best = 1e30;
  for (int rep = 0; rep < repeats; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, order.size()),
                              [&](const oneapi::tbb::blocked_range<std::size_t>& range) {
                                std::vector<float> x(8 * 255 * 255);  // one buffer per task, reused
                                for (std::size_t k = range.begin(); k < range.end(); ++k) {
                                  r.read("x", order[k], 1, x.data());
                                  probe[k] = x[(7 * 255 + 127) * 255 + 127];
                                }
                              });
    best = std::min(best, seconds_since(t0));
  }
  checksum = 0;
  for (float v : probe) checksum += v;
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int clusters = argc > 1 ? std::stoi(argv[1]) : 400;
  const int reads = argc > 2 ? std::stoi(argv[2]) : 400;
  const fs::path dir = fs::temp_directory_path() / fmt::format("sbench-bench-store-{}", clusters);
  const fs::path release = dir / "release";
  if (!fs::exists(release / "expected.json")) {
    fs::create_directories(dir);
    run(fmt::format("{} {}/dhs_release.py {} {} --texture", SBENCH_PYTHON, SBENCH_TEST_PYTHON_DIR, release.string(),
                    clusters));
  }
  std::uint64_t release_bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(release)) {
    if (e.is_regular_file() && e.path().extension() == ".npz") release_bytes += e.file_size();
  }
  // Warm the page cache with the release, then import.
  import(release, dir / "warm.h5", Layout::archive, 2);
  const double t_a1 = import(release, dir / "archive1.h5", Layout::archive, 1);
  const double t_a2 = import(release, dir / "archive.h5", Layout::archive, 2);
  const double t_t2 = import(release, dir / "train.h5", Layout::train, 2);
  const sbench::store::StoreReader train(dir / "train.h5");
  const sbench::store::StoreReader archive(dir / "archive.h5");
  const std::size_t n = train.size();
  const double mb = static_cast<double>(n) * 8 * 255 * 255 * 4 / 1e6;

  fmt::print("import of {} DHS clusters ({:.0f} MB of npz, {:.0f} MB decoded), best single run\n", n,
             static_cast<double>(release_bytes) / 1e6, mb);
  fmt::print("{:<38} {:>11} {:>13}\n", "", "examples/s", "MB/s decoded");
  for (auto [name, t] : {std::pair<const char*, double>{"archive layout, 1 thread", t_a1},
                         {"archive layout, 2 threads", t_a2},
                         {"train layout, 2 threads (incl. repack)", t_t2}}) {
    fmt::print("{:<38} {:>11.1f} {:>13.1f}\n", name, static_cast<double>(n) / t, mb / t);
  }
  fmt::print("store sizes: archive {:.0f} MB, train {:.0f} MB\n\n",
             static_cast<double>(fs::file_size(dir / "archive.h5")) / 1e6,
             static_cast<double>(fs::file_size(dir / "train.h5")) / 1e6);

  // Random reads: the same seeded order for every reader.
  std::mt19937_64 rng(42);
  std::vector<std::size_t> order(static_cast<std::size_t>(reads));
  for (auto& i : order) i = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  {
    std::ofstream list(dir / "order.txt");
    for (auto i : order) {
      const std::string& id = train.ids()[i];
      list << (release / id.substr(0, 10) / (id + ".npz")).string() << '\n';
    }
  }
  const std::string np_out =
      run(fmt::format("{} {}/numpy_load.py {} 3", SBENCH_PYTHON, SBENCH_BENCH_DIR, (dir / "order.txt").string()));
  int np_n = 0;
  double np_seconds = 0, np_checksum = 0;
  if (std::sscanf(np_out.c_str(), "%d %lf %lf", &np_n, &np_seconds, &np_checksum) != 3) {
    throw std::runtime_error("unexpected numpy output: " + np_out);
  }
  double c_train1 = 0, c_train2 = 0, c_archive = 0, c_archive2 = 0;
  read_pass(train, order, 2, 1, c_train1);  // warm-up
  read_pass(archive, order, 1, 1, c_archive);
  const double t_train1 = read_pass(train, order, 1, 3, c_train1);
  const double t_train2 = read_pass(train, order, 2, 3, c_train2);
  const double t_archive = read_pass(archive, order, 1, 3, c_archive);
  const double t_archive2 = read_pass(archive, order, 2, 3, c_archive2);
  for (double c : {c_train1, c_train2, c_archive, c_archive2}) {
    if (std::abs(c - np_checksum) > 1e-3 * std::max(1.0, std::abs(np_checksum))) {
      throw std::runtime_error(fmt::format("checksum {} differs from numpy's {}", c, np_checksum));
    }
  }
  const double np_rate = reads / np_seconds;
  fmt::print("{} random reads of one 8x255x255 float32 example, best of 3 (page cache warm)\n", reads);
  fmt::print("{:<38} {:>11} {:>10}\n", "", "examples/s", "vs np.load");
  for (auto [name, t] : {std::pair<const char*, double>{"numpy np.load, one npz per example", np_seconds},
                         {"store, archive layout, 1 thread", t_archive},
                         {"store, archive layout, 2 threads", t_archive2},
                         {"store, train layout, 1 thread", t_train1},
                         {"store, train layout, 2 threads", t_train2}}) {
    fmt::print("{:<38} {:>11.1f} {:>9.1f}x\n", name, reads / t, (reads / t) / np_rate);
  }
  return 0;
}
