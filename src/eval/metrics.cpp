#include "sbench/eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "sbench/core/error.hpp"

namespace sbench::eval {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <typename A, typename B>
void same_length(const std::vector<A>& a, const std::vector<B>& b) {
  if (a.size() != b.size()) fail<Error>("metric on {} predictions and {} true values", a.size(), b.size());
}

// Kahan-free but two-pass sums in long double: stable enough for a million values.
double mean(const std::vector<double>& v) {
  long double s = 0;
  for (double x : v) s += x;
  return v.empty() ? kNaN : static_cast<double>(s / static_cast<long double>(v.size()));
}

// Pairs that count: truth not ignored.
struct Pairs {
  std::vector<std::int64_t> pred, truth;
};

Pairs kept(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  same_length(pred, truth);
  if (!o.ignore) return {pred, truth};
  Pairs p;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] == *o.ignore) continue;
    p.pred.push_back(pred[i]);
    p.truth.push_back(truth[i]);
  }
  return p;
}

struct Binary {
  double tp = 0, fp = 0, fn = 0, tn = 0;
};

Binary count_binary(const Pairs& p, std::int64_t positive = 1) {
  Binary b;
  for (std::size_t i = 0; i < p.truth.size(); ++i) {
    const bool t = p.truth[i] == positive, q = p.pred[i] == positive;
    b.tp += t && q;
    b.fp += !t && q;
    b.fn += t && !q;
    b.tn += !t && !q;
  }
  return b;
}

double f1_of(const Binary& b) {
  const double denom = 2 * b.tp + b.fp + b.fn;
  return denom > 0 ? 2 * b.tp / denom : 0.0;
}

}  // namespace

double pearson_r(const std::vector<double>& pred, const std::vector<double>& truth) {
  same_length(pred, truth);
  if (pred.size() < 2) return kNaN;
  const double mp = mean(pred), mt = mean(truth);
  long double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    const long double dx = pred[i] - mp, dy = truth[i] - mt;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return kNaN;
  const double r = static_cast<double>(sxy / std::sqrt(sxx * syy));
  return std::clamp(r, -1.0, 1.0);
}

double r2_pearson(const std::vector<double>& pred, const std::vector<double>& truth) {
  const double r = pearson_r(pred, truth);
  return r * r;
}

double r2_score(const std::vector<double>& pred, const std::vector<double>& truth) {
  same_length(pred, truth);
  if (truth.empty()) return kNaN;
  const double mt = mean(truth);
  long double ss_res = 0, ss_tot = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    ss_res += (truth[i] - pred[i]) * static_cast<long double>(truth[i] - pred[i]);
    ss_tot += (truth[i] - mt) * static_cast<long double>(truth[i] - mt);
  }
  if (ss_tot == 0) return ss_res == 0 ? 1.0 : 0.0;
  return static_cast<double>(1 - ss_res / ss_tot);
}

double mse(const std::vector<double>& pred, const std::vector<double>& truth) {
  same_length(pred, truth);
  if (truth.empty()) return kNaN;
  long double s = 0;
  for (std::size_t i = 0; i < truth.size(); ++i)
    s += (pred[i] - truth[i]) * static_cast<long double>(pred[i] - truth[i]);
  return static_cast<double>(s / static_cast<long double>(truth.size()));
}

double rmse(const std::vector<double>& pred, const std::vector<double>& truth) {
  return std::sqrt(mse(pred, truth));
}

double accuracy(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  const Pairs p = kept(pred, truth, o);
  if (p.truth.empty()) return kNaN;
  std::size_t right = 0;
  for (std::size_t i = 0; i < p.truth.size(); ++i) right += p.pred[i] == p.truth[i];
  return static_cast<double>(right) / static_cast<double>(p.truth.size());
}

double precision(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  const Binary b = count_binary(kept(pred, truth, o));
  return b.tp + b.fp > 0 ? b.tp / (b.tp + b.fp) : 0.0;
}

double recall(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  const Binary b = count_binary(kept(pred, truth, o));
  return b.tp + b.fn > 0 ? b.tp / (b.tp + b.fn) : 0.0;
}

double f1(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  return f1_of(count_binary(kept(pred, truth, o)));
}

double f1_macro(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  const Pairs p = kept(pred, truth, o);
  std::set<std::int64_t> classes(p.truth.begin(), p.truth.end());
  if (o.all_classes) {
    if (o.num_classes <= 0) fail<Error>("f1_macro over all classes needs the number of classes");
    classes.clear();
    for (std::int64_t c = 0; c < o.num_classes; ++c) {
      if (!o.ignore || c != *o.ignore) classes.insert(c);
    }
  }
  if (classes.empty()) return kNaN;
  double sum = 0;
  for (std::int64_t c : classes) sum += f1_of(count_binary(p, c));
  return sum / static_cast<double>(classes.size());
}

double cohen_kappa(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth,
                   const ClassOptions& o) {
  const Pairs p = kept(pred, truth, o);
  if (p.truth.empty()) return kNaN;
  std::map<std::int64_t, double> row, col;
  double agree = 0;
  for (std::size_t i = 0; i < p.truth.size(); ++i) {
    row[p.truth[i]] += 1;
    col[p.pred[i]] += 1;
    agree += p.pred[i] == p.truth[i];
  }
  const double n = static_cast<double>(p.truth.size());
  double expected = 0;
  for (const auto& [c, k] : row) {
    auto it = col.find(c);
    if (it != col.end()) expected += (k / n) * (it->second / n);
  }
  const double po = agree / n;
  if (expected == 1) return kNaN;
  return (po - expected) / (1 - expected);
}

double auroc(const std::vector<double>& scores, const std::vector<std::int64_t>& truth) {
  same_length(scores, truth);
  const std::size_t n = scores.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  // Ranks 1..n, tied scores sharing their average rank.
  double rank_sum_pos = 0;
  double positives = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k) {
      if (truth[order[k]] == 1) {
        rank_sum_pos += avg_rank;
        positives += 1;
      }
    }
    i = j;
  }
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return kNaN;
  return (rank_sum_pos - positives * (positives + 1) / 2.0) / (positives * negatives);
}

double dice(const std::vector<double>& pred, const std::vector<std::uint8_t>& truth) {
  same_length(pred, truth);
  double tp = 0, fp = 0, fn = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const bool p = pred[i] > 0.5, t = truth[i] != 0;
    tp += p && t;
    fp += p && !t;
    fn += !p && t;
  }
  const double denom = 2 * tp + fp + fn;
  return denom > 0 ? 2 * tp / denom : 0.0;
}

}  // namespace sbench::eval
