#include "sbench/baseline/knn_nightlights.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "sbench/core/error.hpp"
#include "sbench/store/store.hpp"

namespace sbench::baseline {

namespace {

double pooled_r2(const std::vector<double>& p, const std::vector<double>& t) {
  const double n = static_cast<double>(p.size());
  if (p.size() < 2) return std::nan("");
  const double mp = std::accumulate(p.begin(), p.end(), 0.0) / n, mt = std::accumulate(t.begin(), t.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    sxy += (p[i] - mp) * (t[i] - mt);
    sxx += (p[i] - mp) * (p[i] - mp);
    syy += (t[i] - mt) * (t[i] - mt);
  }
  if (sxx == 0 || syy == 0) return std::nan("");
  const double r = sxy / std::sqrt(sxx * syy);
  return r * r;
}

KnnSet make_set(const std::vector<double>& x, const std::vector<double>& y, const std::vector<std::size_t>& rows) {
  std::vector<std::size_t> order = rows;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  KnnSet s;
  for (auto i : order) {
    s.x.push_back(x[i]);
    s.y.push_back(y[i]);
  }
  return s;
}

}  // namespace

// The task's input with a NIGHTLIGHTS band, and the band's position; an InputError otherwise.
static std::pair<const InputSpec*, std::size_t> nightlights_band(const TaskCard& task) {
  for (const auto& i : task.inputs) {
    const auto it = std::find(i.bands.begin(), i.bands.end(), "NIGHTLIGHTS");
    if (it != i.bands.end()) return {&i, static_cast<std::size_t>(it - i.bands.begin())};
  }
  fail<InputError>("task {} has no NIGHTLIGHTS band: the night-lights baseline is for the DHS tasks", task.id);
}

void nightlight_features(const TaskCard& task, const store::StoreReader& s, std::vector<double>& mean,
                         std::vector<bool>& viirs) {
  const auto [in, band] = nightlights_band(task);
  const store::Field* f = s.schema().find(in->name);
  if (!f) fail<InputError>("{}: no input '{}' in the store", s.path().string(), in->name);
  if (in->shape.size() != 3 || f->type != store::ElementType::float32) {
    fail<InputError>("{}: input '{}' is not float32 C x H x W", s.path().string(), in->name);
  }
  const std::size_t plane = static_cast<std::size_t>(in->shape[1] * in->shape[2]);
  std::vector<float> buf(f->example_bytes() / sizeof(float));
  mean.assign(s.size(), 0);
  viirs.assign(s.size(), false);
  const bool has_sensor = s.schema().find("nl_sensor") != nullptr;
  std::vector<std::string> sensor;
  std::vector<double> year;
  if (has_sensor) {
    sensor = s.read_strings("nl_sensor");
  } else if (s.schema().find("year")) {
    year = s.read_numbers("year");
  } else {
    fail<InputError>("{}: neither nl_sensor nor year to tell DMSP from VIIRS clusters", s.path().string());
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    s.read(in->name, i, 1, buf.data());
    const float* p = buf.data() + band * plane;
    double sum = 0;
    for (std::size_t k = 0; k < plane; ++k) sum += p[k];
    mean[i] = sum / static_cast<double>(plane);
    if (!std::isfinite(mean[i])) {
      fail<InputError>("{}: example {}: the NIGHTLIGHTS band is not finite (NaN or infinite pixels)", s.path().string(),
                       s.ids()[i]);
    }
    viirs[i] = has_sensor ? sensor[i] == "viirs" : year[i] > 2011;
  }
}

double knn_predict(const KnnSet& set, int k, double x) {
  const std::size_t n = set.x.size();
  const std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(k), n);
  // Grow a window [lo, hi) around x's position in the sorted features.
  std::size_t hi = static_cast<std::size_t>(std::lower_bound(set.x.begin(), set.x.end(), x) - set.x.begin());
  std::size_t lo = hi;
  for (std::size_t taken = 0; taken < want; ++taken) {
    const bool left = lo > 0, right = hi < n;
    if (left && (!right || x - set.x[lo - 1] <= set.x[hi] - x)) {
      --lo;
    } else {
      ++hi;
    }
  }
  // The window grew leftwards into a run of equal features from its end: of that run, take the
  // first ones in training order instead (the set is stably sorted, so the run keeps that order).
  std::size_t run = lo;
  while (run > 0 && set.x[run - 1] == set.x[lo]) --run;
  std::size_t in_run = 0;
  while (lo + in_run < hi && set.x[lo + in_run] == set.x[lo]) ++in_run;
  double sum = 0;
  for (std::size_t i = run; i < run + in_run; ++i) sum += set.y[i];
  for (std::size_t i = lo + in_run; i < hi; ++i) sum += set.y[i];
  return sum / static_cast<double>(want);
}

