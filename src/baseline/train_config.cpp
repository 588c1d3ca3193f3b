#include "sbench/baseline/train_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "sbench/core/error.hpp"

namespace sbench::baseline {

using json = nlohmann::json;

const std::vector<ConfigKey>& train_config_keys() {
  static const std::vector<ConfigKey> keys = {
      {"model", "string", "resnet18",
       "resnet18, resnet34, unet (mask targets), cnn1d (series), cnn_lstm (histogram series), maml (point series "
       "by region), tile2vec (tiles with lat/lon) or knn_nightlights (DHS tasks)"},
      {"target", "string", "", "the target to train; empty: the task's first"},
      {"epochs", "int", 10, "passes over the training split"},
      {"batch_size", "int", 32, "examples per step"},
      {"optimizer", "string", "adam", "adam, adamw or sgd"},
      {"lr", "number", 1e-3, "peak learning rate"},
      {"momentum", "number", 0.9, "SGD momentum"},
      {"weight_decay", "number", 0.0, "weight decay of the backbone"},
      {"head_weight_decay", "number", -1.0, "weight decay of the last layer; negative: as weight_decay"},
      {"schedule", "string", "cosine", "cosine, step or constant, after the warmup"},
      {"warmup_steps", "int", 0, "steps of linear warmup from lr / (warmup_steps + 1)"},
      {"step_epochs", "int", 10, "step schedule: epochs between decays"},
      {"gamma", "number", 0.1, "step schedule: factor per decay"},
      {"patience", "int", 0, "early stopping: epochs without a better validation metric; 0 never stops"},
      {"seed", "int", 0, "initialisation, shuffles and augmentations"},
      {"threads", "int", 0, "LibTorch intra-op threads; 0: every core"},
      {"loader_threads", "int", 0, "loader threads; 0: every core"},
      {"prefetch", "int", 4, "batches in flight in the loader"},
      {"augment", "bool", true, "random flips and 90-degree rotations of training tiles"},
      {"width", "int", 64,
       "channels of the first ResNet stage, U-Net level or 1-D CNN stage (64 as torchvision and the paper)"},
      {"inputs", "string", "satellite",
       "DHS tasks: satellite (the tile), street (the cluster's street images; needs sbench street import) or "
       "satellite,street (both, fused)"},
      {"street_images", "int", 8, "street inputs: images per cluster (a random draw in training, the first ones else)"},
      {"pooling", "string", "mean", "street inputs: pooling of a cluster's images: mean, attention or gated_attention"},
      {"norm_sample", "int", 256, "training examples sampled for the statistics of bands the card does not normalize"},
      {"k_min", "int", 1, "knn_nightlights: smallest k tried"},
      {"k_max", "int", 20, "knn_nightlights: largest k tried"},
      {"margin", "number", 1.0, "tile2vec: triplet loss margin"},
      {"embedding_l2", "number", 0.01, "tile2vec: weight of the embeddings' mean norm in the loss"},
      {"neighbors", "int", 8, "tile2vec: the anchor's nearest tiles a neighbour is drawn from"},
      {"probe_l2", "number", 1e-4, "tile2vec: L2 penalty of the linear probe"},
      {"time_steps", "int", 16, "time series of tiles (crop_type_africa): dates sampled per example and sensor"},
      {"inner_lr", "number", 0.1, "maml: learning rate of the inner SGD steps"},
      {"inner_steps", "int", 5, "maml: inner steps on an episode's support points"},
      {"meta_batch", "int", 8, "maml: episodes per outer step"},
      {"episodes", "int", 800, "maml: episodes per epoch"},
      {"query", "int", 10, "maml: query points per class of an episode"},
      {"first_order", "bool", false, "maml: first-order approximation (no second derivatives)"},
      {"gp", "bool", false, "cnn_lstm, cnn1d regression: Gaussian-process correction over location and year"},
      {"gp_sigma", "number", 1.0, "gp: kernel standard deviation"},
      {"gp_r_loc", "number", 0.5, "gp: length scale of location (normalized lat/lon)"},
      {"gp_r_year", "number", 1.5, "gp: length scale of year (normalized)"},
      {"gp_sigma_e", "number", 0.32, "gp: noise standard deviation"},
      {"gp_sigma_b", "number", 0.01, "gp: prior standard deviation of the last layer's weights"},
  };
  return keys;
}

const std::vector<std::string>& train_models() {
  static const std::vector<std::string> models = {"resnet18", "resnet34", "unet",     "cnn1d",
                                                  "cnn_lstm", "maml",     "tile2vec", "knn_nightlights"};
  return models;
}

namespace {

const ConfigKey* find_key(const std::string& name) {
  for (const auto& k : train_config_keys()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::string key_names() {
  std::vector<std::string> names;
  for (const auto& k : train_config_keys()) names.push_back(k.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// Checks the type of one value; where names the source in messages.
template <typename E>
json typed(const ConfigKey& k, const json& v, const std::string& where) {
  if (k.type == "string" && v.is_string()) return v;
  if (k.type == "bool" && v.is_boolean()) return v;
  if (k.type == "int" && v.is_number_integer()) return v;
  if (k.type == "int" && v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
    return json(static_cast<long long>(v.get<double>()));
  }
  if (k.type == "number" && v.is_number()) return json(v.get<double>());
  fail<E>("{}: {} must be {} (got {})", where, k.name, k.type == "int" ? "an integer" : "a " + k.type, v.dump());
}

// A --set value parsed by the key's type.
json parse_value(const ConfigKey& k, const std::string& text, const std::string& where) {
  if (k.type == "string") return text;
  if (k.type == "bool") {
    if (text == "true" || text == "1" || text == "yes") return true;
    if (text == "false" || text == "0" || text == "no") return false;
    fail<UsageError>("{}: {} must be true or false", where, k.name);
  }
  try {
    std::size_t used = 0;
    if (k.type == "int") {
      const long long v = std::stoll(text, &used);
      if (used == text.size()) return v;
    } else {
      const double v = std::stod(text, &used);
      if (used == text.size()) return v;
    }
  } catch (const std::exception&) {
  }
  fail<UsageError>("{}: {} must be {}", where, k.name, k.type == "int" ? "an integer" : "a number");
}

template <typename E>
void merge_object(json& values, const json& obj, const std::string& where) {
  if (!obj.is_object()) fail<E>("{}: expected a JSON object of training settings", where);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const ConfigKey* k = find_key(it.key());
    if (!k) fail<E>("{}: unknown training setting '{}' (valid keys: {})", where, it.key(), key_names());
    values[k->name] = typed<E>(*k, it.value(), where);
  }
}

template <typename E>
void check_ranges(const json& v, const std::string& where) {
  auto one_of = [&](const char* key, std::initializer_list<const char*> allowed) {
    const std::string s = v.at(key).get<std::string>();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return s == a; })) {
      fail<E>("{}: {} '{}' is not one of {}", where, key, s, fmt::join(allowed, ", "));
    }
  };
  one_of("model", {"resnet18", "resnet34", "unet", "cnn1d", "cnn_lstm", "maml", "tile2vec", "knn_nightlights"});
  one_of("optimizer", {"adam", "adamw", "sgd"});
  one_of("inputs", {"satellite", "street", "satellite,street"});
  one_of("pooling", {"mean", "attention", "gated_attention"});
  one_of("schedule", {"cosine", "step", "constant"});
  auto at_least = [&](const char* key, long long lo) {
    if (v.at(key).get<long long>() < lo) fail<E>("{}: {} must be at least {}", where, key, lo);
  };
  at_least("epochs", 1);
  at_least("batch_size", 1);
  at_least("warmup_steps", 0);
  at_least("step_epochs", 1);
  at_least("patience", 0);
  at_least("threads", 0);
  at_least("loader_threads", 0);
  at_least("prefetch", 1);
  at_least("width", 1);
  at_least("norm_sample", 1);
  at_least("k_min", 1);
  at_least("neighbors", 1);
  at_least("time_steps", 1);
  at_least("street_images", 1);
  at_least("inner_steps", 1);
  at_least("meta_batch", 1);
  at_least("episodes", 1);
  at_least("query", 1);
  if (v.at("k_max").get<long long>() < v.at("k_min").get<long long>() || v.at("k_max").get<long long>() > 1000) {
    fail<E>("{}: need k_min <= k_max <= 1000", where);
  }
  auto finite_positive = [&](const char* key, bool allow_zero) {
    const double x = v.at(key).get<double>();
    if (!std::isfinite(x) || x < 0 || (!allow_zero && x == 0)) {
      fail<E>("{}: {} must be a {} number", where, key, allow_zero ? "non-negative" : "positive");
    }
  };
  finite_positive("lr", false);
  finite_positive("momentum", true);
  finite_positive("weight_decay", true);
  finite_positive("gamma", false);
  finite_positive("margin", true);
  finite_positive("inner_lr", false);
  finite_positive("embedding_l2", true);
  finite_positive("probe_l2", true);
  for (const char* k : {"gp_sigma", "gp_r_loc", "gp_r_year", "gp_sigma_e", "gp_sigma_b"}) finite_positive(k, false);
  if (!std::isfinite(v.at("head_weight_decay").get<double>())) fail<E>("{}: head_weight_decay must be finite", where);
}

}  // namespace

TrainConfig TrainConfig::resolve(const TaskCard& task, const std::string& config_file,
                                 const std::vector<std::string>& sets, int epochs) {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& k : train_config_keys()) values[k.name] = k.default_value;
  if (!task.train.empty()) {
    merge_object<InputError>(values, nlohmann::json::parse(task.train), fmt::format("{} (train)", task.file));
  }
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) fail<IoError>("{}: cannot read the training configuration", config_file);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::parse_error& e) {
      fail<InputError>("{}: not valid JSON: {}", config_file, e.what());
    }
    merge_object<InputError>(values, j, config_file);
  }
  for (const auto& kv : sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) fail<UsageError>("--set {}: expected key=value", kv);
    const std::string key = kv.substr(0, eq);
    const ConfigKey* k = find_key(key);
    if (!k) fail<UsageError>("--set {}: unknown key '{}' (valid keys: {})", kv, key, key_names());
    values[k->name] = parse_value(*k, kv.substr(eq + 1), "--set " + kv);
  }
  if (epochs > 0) values["epochs"] = epochs;
  check_ranges<UsageError>(values, "training configuration");
  if (!values["target"].get<std::string>().empty() && !task.find_target(values["target"].get<std::string>())) {
    std::vector<std::string> names;
    for (const auto& t : task.targets) names.push_back(t.name);
    fail<UsageError>("target '{}' is not a target of {} ({})", values["target"].get<std::string>(), task.id,
                     fmt::join(names, ", "));
  }
  TrainConfig c;
  c.values_ = std::move(values);
  return c;
}

TrainConfig TrainConfig::from_json(const nlohmann::json& j, const std::string& file) {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& k : train_config_keys()) values[k.name] = k.default_value;
  merge_object<InputError>(values, j, file);
  check_ranges<InputError>(values, file);
  TrainConfig c;
  c.values_ = std::move(values);
  return c;
}

std::string TrainConfig::str(const std::string& key) const {
  return values_.at(key).get<std::string>();
}
long long TrainConfig::integer(const std::string& key) const {
  return values_.at(key).get<long long>();
}
double TrainConfig::number(const std::string& key) const {
  return values_.at(key).get<double>();
}
bool TrainConfig::flag(const std::string& key) const {
  return values_.at(key).get<bool>();
}

std::vector<std::string> TrainConfig::differences(const TrainConfig& other) const {
  std::vector<std::string> out;
  for (const auto& k : train_config_keys()) {
    if (k.name == "epochs") continue;
    if (values_.at(k.name) != other.values_.at(k.name)) {
      out.push_back(
          fmt::format("{} ({} before, {} now)", k.name, values_.at(k.name).dump(), other.values_.at(k.name).dump()));
    }
  }
  return out;
}

}  // namespace sbench::baseline
