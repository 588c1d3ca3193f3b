#include "sbench/eval/evaluate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <unordered_map>

#include "sbench/core/error.hpp"
#include "sbench/core/version.hpp"
#include "sbench/eval/metrics.hpp"
#include "sbench/store/store.hpp"
#include "sbench/store/street.hpp"

namespace sbench::eval {

namespace {

using json = nlohmann::ordered_json;

bool lower_is_better(const std::string& metric) {
  return metric == "rmse" || metric == "mse";
}

// The aligned predictions and truth of the scored examples; metrics run on any multiset of
// positions (a group, a bootstrap resample).
struct Scored {
  const TaskCard* task = nullptr;
  const TargetSpec* target = nullptr;
  ClassOptions classes;
  std::vector<double> pred;            // per example
  std::vector<double> score;           // binary score, when submitted
  std::vector<double> truth;           // per example
  std::vector<Confusion> per_example;  // dense: each example's pixel confusion

  std::map<std::string, double> compute(const std::vector<std::size_t>& at) const {
    std::map<std::string, double> out;
    const TargetKind kind = target->kind;
    if (kind == TargetKind::regression) {
      std::vector<double> p, t;
      for (auto i : at) {
        p.push_back(pred[i]);
        t.push_back(truth[i]);
      }
      for (const auto& m : task->metrics) {
        if (m == "r2") out[m] = r2_pearson(p, t);
        if (m == "pearson_r") out[m] = pearson_r(p, t);
        if (m == "r2_score") out[m] = r2_score(p, t);
        if (m == "mse") out[m] = mse(p, t);
        if (m == "rmse") out[m] = rmse(p, t);
      }
      return out;
    }
    Confusion c;
    std::vector<double> s;
    std::vector<std::int64_t> t;
    if (kind == TargetKind::segmentation) {
      // Pixels pooled over the examples: their confusions add.
      c = Confusion(per_example.front().k);
      for (auto i : at) c += per_example[i];
      if (classes.ignore) c.ignore_truth(static_cast<std::size_t>(*classes.ignore));
    } else {
      std::vector<std::int64_t> p;
      for (auto i : at) {
        p.push_back(static_cast<std::int64_t>(pred[i]));
        t.push_back(static_cast<std::int64_t>(truth[i]));
        if (!score.empty()) s.push_back(score[i]);
      }
      c = confusion(p, t, classes, static_cast<std::size_t>(classes.num_classes));
    }
    for (const auto& m : task->metrics) {
      if (m == "accuracy") out[m] = accuracy(c);
      if (m == "precision") out[m] = precision(c);
      if (m == "recall") out[m] = recall(c);
      if (m == "f1") out[m] = f1(c);
      if (m == "f1_macro") out[m] = f1_macro(c, classes);
      if (m == "kappa") out[m] = cohen_kappa(c);
      if (m == "auroc" && !s.empty()) out[m] = auroc(s, t);
      // Dice of the official code = binary F1 of (score > 0.5) over all pixels pooled.
      if (m == "dice") out[m] = f1(c);
    }
    return out;
  }
};

json number(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

json metrics_json(const std::map<std::string, double>& m, const std::vector<std::string>& order) {
  json j = json::object();
  for (const auto& id : order) {
    if (auto it = m.find(id); it != m.end()) j[id] = number(it->second);
  }
  return j;
}

// numpy's default percentile: linear interpolation between closest ranks.
double percentile(std::vector<double> v, double q) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

struct Problem {
  std::string what;
  std::vector<std::string> ids;
  std::size_t count = 0;
  void add(const std::string& id) {
    ++count;
    if (ids.size() < 5) ids.push_back(id);
  }
};

std::string group_key(double v) {
  return fmt::format("{}", v);
}

}  // namespace

EvalResult evaluate(const TaskCard& task, const store::StoreReader& store, const Submission& sub,
                    const EvalOptions& opt) {
  const std::string where = sub.path.string();
  const auto& served = store.schema().tasks;
  if (std::find(served.begin(), served.end(), task.id) == served.end()) {
    fail<UsageError>("{}: the store holds task(s) {}, not {}", store.path().string(), fmt::join(served, ", "), task.id);
  }
  const TargetSpec& target = task.targets.front();
  const store::Field& field = store.schema().field(target.name);
  const std::uint8_t split = store::split_code(opt.split);
  const bool dense = target.kind == TargetKind::segmentation;
  const bool classify = target.kind != TargetKind::regression;

  // ---- checks: every problem, with its first ids ----
  std::map<std::string, Problem> problems;
  auto problem = [&](const std::string& key, const std::string& what, const std::string& id) {
    auto& p = problems[key];
    p.what = what;
    p.add(id);
  };
  std::unordered_map<std::string, std::size_t> row_of;
  for (std::size_t r = 0; r < sub.ids.size(); ++r) {
    const std::string& id = sub.ids[r];
    if (!row_of.emplace(id, r).second) {
      problem("duplicate", "ids listed more than once", id);
      continue;
    }
    const auto index = store.find(id);
    if (!index) {
      problem("unknown", "ids that are not in the store", id);
    } else if (store.splits()[*index] != split) {
      problem("wrong_split", fmt::format("ids of another split than '{}'", opt.split), id);
    }
  }
  const auto split_indices = store.indices(opt.split);
  for (auto i : split_indices) {
    if (!row_of.count(store.ids()[i]))
      problem("missing", fmt::format("ids of the {} split without a prediction", opt.split), store.ids()[i]);
  }
  const std::int64_t num_classes = target.num_classes;
  if (dense) {
    const std::vector<std::int64_t> want = target.shape;
    if (sub.dense_shape != want) {
      problems["shape"].what = fmt::format("predictions of shape ({}) instead of ({})",
                                           fmt::join(sub.dense_shape, ", "), fmt::join(want, ", "));
      problems["shape"].add(sub.ids.empty() ? "" : sub.ids[0]);
    } else {
      const std::size_t pixels = static_cast<std::size_t>(want[0] * want[1]);
      for (std::size_t r = 0; r < sub.ids.size(); ++r) {
        for (std::size_t k = 0; k < pixels; ++k) {
          const float v = sub.dense[r * pixels + k];
          if (!std::isfinite(v)) {
            problem("non_finite", "predictions that are NaN or infinite", sub.ids[r]);
            break;
          }
          const bool ok = num_classes == 2 ? (v >= 0 && v <= 1)
                                           : (v == std::floor(v) && v >= 0 && v < static_cast<float>(num_classes));
          if (!ok) {
            problem("class_range",
                    num_classes == 2 ? "mask values outside [0, 1] (probabilities or 0/1)"
                                     : fmt::format("classes outside 0..{}", num_classes - 1),
                    sub.ids[r]);
            break;
          }
        }
      }
    }
  } else {
    for (std::size_t r = 0; r < sub.ids.size(); ++r) {
      const double v = sub.values[r];
      if (!std::isfinite(v)) {
        problem("non_finite", "predictions that are NaN or infinite", sub.ids[r]);
      } else if (classify && (v != std::floor(v) || v < 0 || v >= static_cast<double>(num_classes))) {
        problem("class_range", fmt::format("classes outside 0..{}", num_classes - 1), sub.ids[r]);
      }
      for (const auto& s : sub.scores) {
        if (!std::isfinite(s[r])) problem("non_finite_score", "scores that are NaN or infinite", sub.ids[r]);
      }
    }
  }
  if (!problems.empty()) {
    std::string msg = fmt::format("{}: invalid submission for {} ({} split):", where, task.id, opt.split);
    for (const auto& [key, p] : problems) {
      msg += fmt::format("\n  {} {} (e.g. {})", p.count, p.what, fmt::join(p.ids, ", "));
    }
    throw InputError(msg);
  }

  // ---- align predictions with the truth, in store order ----
  Scored sc;
  sc.task = &task;
  sc.target = &target;
  if (target.ignore_value && !opt.keep_unlabelled) sc.classes.ignore = target.ignore_value;
  sc.classes.all_classes = opt.all_classes;
  sc.classes.num_classes = num_classes;
  std::vector<std::size_t> store_index;  // per scored position
  std::size_t no_truth = 0;
  std::vector<double> truth_all;
  if (!dense) truth_all = store.read_numbers(target.name);
  const std::size_t pixels = dense ? static_cast<std::size_t>(target.shape[0] * target.shape[1]) : 0;
  std::vector<std::uint8_t> buf(field.example_bytes());
  constexpr std::size_t kReportMasks = 4;
  std::vector<ReportData::Mask> masks;
  for (auto i : split_indices) {
    const std::size_t r = row_of.at(store.ids()[i]);
    if (!dense) {
      if (!std::isfinite(truth_all[i])) {
        ++no_truth;  // the cluster has no label for this target (fewer than 5 observations)
        continue;
      }
      sc.truth.push_back(truth_all[i]);
      sc.pred.push_back(sub.values[r]);
      if (!sub.scores.empty()) sc.score.push_back(sub.scores[0][r]);
    } else {
      store.read(target.name, i, 1, buf.data());
      const float* p = sub.dense.data() + r * pixels;
      if (masks.size() < kReportMasks) {
        ReportData::Mask m;
        m.id = store.ids()[i];
        m.height = static_cast<int>(target.shape[0]);
        m.width = static_cast<int>(target.shape[1]);
        m.truth.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(pixels));
        m.pred.resize(pixels);
        for (std::size_t k = 0; k < pixels; ++k) {
          m.pred[k] = num_classes == 2 ? (p[k] > 0.5f ? 1 : 0) : static_cast<std::uint8_t>(p[k]);
        }
        masks.push_back(std::move(m));
      }
      if (num_classes == 2) {
        // Binary masks may be probabilities: the official code thresholds at > 0.5.
        sc.per_example.push_back(binary_confusion(p, buf.data(), pixels));
      } else {
        Confusion c(static_cast<std::size_t>(num_classes));
        for (std::size_t k = 0; k < pixels; ++k) {
          if (buf[k] < num_classes) c.add(buf[k], static_cast<std::size_t>(p[k]));
        }
        sc.per_example.push_back(std::move(c));
      }
    }
    store_index.push_back(i);
  }
  const std::size_t n = store_index.size();
  if (n == 0)
    fail<InputError>("{}: no example of the {} split has a true {} to score against", where, opt.split, target.name);
  std::vector<std::size_t> all(n);
  for (std::size_t k = 0; k < n; ++k) all[k] = k;

