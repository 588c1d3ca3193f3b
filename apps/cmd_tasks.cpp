// sbench tasks            the task table
// sbench tasks show ID    one task card as JSON (ID is the task id or its SDG code)
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "sbench/core/tasks.hpp"

namespace sbench::app {

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("{}", fmt::join(shape, "x"));
}

std::string inputs_cell(const TaskCard& t) {
  std::vector<std::string> parts;
  for (const auto& in : t.inputs) {
    if (!in.bands.empty()) parts.push_back(fmt::format("{} {}", in.name, shape_text(in.shape)));
  }
  if (parts.empty()) parts.push_back(fmt::format("{} {}", t.inputs[0].name, shape_text(t.inputs[0].shape)));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string target_cell(const TaskCard& t) {
  const auto& first = t.targets.front();
  std::string cell = fmt::format("{} ({})", first.name, to_string(first.kind));
  if (t.targets.size() > 1) cell += fmt::format(" +{}", t.targets.size() - 1);
  return cell;
}

std::string baseline_cell(const TaskCard& t) {
  std::vector<std::string> parts;
  for (const auto& b : t.baselines) {
    if (b.metric != t.primary_metric) continue;
    std::string part = b.published;
    if (!b.variant.empty()) part += fmt::format(" {}", b.variant);
    if (!b.comparable) part += "**";
    parts.push_back(part);
  }
  if (parts.empty()) return "none published";
  return fmt::format("{}", fmt::join(parts, ", "));
}

void print_table(const TaskRegistry& reg) {
  const std::vector<std::string> header = {"ID", "SDG", "INPUTS", "TARGET", "METRIC", "BASELINE"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : reg.tasks()) {
    rows.push_back({t.id, t.sdg, inputs_cell(t), target_cell(t), t.primary_metric, baseline_cell(t)});
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& r) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += c + 1 < r.size() ? fmt::format("{:<{}}  ", r[c], width[c]) : r[c];
    }
    std::cout << line << '\n';
  };
  print_row(header);
  for (const auto& r : rows) print_row(r);
  std::cout << fmt::format(
      "{} tasks. ** = published on different data, not comparable. "
      "`sbench tasks show ID` prints a full card.\n",
      rows.size());
}

}  // namespace

void add_tasks_command(CLI::App& app, Context& ctx) {
  auto* tasks = app.add_subcommand("tasks", "List the SustainBench tasks, or show one task card");
  tasks->require_subcommand(0, 1);
  tasks->callback([&ctx, tasks] {
    if (!tasks->get_subcommands().empty()) return;
    ctx.action = [&ctx] {
      print_table(ctx.registry());
      return 0;
    };
  });

  auto* show = tasks->add_subcommand("show", "Print one task card as JSON (task id or SDG code)");
  // CLI11 binds options by reference: the callbacks own the storage.
  auto id = std::make_shared<std::string>();
  show->add_option("task", *id, "Task id (e.g. poverty) or SDG code (e.g. 1A)")->required();
  show->callback([&ctx, id] {
    ctx.action = [&ctx, id] {
      std::cout << ctx.registry().get(*id).json << '\n';
      return 0;
    };
  });
}

}  // namespace sbench::app
