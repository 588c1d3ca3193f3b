// Training against Python PyTorch 1.13.1 (Debian's python3-torch), in one run (docs/benchmarks.md):
//  1. loader samples/s of 8 x 255 x 255 DHS tiles (normalization, random flips and quarter turns,
//     batches of 32): sbench's TBB loader over a train-layout store with 1 and 2 threads, against a
//     PyTorch DataLoader with 2 worker processes reading the same examples as one npz each;
//  2. one training epoch of the same ResNet-18 (8 channels, width 64, Adam, MSE, batch 32) on the
//     same examples: `sbench train` (the second epoch's time from its log) against a Python loop
//     (its second epoch).
//
// usage: sbench_bench_train [CLUSTERS (200)] [LOADER PASSES (3)]
#include <fmt/format.h>
#include "bench_util.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sbench/core/tasks.hpp"
#include "sbench/store/import.hpp"
#include "sbench/store/store.hpp"
#include "tile_loader.hpp"

namespace fs = std::filesystem;

namespace {

using sbench::bench::run;
using sbench::bench::seconds_since;

}  // namespace

int main(int argc, char** argv) {
  const int clusters = argc > 1 ? std::stoi(argv[1]) : 200;
  const int passes = argc > 2 ? std::stoi(argv[2]) : 3;
  const fs::path dir = fs::temp_directory_path() / fmt::format("sbench-bench-train-{}", clusters);
  const fs::path release = dir / "release", store_path = dir / "train.h5";
  const auto& reg = sbench::TaskRegistry::builtin();
  const auto& task = reg.get("poverty");
  if (!fs::exists(store_path)) {
    fs::create_directories(dir);
    run(fmt::format("{} {}/dhs_release.py {} {} --texture", SBENCH_PYTHON, SBENCH_TEST_PYTHON_DIR, release.string(),
                    clusters));
    sbench::store::ImportOptions opt;
    opt.from = release;
    opt.out = store_path;
    opt.layout = sbench::store::Layout::train;
    opt.threads = 2;
    sbench::store::import_release(task, reg, opt);
  }
  const sbench::store::StoreReader store(store_path);
  const auto labels = store.read_numbers("asset_index");
  const auto years = store.read_numbers("year");
  std::vector<std::size_t> all, train;
  const auto train_rows = store.indices("train");
  for (std::size_t i = 0; i < store.size(); ++i) {
    if (!std::isfinite(labels[i])) continue;
    all.push_back(i);
    if (std::find(train_rows.begin(), train_rows.end(), i) != train_rows.end()) train.push_back(i);
  }
  auto write_list = [&](const fs::path& path, const std::vector<std::size_t>& rows) {
    std::ofstream out(path);
    for (auto i : rows) {
      const std::string& id = store.ids()[i];
      out << (release / id.substr(0, 10) / (id + ".npz")).string() << ' ' << fmt::format("{}", labels[i]) << ' '
          << static_cast<int>(years[i]) << '\n';
    }
  };
  write_list(dir / "all.txt", all);
  write_list(dir / "train.txt", train);

  // 1. Loaders.
  const auto inputs = sbench::learn::tile_inputs(task, store);
  const auto norm =
      sbench::learn::card_normalizer(task, store, inputs, std::vector<double>(8, 0.0), std::vector<double>(8, 1.0));
  const fs::path archive_path = dir / "archive.h5";
  if (!fs::exists(archive_path)) sbench::store::repack(store_path, archive_path, sbench::store::Layout::archive);
  const sbench::store::StoreReader archive(archive_path);
  auto loader_rate = [&](int threads, const sbench::store::StoreReader& from) {
    sbench::learn::LoaderOptions o;
    o.batch_size = 32;
    o.threads = threads;
    o.prefetch = 4;
    sbench::learn::TileLoader loader(from, inputs, norm, o);
    double best = 0, checksum = 0;
    for (int p = 0; p <= passes; ++p) {  // pass 0 warms the page cache
      const auto t0 = std::chrono::steady_clock::now();
      std::size_t n = 0;
      loader.pass(all, true, true, 1, p, [&](sbench::learn::TileBatch& b) {
        n += b.rows.size();
        checksum += b.x[0][7][127][127].item<double>();
        return true;
      });
      if (p > 0) best = std::max(best, static_cast<double>(n) / seconds_since(t0));
    }
    return best;
  };
  const double ours1 = loader_rate(1, store), ours2 = loader_rate(2, store);
  const double archive1 = loader_rate(1, archive), archive2 = loader_rate(2, archive);
  const double py_loader = std::stod(run(fmt::format("{} {}/train_torch.py loader {} 2 32 {}", SBENCH_PYTHON,
                                                     SBENCH_BENCH_DIR, (dir / "all.txt").string(), passes)));
  fmt::print(
      "loader: {} DHS examples of 8 x 255 x 255 float32, batches of 32, shuffled and augmented, best of {} passes\n",
      all.size(), passes);
  fmt::print("{:<52} {:>10} {:>8}\n", "", "samples/s", "vs peer");
  fmt::print("{:<52} {:>10.1f} {:>8}\n", "PyTorch DataLoader, 2 workers, one npz per example", py_loader, "1.00x");
  fmt::print("{:<52} {:>10.1f} {:>7.2f}x\n", "sbench TileLoader, train layout, 1 thread", ours1, ours1 / py_loader);
  fmt::print("{:<52} {:>10.1f} {:>7.2f}x\n", "sbench TileLoader, train layout, 2 threads", ours2, ours2 / py_loader);
  fmt::print("{:<52} {:>10.1f} {:>7.2f}x\n", "sbench TileLoader, archive layout (deflate), 1 thread", archive1,
             archive1 / py_loader);
  fmt::print("{:<52} {:>10.1f} {:>7.2f}x\n\n", "sbench TileLoader, archive layout (deflate), 2 threads", archive2,
             archive2 / py_loader);

  // 2. One epoch of ResNet-18 on the train split.
  const fs::path run_dir = dir / "run";
  fs::remove_all(run_dir);
  run(
      fmt::format("{} -q train poverty --store {} --out {} --epochs 2 --set batch_size=32 --set width=64 "
                  "--set warmup_steps=0 --set weight_decay=0 --set head_weight_decay=0 --set schedule=constant "
                  "--set patience=0 > /dev/null",
                  SBENCH_EXE, store_path.string(), run_dir.string()));
  std::ifstream log(run_dir / "log.jsonl");
  std::string line, last;
  while (std::getline(log, line)) {
    if (!line.empty()) last = line;
  }
  const double ours_epoch = nlohmann::json::parse(last).at("seconds").get<double>();
  const double py_epoch = std::stod(run(fmt::format("{} {}/train_torch.py epoch {} 2 32 2 2", SBENCH_PYTHON,
                                                    SBENCH_BENCH_DIR, (dir / "train.txt").string())));
  fmt::print("one epoch of ResNet-18 (8 channels, width 64, Adam, batch 32) on {} examples, 2 cores, second epoch\n",
             train.size());
  fmt::print("{:<52} {:>10} {:>10}\n", "", "seconds", "samples/s");
  fmt::print("{:<52} {:>10.2f} {:>10.2f}\n", "Python PyTorch 1.13.1, DataLoader 2 workers", py_epoch,
             static_cast<double>(train.size()) / py_epoch);
  fmt::print("{:<52} {:>10.2f} {:>10.2f}   ({:.2f}x Python's time)\n", "sbench train (LibTorch 1.13.1)", ours_epoch,
             static_cast<double>(train.size()) / ours_epoch, ours_epoch / py_epoch);
  return 0;
}
