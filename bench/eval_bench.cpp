// Scoring speed against scikit-learn, on the same files in one run: 1,000,000 regression
// predictions (r2, r2_score, rmse) and 200 masks of 224 x 224 (Dice, accuracy, precision,
// recall, pooled over all pixels). Both sides load the same npy files; load and metric times are
// reported apart. Results must agree to 1e-9.
//
// usage: sbench_bench_eval [REPEATS]   (default 3)
#include <fmt/format.h>
#include "bench_util.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "sbench/core/npy.hpp"
#include "sbench/eval/metrics.hpp"

namespace fs = std::filesystem;

namespace {

using sbench::bench::run;
using sbench::bench::seconds_since;
}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::stoi(argv[1]) : 3;
  const fs::path dir = fs::temp_directory_path() / "sbench-bench-eval";
  if (!fs::exists(dir / "mask_score.npy"))
    run(fmt::format("{} {}/sklearn_eval.py make {}", SBENCH_PYTHON, SBENCH_BENCH_DIR, dir.string()));
  double py[10];
  const std::string out =
      run(fmt::format("{} {}/sklearn_eval.py time {} {}", SBENCH_PYTHON, SBENCH_BENCH_DIR, dir.string(), repeats));
  if (std::sscanf(out.c_str(), "%lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", &py[0], &py[1], &py[2], &py[3], &py[4],
                  &py[5], &py[6], &py[7], &py[8], &py[9]) != 10) {
    throw std::runtime_error("unexpected output: " + out);
  }
  double best[3] = {1e30, 1e30, 1e30};
  double ours[7] = {};
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    const auto truth = sbench::read_npy(dir / "truth.npy").to_vector<double>();
    const auto pred = sbench::read_npy(dir / "pred.npy").to_vector<double>();
    const auto mt = sbench::read_npy(dir / "mask_truth.npy");
    const auto ms = sbench::read_npy(dir / "mask_score.npy");
    const double load = seconds_since(t0);
    auto t1 = std::chrono::steady_clock::now();
    ours[0] = sbench::eval::r2_pearson(pred, truth);
    ours[1] = sbench::eval::r2_score(pred, truth);
    ours[2] = sbench::eval::rmse(pred, truth);
    const double regression = seconds_since(t1);
    auto t2 = std::chrono::steady_clock::now();
    // As sbench eval scores masks: one pass to a binary confusion, every metric from it.
    const auto c = sbench::eval::binary_confusion(ms.data<float>(), mt.data<std::uint8_t>(), ms.size());
    ours[3] = sbench::eval::f1(c);  // Dice
    ours[4] = sbench::eval::accuracy(c);
    ours[5] = sbench::eval::precision(c);
    ours[6] = sbench::eval::recall(c);
    const double masks = seconds_since(t2);
    best[0] = std::min(best[0], load);
    best[1] = std::min(best[1], regression);
    best[2] = std::min(best[2], masks);
  }
  for (int k = 0; k < 7; ++k) {
    if (std::abs(ours[k] - py[3 + k]) > 1e-9)
      throw std::runtime_error(fmt::format("metric {} differs: {} vs {}", k, ours[k], py[3 + k]));
  }
  fmt::print("scoring 1,000,000 regression predictions and 200 masks of 224 x 224 (10.0 M pixels), best of {}\n",
             repeats);
  fmt::print("{:<44} {:>12} {:>12} {:>8}\n", "", "scikit-learn", "sbench", "speedup");
  const char* names[] = {"load the npy files", "r2, r2_score, rmse (1 M)",
                         "Dice, accuracy, precision, recall (10 M px)"};
  for (int k = 0; k < 3; ++k) {
    fmt::print("{:<44} {:>10.1f}ms {:>10.1f}ms {:>7.1f}x\n", names[k], py[k] * 1e3, best[k] * 1e3, py[k] / best[k]);
  }
  const double tp = py[1] + py[2], to = best[1] + best[2];
  fmt::print("{:<44} {:>10.1f}ms {:>10.1f}ms {:>7.1f}x\n", "metrics in all", tp * 1e3, to * 1e3, tp / to);
  return 0;
}
