// sbench: parse the command line, run one subcommand, map the outcome to an exit code
// (0 ok, 1 failure, 2 usage error).
#include <malloc.h>
#include <cstdio>
#include <cstdlib>

#include "cli.hpp"
#include "sbench/core/error.hpp"
#include "sbench/core/log.hpp"
#include "sbench/core/version.hpp"

namespace sbench::app {

const TaskRegistry& Context::registry() {
  if (loaded_) return *loaded_;
  std::string dir = datasets_dir;
  if (dir.empty()) {
    if (const char* env = std::getenv("SBENCH_DATASETS")) dir = env;
  }
  if (dir.empty()) return TaskRegistry::builtin();
  loaded_ = std::make_unique<TaskRegistry>(TaskRegistry::from_directory(dir));
  return *loaded_;
}

ProgressFn Context::progress() {
  if (!bar_) bar_ = std::make_unique<TerminalBar>(stderr, !quiet && TerminalBar::is_terminal(stderr));
  return bar_->callback();
}

namespace {

int run(int argc, char** argv) {
  Context ctx;
  CLI::App app{"sbench: prepare, train and evaluate the SustainBench tasks", "sbench"};
  app.set_version_flag("--version", "sbench " + version());
  app.require_subcommand(1);
  app.add_flag("-v,--verbose", ctx.verbosity, "More log output (-vv for trace)");
  app.add_flag("-q,--quiet", ctx.quiet, "Only errors; no progress bar");
  app.add_option("--datasets", ctx.datasets_dir,
                 "Task registry folder (tasks/*.json, bases/*.json) instead of the built-in cards; "
                 "also SBENCH_DATASETS")
      ->check(CLI::ExistingDirectory);

  add_tasks_command(app, ctx);
  add_doctor_command(app, ctx);
  add_import_command(app, ctx);
  add_inspect_command(app, ctx);
  add_store_command(app, ctx);
  add_eval_command(app, ctx);
  add_train_command(app, ctx);
#ifdef SBENCH_WITH_GDAL
  add_tile_command(app, ctx);
  add_catalog_command(app, ctx);
  add_prepare_command(app, ctx);
  add_synth_command(app, ctx);
  add_demo_command(app, ctx);
  add_street_command(app, ctx);
#endif
  for (int i = 0; i < argc; ++i) ctx.command_line += (i ? " " : "") + std::string(argv[i]);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::usage);
  }
  init_logging(ctx.quiet ? -1 : ctx.verbosity);
  try {
    return ctx.action ? ctx.action() : static_cast<int>(ExitCode::usage);
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    return static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", e.what());
    return static_cast<int>(ExitCode::failure);
  }
}

}  // namespace
}  // namespace sbench::app

int main(int argc, char** argv) {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  // Keep freed blocks for reuse instead of returning them to the kernel: tiles and batches of a
  // few MB are allocated again and again, and first touch of fresh pages costs about 2 s/GiB.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
#endif
  return sbench::app::run(argc, argv);
}
