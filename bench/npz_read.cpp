// Reading DHS-like examples (one np.savez_compressed npz of 8 x 255 x 255 float32 each): sbench's
// NpzReader with 1 and 2 threads against numpy's np.load, on the same files in one run.
//
// usage: sbench_bench_npz [N] [REPEATS]   (defaults 200 examples, best of 3)
#include <fmt/format.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <unistd.h>
#include "bench_util.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sbench/core/npy.hpp"

namespace {

using sbench::bench::run;
using sbench::bench::seconds_since;

double read_all(const std::vector<std::filesystem::path>& files, int threads, double& checksum) {
  oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(threads));
  std::vector<float> first(files.size());
  // One reusable array per thread, as a data loader keeps its buffers.
  oneapi::tbb::enumerable_thread_specific<sbench::NpyArray> buffers;
  const auto t0 = std::chrono::steady_clock::now();
  oneapi::tbb::parallel_for(std::size_t{0}, files.size(), [&](std::size_t i) {
    sbench::NpzReader npz(files[i]);
    auto& x = buffers.local();
    npz.read("x", x);
    if (x.shape() != std::vector<std::int64_t>{8, 255, 255}) throw std::runtime_error("unexpected shape");
    first[i] = x.data<float>()[(7 * 255 + 127) * 255 + 127];  // the value numpy_load.py sums
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  checksum = 0;
  for (float v : first) checksum += v;
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 200;
  const int repeats = argc > 2 ? std::stoi(argv[2]) : 3;
  const std::string python = SBENCH_PYTHON;
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("sbench-bench-npz-{}", n);
  if (!std::filesystem::exists(dir / fmt::format("{:06d}.npz", n - 1))) {
    std::filesystem::create_directories(dir);
    run(fmt::format("{} {}/make_npz.py {} {}", python, SBENCH_BENCH_DIR, dir.string(), n));
  }
  std::vector<std::filesystem::path> files;
  for (int i = 0; i < n; ++i) files.push_back(dir / fmt::format("{:06d}.npz", i));
  {
    std::ofstream list(dir / "files.txt");
    for (const auto& f : files) list << f.string() << '\n';
  }

  // numpy first (it warms the page cache itself), then ours, warm-up pass included.
  const std::string np_out =
      run(fmt::format("{} {}/numpy_load.py {} {}", python, SBENCH_BENCH_DIR, (dir / "files.txt").string(), repeats));
  int np_n = 0;
  double np_seconds = 0, np_checksum = 0;
  if (std::sscanf(np_out.c_str(), "%d %lf %lf", &np_n, &np_seconds, &np_checksum) != 3) {
    throw std::runtime_error("unexpected numpy_load.py output: " + np_out);
  }
  double checksum = 0;
  read_all(files, 2, checksum);
  double best1 = 1e9, best2 = 1e9;
  for (int r = 0; r < repeats; ++r) {
    best1 = std::min(best1, read_all(files, 1, checksum));
    best2 = std::min(best2, read_all(files, 2, checksum));
  }
  if (std::abs(checksum - np_checksum) > 1e-3 * std::max(1.0, std::abs(np_checksum))) {
    throw std::runtime_error(fmt::format("checksums differ: ours {} numpy {}", checksum, np_checksum));
  }
  const double mb = static_cast<double>(n) * 8 * 255 * 255 * 4 / 1e6;
  fmt::print("reading {} npz examples (8x255x255 float32, np.savez_compressed), best of {}\n", n, repeats);
  fmt::print("{:<28} {:>12} {:>14} {:>10}\n", "method", "examples/s", "MB/s (decoded)", "vs numpy");
  const double np_rate = n / np_seconds;
  for (auto [name, seconds] : {std::pair<const char*, double>{"numpy np.load (1 process)", np_seconds},
                               {"sbench NpzReader, 1 thread", best1},
                               {"sbench NpzReader, 2 threads", best2}}) {
    fmt::print("{:<28} {:>12.1f} {:>14.1f} {:>9.2f}x\n", name, n / seconds, mb / seconds, (n / seconds) / np_rate);
  }
  return 0;
}
