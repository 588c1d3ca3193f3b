// The settings of `sbench train` (docs/training.md): every key with its type, default and meaning,
// resolved from the defaults, the task card's "train" object, a --config file, --set key=value and
// --epochs, in that order. Torch-free, so the CLI can check a configuration and route the
// night-lights KNN without loading LibTorch.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sbench/core/tasks.hpp"

namespace sbench::baseline {

struct ConfigKey {
  std::string name;
  std::string type;  // "string", "int", "number", "bool"
  nlohmann::json default_value;
  std::string help;
};

// Every key, in the order docs/training.md lists them.
const std::vector<ConfigKey>& train_config_keys();

// The neural models and the non-neural baselines sbench trains.
const std::vector<std::string>& train_models();

class TrainConfig {
 public:
  // Defaults, then the card's "train" object, then the JSON object of config_file (when not
  // empty), then each "key=value" of sets, then epochs (when > 0). An unknown key is an error that
  // lists the valid ones (UsageError for --set, InputError naming the file otherwise); a value of
  // the wrong type or out of range names the key and what was expected.
  static TrainConfig resolve(const TaskCard& task, const std::string& config_file, const std::vector<std::string>& sets,
                             int epochs = 0);
  // A configuration written by a run (config.json); checked as above.
  static TrainConfig from_json(const nlohmann::json& j, const std::string& file);

  const nlohmann::json& json() const { return values_; }
  std::string str(const std::string& key) const;
  long long integer(const std::string& key) const;
  double number(const std::string& key) const;
  bool flag(const std::string& key) const;

  // Keys whose values differ (the run-length key "epochs" left out): a resumed run must match.
  std::vector<std::string> differences(const TrainConfig& other) const;

 private:
  nlohmann::json values_;
};

}  // namespace sbench::baseline