  EvalResult result;
  result.n = n;
  result.metrics = sc.compute(all);
  ReportData& rd = result.report;
  rd.target = target.name;
  rd.kind = target.kind;
  rd.truth = sc.truth;
  rd.pred = sc.pred;
  rd.score = sc.score;
  rd.examples = std::move(masks);
  for (auto i : store_index) rd.ids.push_back(store.ids()[i]);
  rd.class_names = target.classes;
  if (target.kind != TargetKind::regression) {
    Confusion c(static_cast<std::size_t>(num_classes));
    if (dense) {
      for (const auto& e : sc.per_example) c += e;
    } else {
      for (std::size_t k = 0; k < n; ++k) {
        c.add(static_cast<std::size_t>(sc.truth[k]), static_cast<std::size_t>(sc.pred[k]));
      }
    }
    // As the metrics see it: without the ignored class's pixels (crop type's unlabelled 0).
    if (sc.classes.ignore) c.ignore_truth(static_cast<std::size_t>(*sc.classes.ignore));
    for (std::size_t t = 0; t < c.k; ++t) {
      rd.confusion.emplace_back();
      for (std::size_t q = 0; q < c.k; ++q) rd.confusion.back().push_back(c.at(t, q));
    }
  }
  const store::Field* lat_f = store.schema().find("lat");
  const store::Field* lon_f = store.schema().find("lon");
  if (lat_f && lon_f && lat_f->type != store::ElementType::string && lon_f->type != store::ElementType::string) {
    const auto lat = store.read_numbers("lat"), lon = store.read_numbers("lon");
    for (auto i : store_index) {
      rd.lat.push_back(lat[i]);
      rd.lon.push_back(lon[i]);
    }
  }

