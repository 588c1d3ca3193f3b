// sbench train TASK --store STORE.h5 --out RUN_DIR [--set key=value]...
// sbench predict --run RUN_DIR --store STORE.h5 [--split test] --out PRED.csv
//
// The models that need neither LibTorch nor a GPU: today the night-lights KNN of the DHS tasks
// (`--set model=knn_nightlights`). The neural baselines of the learn component come with it.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli.hpp"
#include "sbench/baseline/knn_nightlights.hpp"
#include "sbench/core/atomic_file.hpp"
#include "sbench/core/error.hpp"
#include "sbench/store/store.hpp"

namespace sbench::app {

namespace {

namespace fs = std::filesystem;

struct TrainArgs {
  std::string task, store, out;
  std::vector<std::string> sets;
};

struct PredictArgs {
  std::string run, store, split = "test", out;
};

int run_train(Context& ctx, const TrainArgs& a) {
  const TaskCard& task = ctx.registry().get(a.task);
  std::string model, target = task.targets.front().name;
  int k_min = 1, k_max = 20;
  for (const auto& kv : a.sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) fail<UsageError>("--set {}: expected key=value", kv);
    const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key == "model") {
      model = value;
    } else if (key == "target") {
      target = value;
    } else if (key == "k_min" || key == "k_max") {
      int v = 0;
      try {
        v = std::stoi(value);
      } catch (const std::exception&) {
        fail<UsageError>("--set {}: not an integer", kv);
      }
      (key == "k_min" ? k_min : k_max) = v;
    } else {
      fail<UsageError>("--set {}: unknown key (model, target, k_min, k_max)", kv);
    }
  }
  if (model.empty()) {
    fail<UsageError>(
        "sbench train {}: choose a model with --set model=NAME; available in this build: "
        "knn_nightlights (DHS tasks; the neural baselines come with the learn component)",
        task.id);
  }
  if (model != "knn_nightlights") {
    fail<UsageError>("--set model={}: not available in this build (available: knn_nightlights)", model);
  }
  if (k_min < 1 || k_max < k_min || k_max > 1000) {
    fail<UsageError>("k_min {} and k_max {}: need 1 <= k_min <= k_max <= 1000", k_min, k_max);
  }
  store::StoreReader s(a.store);
  const auto m = baseline::fit_knn_nightlights(task, s, target, k_min, k_max);
  fs::create_directories(a.out);
  AtomicFile out(fs::path(a.out) / "model.json");
  out.stream() << baseline::to_json(m) << '\n';
  out.commit();
  AtomicFile log(fs::path(a.out) / "log.jsonl");
  for (const auto& [k, r2] : m.val_r2) {
    log.stream() << fmt::format(R"({{"k": {}, "val_r2": {}}})", k, std::isfinite(r2) ? fmt::format("{}", r2) : "null")
                 << '\n';
  }
  log.commit();
  double best = 0;
  for (const auto& [k, r2] : m.val_r2) {
    if (k == m.k) best = r2;
  }
  std::cout << fmt::format(
      "{} {}: knn_nightlights, k = {} (validation r2 {:.4f}); refitted on train + val: {} DMSP and {} VIIRS "
      "clusters\nmodel written to {}\n",
      task.id, target, m.k, best, m.dmsp.x.size(), m.viirs.x.size(), (fs::path(a.out) / "model.json").string());
  return 0;
}

int run_predict(Context& ctx, const PredictArgs& a) {
  const fs::path model_path = fs::path(a.run) / "model.json";
  std::ifstream in(model_path);
  if (!in) fail<IoError>("{}: no model (run sbench train first)", model_path.string());
  std::stringstream text;
  text << in.rdbuf();
  const auto m = baseline::knn_from_json(text.str(), model_path.string());
  const TaskCard& task = ctx.registry().get(m.task);
  store::StoreReader s(a.store);
  std::vector<double> feat;
  std::vector<bool> viirs;
  baseline::nightlight_features(task, s, feat, viirs);
  const auto rows = s.indices(a.split);
  if (rows.empty()) fail<InputError>("{}: no example in the {} split", a.store, a.split);
  AtomicFile out(a.out);
  out.stream() << "id," << m.target << '\n';
  for (auto i : rows) {
    const baseline::KnnSet& set = viirs[i] ? m.viirs : m.dmsp;
    if (set.x.empty()) {
      fail<InputError>("{}: example {} is a {} cluster and the model has none to learn from", a.store, s.ids()[i],
                       viirs[i] ? "VIIRS" : "DMSP");
    }
    out.stream() << s.ids()[i] << ',' << fmt::format("{}", baseline::knn_predict(set, m.k, feat[i])) << '\n';
  }
  out.commit();
  std::cout << fmt::format("{} predictions of {} ({} split) written to {}\n", rows.size(), m.target, a.split, a.out);
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a baseline on a task store");
  cmd->add_option("task", a->task, "Task id or SDG code")->required();
  cmd->add_option("--store", a->store, "The task store")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "Run folder to write (model.json, log.jsonl)")->required();
  cmd->add_option("--set", a->sets, "key=value: model (knn_nightlights), target, k_min, k_max");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_train(ctx, *a); }; });

  auto p = std::make_shared<PredictArgs>();
  auto* pc = app.add_subcommand("predict", "Predict a split with a trained run, in the submission format");
  pc->add_option("--run", p->run, "Run folder of sbench train")->required();
  pc->add_option("--store", p->store, "The task store")->required()->check(CLI::ExistingFile);
  pc->add_option("--split", p->split, "Split to predict")
      ->check(CLI::IsMember({"train", "val", "test"}))
      ->capture_default_str();
  pc->add_option("--out", p->out, "Submission CSV to write")->required();
  pc->callback([&ctx, p] { ctx.action = [&ctx, p] { return run_predict(ctx, *p); }; });
}

}  // namespace sbench::app
