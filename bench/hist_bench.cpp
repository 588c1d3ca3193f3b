// Crop-yield histograms (sbench::prepare::region_histograms + region_ndvi) over DIR/v.npy and
// DIR/c.npy written by bench/hist_numpy.py: region-years per second on 1 thread and on all the
// threads oneTBB gets; writes DIR/sb_h.npy for the comparison. usage: sbench_bench_hist DIR
#include <fmt/format.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "sbench/core/npy.hpp"
#include "sbench/prepare/histograms.hpp"

using namespace sbench;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: sbench_bench_hist DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const NpyArray v = read_npy(dir / "v.npy");
  const NpyArray c = read_npy(dir / "c.npy");
  const auto n = static_cast<std::size_t>(v.shape()[0]), steps = static_cast<std::size_t>(v.shape()[1]),
             bands = static_cast<std::size_t>(v.shape()[2]), pixels = static_cast<std::size_t>(v.shape()[3]);
  const auto* values = v.data<std::uint16_t>();
  const auto* crop = c.data<std::uint8_t>();
  const auto& r = prepare::crop_yield_bin_ranges();
  const prepare::HistogramSpec spec(std::vector<prepare::BinRange>(r.begin(), r.end()), 32);
  std::vector<double> out(n * 32 * steps * bands), ndvi(n * steps);
  auto region = [&](std::size_t g) {
    const std::uint16_t* vg = values + g * steps * bands * pixels;
    prepare::region_histograms(vg, steps, bands, pixels, crop + g * pixels, spec, out.data() + g * 32 * steps * bands);
    prepare::region_ndvi(vg, steps, bands, pixels, crop + g * pixels, 0, 1, ndvi.data() + g * steps);
  };
  auto run = [&](int threads) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    const auto t0 = std::chrono::steady_clock::now();
    tbb::parallel_for(std::size_t{0}, n, region);
    return static_cast<double>(n) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  run(1);  // warm-up: first touch of the outputs
  const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const double one = run(1), many = run(all);
  write_npy(dir / "sb_h.npy", NpyArray::from({static_cast<std::int64_t>(n), 32, static_cast<std::int64_t>(steps),
                                              static_cast<std::int64_t>(bands)},
                                             out));
  std::cout << fmt::format("{:.3f} {:.3f} {}\n", one, many, all);
  return 0;
}