  json j;
  j["task"] = task.id;
  j["sdg"] = task.sdg;
  j["split"] = opt.split;
  j["n"] = n;
  j["primary_metric"] = task.primary_metric;
  j["metrics"] = metrics_json(result.metrics, task.metrics);
  if (std::find(task.metrics.begin(), task.metrics.end(), "auroc") != task.metrics.end() && sc.score.empty() &&
      !dense) {
    j["notes"].push_back("auroc needs a 'score' column in the submission");
  }
  if (no_truth) j["excluded"]["no_truth"] = no_truth;
  j["options"]["ignore_label"] = sc.classes.ignore ? json(*sc.classes.ignore) : json(nullptr);
  if (std::find(task.metrics.begin(), task.metrics.end(), "f1_macro") != task.metrics.end()) {
    j["options"]["f1_macro_classes"] = opt.all_classes ? "all" : "present in the truth";
  }

  // ---- groups ----
  std::map<std::string, std::vector<std::vector<std::size_t>>> unit_members;  // for the cluster bootstrap
  auto add_group = [&](const std::string& g, const std::vector<std::string>& keys) {
    std::map<std::string, std::vector<std::size_t>> members;
    for (std::size_t k = 0; k < n; ++k) members[keys[store_index[k]]].push_back(k);
    for (std::size_t k = 0; k < n; ++k) rd.groups[g].push_back(keys[store_index[k]]);
    json gj = json::object();
    std::map<std::string, std::pair<std::string, double>> worst;
    for (const auto& [key, pos] : members) {
      const auto m = sc.compute(pos);
      gj[key] = {{"n", pos.size()}, {"metrics", metrics_json(m, task.metrics)}};
      for (const auto& [id, v] : m) {
        if (!std::isfinite(v)) continue;
        auto it = worst.find(id);
        const bool worse = it == worst.end() || (lower_is_better(id) ? v > it->second.second : v < it->second.second);
        if (worse) worst[id] = {key, v};
      }
    }
    j["groups"][g]["values"] = gj;
    for (const auto& [id, w] : worst) j["groups"][g]["worst"][id] = {{"group", w.first}, {"value", w.second}};
    for (const auto& [key, pos] : members) unit_members[g].push_back(pos);
  };
  for (const auto& g : task.groups) {
    const store::Field* gf = store.schema().find(g);
    if (!gf) continue;
    std::vector<std::string> keys(store.size());
    if (gf->type == store::ElementType::string) {
      keys = store.read_strings(g);
    } else {
      const auto v = store.read_numbers(g);
      for (std::size_t i = 0; i < v.size(); ++i) keys[i] = group_key(v[i]);
    }
    add_group(g, keys);
  }
  // A store with street-level images (docs/street.md): the clusters with and without any, so that
  // street-view models are scored on the subset they can see beside the whole split.
  if (store::has_street(store.path())) {
    const auto index = store::read_street_index(store.path());
    std::vector<std::string> keys(store.size());
    for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = index.count[i] > 0 ? "with" : "without";
    add_group("street_images", keys);
  }

