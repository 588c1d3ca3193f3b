// sbench demo [--out DIR] [--n N] [--seed S]
//
// The end-to-end run on embedded synthetic data: synth -> prepare -> train -> predict -> eval ->
// report, for the poverty task (the official night-lights KNN and a small ResNet-18) and for brick
// kilns (a small ResNet-18). Each step is the sbench command a user would type, printed and then
// run by this same executable. A build without LibTorch runs the KNN half only.
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "sbench/core/error.hpp"

extern char** environ;

namespace sbench::app {

namespace {
namespace fs = std::filesystem;

struct DemoArgs {
  std::string out = "sbench-demo";
  int n = 36;
  std::uint64_t seed = 0;
};

// Runs `sbench args...` (this executable), its output to ours; an error names the failed step.
void step(const Context& ctx, const std::vector<std::string>& args) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) fail<IoError>("cannot find the sbench executable (/proc/self/exe): {}", ec.message());
  std::vector<std::string> argv = {exe.string()};
  if (ctx.quiet) argv.push_back("-q");
  for (int v = 0; v < ctx.verbosity; ++v) argv.push_back("-v");
  argv.insert(argv.end(), args.begin(), args.end());
  std::cout << fmt::format("\n$ sbench {}\n", fmt::join(args, " ")) << std::flush;
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, raw[0], nullptr, nullptr, raw.data(), environ) != 0) {
    fail<IoError>("cannot run {}", exe.string());
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail<IoError>("demo step `sbench {}`: cannot wait for it", fmt::join(args, " "));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail<Error>("demo step `sbench {}` failed (exit {})", fmt::join(args, " "),
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
}

int run_demo(Context& ctx, const DemoArgs& a) {
  const fs::path dir = a.out;
  const fs::path marker = dir / ".sbench-demo";
  std::error_code ec;
  if (fs::exists(dir) && !fs::is_empty(dir)) {
    // A folder of an earlier demo is replaced; anything else is left alone.
    if (!fs::exists(marker)) fail<UsageError>("--out {}: exists, is not empty and is not an sbench demo folder", a.out);
    fs::remove_all(dir, ec);
    if (ec) fail<IoError>("{}: cannot remove the earlier demo: {}", a.out, ec.message());
  }
  fs::create_directories(dir, ec);
  if (ec) fail<IoError>("{}: cannot create: {}", a.out, ec.message());
  { std::ofstream(marker) << "made by sbench demo; removed by the next one\n"; }
  const std::string raw = (dir / "raw").string(), store = (dir / "poverty.h5").string(), run = (dir / "knn").string(),
                    pred = (dir / "knn" / "test.csv").string();
  std::cout << fmt::format("sbench demo: the poverty task (DHS asset wealth) from synthetic raw imagery, in {}\n",
                           a.out);
  step(ctx, {"synth", "poverty", "--out", raw, "--n", std::to_string(a.n), "--seed", std::to_string(a.seed)});
  step(ctx, {"prepare", "poverty", "--labels", (dir / "raw" / "dhs_final_labels.csv").string(), "--imagery",
             (dir / "raw" / "landsat").string(), (dir / "raw" / "nightlights").string(), "--out", store});
  step(ctx, {"inspect", store});
  step(ctx, {"train", "poverty", "--store", store, "--out", run, "--set", "model=knn_nightlights"});
  step(ctx, {"predict", "--run", run, "--store", store, "--split", "test", "--out", pred});
  step(ctx, {"eval", "poverty", "--pred", pred, "--truth", store, "--out", (dir / "knn" / "metrics.json").string(),
             "--report", (dir / "report.html").string(), "--bootstrap", "1000"});
  std::vector<std::string> reports = {fs::absolute(dir / "report.html").string() + "  (poverty, night-lights KNN)"};
#ifdef SBENCH_WITH_TORCH
  // A ResNet-18 at a quarter of torchvision's width, a few epochs: minutes would be needed for more.
  const std::vector<std::string> small = {"--set", "width=16",       "--set", "batch_size=8",
                                          "--set", "warmup_steps=0", "--set", "seed=" + std::to_string(a.seed)};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), small.begin(), small.end());
    return args;
  };
  const fs::path resnet = dir / "resnet";
  step(ctx, with({"train", "poverty", "--store", store, "--out", resnet.string(), "--epochs", "6"}));
  step(ctx, {"predict", "--run", resnet.string(), "--store", store, "--split", "test", "--out",
             (resnet / "test.csv").string()});
  step(ctx, {"eval", "poverty", "--pred", (resnet / "test.csv").string(), "--truth", store, "--out",
             (resnet / "metrics.json").string(), "--report", (resnet / "report.html").string(), "--bootstrap", "1000"});
  reports.push_back(fs::absolute(resnet / "report.html").string() + "  (poverty, ResNet-18)");

  std::cout << "\nbrick kilns (Sentinel-2 tiles of Bangladesh) from synthetic raw imagery\n";
  const fs::path kraw = dir / "kiln-raw", kstore = dir / "brick_kiln.h5", kiln = dir / "kiln";
  step(ctx, {"synth", "brick_kiln", "--out", kraw.string(), "--seed", std::to_string(a.seed)});
  step(ctx, {"prepare", "brick_kiln", "--labels", (kraw / "kilns.csv").string(), "--imagery",
             (kraw / "sentinel2").string(), "--region", (kraw / "region.geojson").string(), "--out", kstore.string()});
  step(ctx, with({"train", "brick_kiln", "--store", kstore.string(), "--out", kiln.string(), "--epochs", "8"}));
  step(ctx, {"predict", "--run", kiln.string(), "--store", kstore.string(), "--split", "test", "--out",
             (kiln / "test.csv").string()});
  step(ctx, {"eval", "brick_kiln", "--pred", (kiln / "test.csv").string(), "--truth", kstore.string(), "--out",
             (kiln / "metrics.json").string(), "--report", (kiln / "report.html").string(), "--bootstrap", "1000"});
  reports.push_back(fs::absolute(kiln / "report.html").string() + "  (brick kilns, ResNet-18)");
#else
  std::cout << "\n(this sbench was built without LibTorch: the ResNet and brick-kiln parts of the demo are skipped)\n";
#endif
  std::cout << "\ndemo done: open the reports in a browser (they work offline):\n";
  for (const auto& r : reports) std::cout << "  " << r << '\n';
  return 0;
}
}  // namespace

void add_demo_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand(
      "demo",
      "End to end on synthetic data: synth, prepare, train, predict, eval and HTML reports (poverty, brick kilns)");
  cmd->add_option("--out", a->out, "Folder for everything the demo writes (replaced by the next demo)")
      ->capture_default_str();
  cmd->add_option("--n", a->n, "Synthetic DHS clusters")->check(CLI::Range(6, 100000))->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed of the synthetic data")->capture_default_str();
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_demo(ctx, *a); }; });
}

}  // namespace sbench::app
