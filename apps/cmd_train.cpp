// sbench train TASK --store STORE.h5 --out RUN_DIR [--config FILE] [--set key=value]... [--epochs N] [--inputs X]
//              [--max-steps N] [--resume] [--device auto|cpu|cuda]
// sbench predict --run RUN_DIR --store STORE.h5 [--split test] --out PRED.csv [--device ...]
//
// The settings are resolved and checked here, without LibTorch (docs/training.md). The night-lights
// KNN runs here too; the neural models run in the LibTorch module (torch_plugin.cpp).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli.hpp"
#include "sbench/baseline/knn_nightlights.hpp"
#include "sbench/baseline/train_config.hpp"
#include "sbench/core/atomic_file.hpp"
#include "sbench/core/error.hpp"
#include "sbench/store/store.hpp"
#ifdef SBENCH_WITH_TORCH
#include "torch_plugin.hpp"
#endif

namespace sbench::app {

namespace {

namespace fs = std::filesystem;

struct TrainArgs {
  std::string task, store, out, config, device = "auto";
  std::vector<std::string> sets;
  int epochs = 0;
  std::string inputs;
  std::int64_t max_steps = 0;
  bool resume = false;
};

struct PredictArgs {
  std::string run, store, split = "test", out, device = "auto";
};

// Calls an entry point of the LibTorch module with a JSON request, rethrowing its error.
void call_torch(const char* name, const nlohmann::json& request) {
#ifdef SBENCH_WITH_TORCH
  std::string error;
  using Fn = int (*)(const char*, char*, std::size_t);
  auto fn = reinterpret_cast<Fn>(torch_plugin_symbol(name, error));
  if (!fn) fail<Error>("{} (sbench doctor checks the installation)", error);
  std::string buf(8192, '\0');
  const int rc = fn(request.dump().c_str(), buf.data(), buf.size());
  std::cout.flush();
  if (rc == 0) return;
  const std::string message = buf.c_str();
  if (rc == 2) throw UsageError(message);
  throw Error(message);
#else
  (void)request;
  fail<UsageError>("{}: this sbench was built without LibTorch (SBENCH_WITH_TORCH=OFF); the neural models need it",
                   name);
#endif
}

nlohmann::json card_request(const TaskCard& task) {
  // The module rebuilds the card from its merged JSON, named after the task (the registry checks
  // that a card file is named after its id).
  return {{"card", task.json}, {"card_file", task.id + ".json"}};
}

int run_knn(const TaskCard& task, const TrainArgs& a, const baseline::TrainConfig& cfg) {
  const std::string target = cfg.str("target").empty() ? task.targets.front().name : cfg.str("target");
  store::StoreReader s(a.store);
  const auto m = baseline::fit_knn_nightlights(task, s, target, static_cast<int>(cfg.integer("k_min")),
                                               static_cast<int>(cfg.integer("k_max")));
  fs::create_directories(a.out);
  AtomicFile out(fs::path(a.out) / "model.json");
  out.stream() << baseline::to_json(m) << '\n';
  out.commit();
  AtomicFile config(fs::path(a.out) / "config.json");
  config.stream() << cfg.json().dump(2) << '\n';
  config.commit();
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

int run_train(Context& ctx, const TrainArgs& a) {
  const TaskCard& task = ctx.registry().get(a.task);
  std::vector<std::string> sets = a.sets;
  if (!a.inputs.empty()) {  // --inputs X is --set inputs=X; both at once must agree
    for (const auto& s : a.sets) {
      if (s.rfind("inputs=", 0) == 0 && s != "inputs=" + a.inputs)
        fail<UsageError>("--inputs {} and --set {} disagree; give one of them", a.inputs, s);
    }
    sets.push_back("inputs=" + a.inputs);
  }
  const auto cfg = baseline::TrainConfig::resolve(task, a.config, sets, a.epochs);
  if (cfg.str("model") == "knn_nightlights") return run_knn(task, a, cfg);
  nlohmann::json request = card_request(task);
  request["store"] = a.store;
  request["out"] = a.out;
  request["config"] = cfg.json();
  request["max_steps"] = a.max_steps;
  request["resume"] = a.resume;
  request["device"] = a.device;
  request["quiet"] = ctx.quiet;
  call_torch("sbench_torch_train", request);
  return 0;
}

int run_knn_predict(Context& ctx, const PredictArgs& a) {
  const fs::path model_path = fs::path(a.run) / "model.json";
  std::ifstream in(model_path);
  if (!in) fail<IoError>("{}: cannot read the model", model_path.string());
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

int run_predict(Context& ctx, const PredictArgs& a) {
  const fs::path run(a.run);
  if (fs::exists(run / "model.json")) return run_knn_predict(ctx, a);
  const fs::path run_json = run / "run.json";
  std::ifstream in(run_json);
  if (!in) fail<IoError>("{}: no trained run here (model.json or run.json; run sbench train first)", run.string());
  nlohmann::json info;
  try {
    info = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail<InputError>("{}: not valid JSON: {}", run_json.string(), e.what());
  }
  if (!info.contains("task") || !info["task"].is_string()) {
    fail<InputError>("{}: no task id; not a run of sbench train", run_json.string());
  }
  nlohmann::json request = card_request(ctx.registry().get(info["task"].get<std::string>()));
  request["run"] = a.run;
  request["store"] = a.store;
  request["split"] = a.split;
  request["out"] = a.out;
  request["device"] = a.device;
  call_torch("sbench_torch_predict", request);
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a baseline on a task store");
  cmd->add_option("task", a->task, "Task id or SDG code")->required();
  cmd->add_option("--store", a->store, "The task store")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "Run folder to write (config.json, log.jsonl, checkpoints)")->required();
  cmd->add_option("--config", a->config, "JSON object of training settings (docs/training.md)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--set", a->sets, "key=value, after the card's defaults and --config (docs/training.md)");
  cmd->add_option("--epochs", a->epochs, "Epochs (the setting 'epochs')")->check(CLI::PositiveNumber);
  cmd->add_option("--inputs", a->inputs,
                  "DHS tasks: satellite, street or satellite,street (the setting 'inputs'; street needs `sbench street "
                  "import`)");
  cmd->add_option("--max-steps", a->max_steps, "Stop after this many optimizer steps (smoke tests)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--resume", a->resume, "Continue the run in --out from its last checkpoint");
  cmd->add_option("--device", a->device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_train(ctx, *a); }; });

  auto p = std::make_shared<PredictArgs>();
  auto* pc = app.add_subcommand("predict", "Predict a split with a trained run, in the submission format");
  pc->add_option("--run", p->run, "Run folder of sbench train")->required();
  pc->add_option("--store", p->store, "The task store")->required()->check(CLI::ExistingFile);
  pc->add_option("--split", p->split, "Split to predict")
      ->check(CLI::IsMember({"train", "val", "test"}))
      ->capture_default_str();
  pc->add_option("--out", p->out, "Submission CSV to write")->required();
  pc->add_option("--device", p->device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  pc->callback([&ctx, p] { ctx.action = [&ctx, p] { return run_predict(ctx, *p); }; });
}

}  // namespace sbench::app
