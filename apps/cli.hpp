// What every subcommand of the sbench CLI shares. Each subcommand lives in its own file
// (cmd_*.cpp): it declares its options on a CLI11 subcommand and sets the action that main
// runs once parsing and logging are set up.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "sbench/core/progress.hpp"
#include "sbench/core/tasks.hpp"

namespace sbench::app {

struct Context {
  int verbosity = 0;  // -v count
  bool quiet = false;
  std::string datasets_dir;  // --datasets: a task registry folder instead of the built-in one
  std::string command_line;  // the whole command line, for provenance
  std::function<int()> action;

  // The registry: the built-in cards, or those of --datasets / SBENCH_DATASETS.
  const TaskRegistry& registry();
  // A terminal bar on stderr, silent with -q or when stderr is not a terminal.
  ProgressFn progress();

 private:
  std::unique_ptr<TaskRegistry> loaded_;
  std::unique_ptr<TerminalBar> bar_;
};

void add_tasks_command(CLI::App& app, Context& ctx);
void add_doctor_command(CLI::App& app, Context& ctx);
void add_import_command(CLI::App& app, Context& ctx);
void add_inspect_command(CLI::App& app, Context& ctx);
void add_store_command(CLI::App& app, Context& ctx);
void add_eval_command(CLI::App& app, Context& ctx);
void add_train_command(CLI::App& app, Context& ctx);
void add_tile_command(CLI::App& app, Context& ctx);
void add_catalog_command(CLI::App& app, Context& ctx);
void add_prepare_command(CLI::App& app, Context& ctx);
void add_synth_command(CLI::App& app, Context& ctx);
void add_demo_command(CLI::App& app, Context& ctx);
void add_street_command(CLI::App& app, Context& ctx);

}  // namespace sbench::app