  // ---- bootstrap: by example, or by country for the DHS tasks (clusters of a country together) ----
  if (opt.bootstrap > 0) {
    const bool by_country = task.family == "dhs" && unit_members.count("country");
    std::mt19937_64 rng(opt.seed);
    std::map<std::string, std::vector<double>> draws;
    for (std::size_t b = 0; b < opt.bootstrap; ++b) {
      std::vector<std::size_t> pick;
      if (by_country) {
        const auto& units = unit_members.at("country");
        std::uniform_int_distribution<std::size_t> u(0, units.size() - 1);
        for (std::size_t k = 0; k < units.size(); ++k) {
          const auto& members = units[u(rng)];
          pick.insert(pick.end(), members.begin(), members.end());
        }
      } else {
        std::uniform_int_distribution<std::size_t> u(0, n - 1);
        pick.resize(n);
        for (auto& p : pick) p = u(rng);
      }
      for (const auto& [id, v] : sc.compute(pick)) draws[id].push_back(v);
    }
    for (const auto& id : task.metrics) {
      if (!draws.count(id)) continue;
      j["intervals"][id] = {number(percentile(draws[id], 0.025)), number(percentile(draws[id], 0.975))};
    }
    j["bootstrap"] = {{"resamples", opt.bootstrap},
                      {"unit", by_country ? "country" : "example"},
                      {"seed", opt.seed},
                      {"interval", "95% percentile"}};
  }

  // ---- the published baselines and a leaderboard row ----
  j["baselines"] = json::array();
  for (const auto& b : task.baselines) {
    j["baselines"].push_back({{"model", b.model},
                              {"metric", b.metric},
                              {"value", b.value},
                              {"published", b.published},
                              {"variant", b.variant},
                              {"comparable", b.comparable},
                              {"reference", b.reference}});
  }
  const double primary = result.metrics.count(task.primary_metric) ? result.metrics.at(task.primary_metric) : NAN;
  std::time_t now = std::time(nullptr);
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  j["leaderboard_row"] =
      fmt::format("| | {} | {} {:.4f} | | {} | | sbench {}, {} split, n = {} |", sub.path.filename().string(),
                  task.primary_metric, primary, date, version(), opt.split, n);
  result.json = j.dump(2);
  return result;
}

}  // namespace sbench::eval
