// sbench import TASK --from DIR --out STORE.h5 [--layout train|archive] [--resume] [--threads N]
//               [--other-classes-unlabelled]
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli.hpp"
#include "sbench/store/import.hpp"
#ifdef SBENCH_WITH_GDAL
#include "sbench/raster/image.hpp"
#endif

namespace sbench::app {

namespace {
struct ImportArgs {
  std::string task;
  std::string from;
  std::string out;
  std::string layout = "archive";
  bool resume = false;
  int threads = 0;
  bool other_classes_unlabelled = false;
};

int run_import(Context& ctx, const ImportArgs& a) {
  const TaskCard& task = ctx.registry().get(a.task);
  store::ImportOptions opt;
  opt.from = a.from;
  opt.out = a.out;
  opt.layout = store::parse_layout(a.layout);
  opt.resume = a.resume;
  opt.threads = a.threads;
  if (a.other_classes_unlabelled && task.id != "crop_type_africa")
    fail<UsageError>("--other-classes-unlabelled applies to crop_type_africa, not {}", task.id);
  opt.other_classes_unlabelled = a.other_classes_unlabelled;
  opt.command_line = ctx.command_line;
  opt.progress = ctx.progress();
#ifdef SBENCH_WITH_GDAL
  opt.read_image = raster::read_image_u8;
#endif
  const auto report = store::import_release(task, ctx.registry(), opt);
  std::cout << fmt::format("{}: {} examples ({} layout)\n", a.out, report.written, a.layout);
  for (const auto& [status, n] : report.counts) {
    std::string line = fmt::format("  {:<16} {:>8}", status, n);
    auto it = report.samples.find(status);
    if (it != report.samples.end()) line += fmt::format("   e.g. {}", fmt::join(it->second, ", "));
    std::cout << line << '\n';
  }
  return 0;
}
}  // namespace

void add_import_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand("import", "Import an official SustainBench release folder into a task store");
  cmd->add_option("task", a->task, "Task id or SDG code (the six DHS tasks share one store)")->required();
  cmd->add_option("--from", a->from, "The release folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", a->out, "The store to write (STORE.h5)")->required();
  cmd->add_option("--layout", a->layout, "archive (chunked, deflate) or train (contiguous, uncompressed)")
      ->check(CLI::IsMember({"archive", "train"}))
      ->capture_default_str();
  cmd->add_flag("--resume", a->resume, "Continue an interrupted import of the same release");
  cmd->add_option("--threads", a->threads, "Decoding threads (default: every core)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--other-classes-unlabelled", a->other_classes_unlabelled,
                "crop_type_africa: truth codes past the card's 4 classes (the legend's yam, intercrop, ...) become 0 "
                "(unlabelled) and are counted, instead of an error");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_import(ctx, *a); }; });
}

}  // namespace sbench::app
