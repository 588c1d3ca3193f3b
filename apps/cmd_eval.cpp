// sbench eval TASK --pred FILE --truth STORE.h5 [--split test] --out metrics.json [--report report.html]
// [--bootstrap N]
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "cli.hpp"
#include "sbench/core/atomic_file.hpp"
#include "sbench/eval/evaluate.hpp"
#include "sbench/eval/report.hpp"
#include "sbench/store/store.hpp"

namespace sbench::app {

namespace {
struct EvalArgs {
  std::string task, pred, truth, out, report;
  eval::EvalOptions options;
};

int run_eval(Context& ctx, const EvalArgs& a) {
  const TaskCard& task = ctx.registry().get(a.task);
  // The chart libraries first: a missing one stops the run before anything is written.
  std::string vega_js;
  if (!a.report.empty()) {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    vega_js = eval::load_report_js(ec ? std::filesystem::current_path() : exe.parent_path());
  }
  store::StoreReader truth(a.truth);
  const eval::Submission sub = eval::read_submission(task, a.pred);
  const eval::EvalResult r = eval::evaluate(task, truth, sub, a.options);
  // Only a valid submission writes the metrics file (and the report), and only whole.
  AtomicFile out(a.out);
  out.stream() << r.json << '\n';
  std::optional<AtomicFile> report;
  if (!a.report.empty()) {
    report.emplace(a.report);
    report->stream() << eval::render_report(task, r, vega_js);
  }
  out.commit();
  if (report) report->commit();
  std::cout << fmt::format("{} {} split, n = {}:", task.id, a.options.split, r.n);
  for (const auto& id : task.metrics) {
    if (auto it = r.metrics.find(id); it != r.metrics.end()) std::cout << fmt::format(" {} {:.4f}", id, it->second);
  }
  std::cout << fmt::format("\nmetrics written to {}\n", a.out);
  if (report) std::cout << fmt::format("report written to {} (open it in a browser)\n", a.report);
  return 0;
}
}  // namespace

void add_eval_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "Check a submission and score it with the task's official metrics");
  cmd->add_option("task", a->task, "Task id or SDG code")->required();
  cmd->add_option("--pred", a->pred, "The submission: CSV (id and the target's column) or HDF5 for dense tasks")
      ->required();
  cmd->add_option("--truth", a->truth, "The task store with the true labels")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "metrics.json to write")->required();
  cmd->add_option("--report", a->report, "report.html to write: one self-contained page with the charts");
  cmd->add_option("--split", a->options.split, "Split to score")
      ->check(CLI::IsMember({"train", "val", "test"}))
      ->capture_default_str();
  cmd->add_option("--bootstrap", a->options.bootstrap, "Resamples for 95% intervals (0: none)")->capture_default_str();
  cmd->add_option("--seed", a->options.seed, "Seed of the bootstrap")->capture_default_str();
  cmd->add_flag("--all-classes", a->options.all_classes, "Macro F1 over every class (default: classes in the truth)");
  cmd->add_flag("--keep-unlabelled", a->options.keep_unlabelled,
                "Score the unlabelled class (crop type's 0) as the official code does");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_eval(ctx, *a); }; });
}

}  // namespace sbench::app