KnnNightlights fit_knn_nightlights(const TaskCard& task, const store::StoreReader& s, const std::string& target,
                                   int k_min, int k_max) {
  nightlights_band(task);
  if (!s.schema().find(target)) fail<InputError>("{}: no target '{}' in the store", s.path().string(), target);
  std::vector<double> feat;
  std::vector<bool> viirs;
  nightlight_features(task, s, feat, viirs);
  const auto y = s.read_numbers(target);
  auto rows = [&](std::initializer_list<const char*> splits, bool v) {
    std::vector<std::size_t> out;
    for (const char* sp : splits) {
      for (auto i : s.indices(sp)) {
        if (viirs[i] == v && std::isfinite(y[i])) out.push_back(i);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto train_d = rows({"train"}, false), train_v = rows({"train"}, true);
  const auto val_d = rows({"val"}, false), val_v = rows({"val"}, true);
  if (train_d.empty() && train_v.empty())
    fail<InputError>("{}: no labelled train clusters for {}", s.path().string(), target);
  const KnnSet fit_d = make_set(feat, y, train_d), fit_v = make_set(feat, y, train_v);
  KnnNightlights m;
  m.task = task.id;
  m.target = target;
  // A sub-model with validation clusters needs training clusters, and k at most their number.
  std::size_t cap = static_cast<std::size_t>(k_max);
  if (!val_d.empty()) {
    if (fit_d.x.empty()) fail<InputError>("{}: DMSP clusters in val but none in train", s.path().string());
    cap = std::min(cap, fit_d.x.size());
  }
  if (!val_v.empty()) {
    if (fit_v.x.empty()) fail<InputError>("{}: VIIRS clusters in val but none in train", s.path().string());
    cap = std::min(cap, fit_v.x.size());
  }
  double best = -1;
  for (int k = k_min; k <= static_cast<int>(cap); ++k) {
    std::vector<double> p, t;
    for (auto i : val_d) p.push_back(knn_predict(fit_d, k, feat[i])), t.push_back(y[i]);
    for (auto i : val_v) p.push_back(knn_predict(fit_v, k, feat[i])), t.push_back(y[i]);
    const double r2 = pooled_r2(p, t);
    m.val_r2.emplace_back(k, r2);
    if (std::isfinite(r2) && r2 > best) {
      best = r2;
      m.k = k;
    }
  }
  if (m.k == 0) fail<InputError>("{}: no k gives a finite validation r^2 for {}", s.path().string(), target);
  m.dmsp = make_set(feat, y, rows({"train", "val"}, false));
  m.viirs = make_set(feat, y, rows({"train", "val"}, true));
  return m;
}

std::string to_json(const KnnNightlights& m) {
  nlohmann::ordered_json j;
  j["model"] = "knn_nightlights";
  j["task"] = m.task;
  j["target"] = m.target;
  j["k"] = m.k;
  j["selection"] = nlohmann::ordered_json::array();
  for (const auto& [k, r2] : m.val_r2) {
    j["selection"].push_back({{"k", k}, {"val_r2", std::isfinite(r2) ? nlohmann::ordered_json(r2) : nullptr}});
  }
  j["dmsp"] = {{"x", m.dmsp.x}, {"y", m.dmsp.y}};
  j["viirs"] = {{"x", m.viirs.x}, {"y", m.viirs.y}};
  return j.dump(1);
}

KnnNightlights knn_from_json(const std::string& text, const std::string& where) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("model") != "knn_nightlights") fail<InputError>("{}: not a knn_nightlights model", where);
    KnnNightlights m;
    m.task = j.at("task");
    m.target = j.at("target");
    m.k = j.at("k");
    m.dmsp.x = j.at("dmsp").at("x").get<std::vector<double>>();
    m.dmsp.y = j.at("dmsp").at("y").get<std::vector<double>>();
    m.viirs.x = j.at("viirs").at("x").get<std::vector<double>>();
    m.viirs.y = j.at("viirs").at("y").get<std::vector<double>>();
    if (m.k < 1 || m.dmsp.x.size() != m.dmsp.y.size() || m.viirs.x.size() != m.viirs.y.size()) {
      fail<InputError>("{}: inconsistent model", where);
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    fail<InputError>("{}: not a model file ({})", where, e.what());
  }
}

}  // namespace sbench::baseline
