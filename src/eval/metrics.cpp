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

// Sums of a million values keep their precision with four interleaved accumulators (partial
// pairwise summation, as numpy's) and the mean subtracted before squaring (two passes).
template <typename F>
double sum_of(std::size_t n, F&& term) {
  double s[4] = {0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s[0] += term(i);
    s[1] += term(i + 1);
    s[2] += term(i + 2);
    s[3] += term(i + 3);
  }
  for (; i < n; ++i) s[0] += term(i);
  return (s[0] + s[1]) + (s[2] + s[3]);
}

double mean(const std::vector<double>& v) {
  return v.empty() ? kNaN : sum_of(v.size(), [&](std::size_t i) { return v[i]; }) / static_cast<double>(v.size());
}

double ratio(double num, double den) {
  return den > 0 ? num / den : 0.0;
}

}  // namespace

double pearson_r(const std::vector<double>& pred, const std::vector<double>& truth) {
  same_length(pred, truth);
  if (pred.size() < 2) return kNaN;
  const double mp = mean(pred), mt = mean(truth);
  const std::size_t n = pred.size();
  const double sxy = sum_of(n, [&](std::size_t i) { return (pred[i] - mp) * (truth[i] - mt); });
  const double sxx = sum_of(n, [&](std::size_t i) { return (pred[i] - mp) * (pred[i] - mp); });
  const double syy = sum_of(n, [&](std::size_t i) { return (truth[i] - mt) * (truth[i] - mt); });
  if (sxx == 0 || syy == 0) return kNaN;
  const double r = sxy / std::sqrt(sxx * syy);
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
  const std::size_t n = truth.size();
  const double ss_res = sum_of(n, [&](std::size_t i) { return (truth[i] - pred[i]) * (truth[i] - pred[i]); });
  const double ss_tot = sum_of(n, [&](std::size_t i) { return (truth[i] - mt) * (truth[i] - mt); });
  if (ss_tot == 0) return ss_res == 0 ? 1.0 : 0.0;
  return 1 - ss_res / ss_tot;
}

double mse(const std::vector<double>& pred, const std::vector<double>& truth) {
  same_length(pred, truth);
  if (truth.empty()) return kNaN;
  return sum_of(truth.size(), [&](std::size_t i) { return (pred[i] - truth[i]) * (pred[i] - truth[i]); }) /
         static_cast<double>(truth.size());
}

double rmse(const std::vector<double>& pred, const std::vector<double>& truth) {
  return std::sqrt(mse(pred, truth));
}

Confusion& Confusion::operator+=(const Confusion& o) {
  if (k == 0) *this = Confusion(o.k);
  if (o.k != k) fail<Error>("adding confusions of {} and {} classes", k, o.k);
  for (std::size_t i = 0; i < m.size(); ++i) m[i] += o.m[i];
  return *this;
}

void Confusion::ignore_truth(std::size_t c) {
  if (c >= k) return;
  for (std::size_t p = 0; p < k; ++p) m[c * k + p] = 0;
}

Confusion confusion(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth,
                    const ClassOptions& o, std::size_t classes) {
  same_length(pred, truth);
  if (classes == 0) {
    std::int64_t top = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) top = std::max({top, truth[i], pred[i]});
    classes = static_cast<std::size_t>(top) + 1;
  }
  Confusion c(classes);
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || pred[i] < 0 || static_cast<std::size_t>(truth[i]) >= classes ||
        static_cast<std::size_t>(pred[i]) >= classes) {
      fail<Error>("label outside 0..{} at position {}", classes - 1, i);
    }
    c.add(static_cast<std::size_t>(truth[i]), static_cast<std::size_t>(pred[i]));
  }
  if (o.ignore) c.ignore_truth(static_cast<std::size_t>(*o.ignore));
  return c;
}

Confusion binary_confusion(const float* scores, const std::uint8_t* truth, std::size_t n, float threshold) {
  double tp = 0, fp = 0, fn = 0, tn = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool p = scores[i] > threshold, t = truth[i] != 0;
    tp += p && t;
    fp += p && !t;
    fn += !p && t;
    tn += !p && !t;
  }
  Confusion c(2);
  c.add(0, 0, tn);
  c.add(0, 1, fp);
  c.add(1, 0, fn);
  c.add(1, 1, tp);
  return c;
}

namespace {
double total(const Confusion& c) {
  return std::accumulate(c.m.begin(), c.m.end(), 0.0);
}
double row(const Confusion& c, std::size_t t) {
  double s = 0;
  for (std::size_t p = 0; p < c.k; ++p) s += c.at(t, p);
  return s;
}
double col(const Confusion& c, std::size_t p) {
  double s = 0;
  for (std::size_t t = 0; t < c.k; ++t) s += c.at(t, p);
  return s;
}
double f1_of_class(const Confusion& c, std::size_t cls) {
  if (cls >= c.k) return 0.0;
  const double tp = c.at(cls, cls);
  return ratio(2 * tp, row(c, cls) + col(c, cls));
}
}  // namespace

double accuracy(const Confusion& c) {
  const double n = total(c);
  if (n == 0) return kNaN;
  double right = 0;
  for (std::size_t i = 0; i < c.k; ++i) right += c.at(i, i);
  return right / n;
}

double precision(const Confusion& c) {
  return c.k < 2 ? 0.0 : ratio(c.at(1, 1), col(c, 1));
}
double recall(const Confusion& c) {
  return c.k < 2 ? 0.0 : ratio(c.at(1, 1), row(c, 1));
}
double f1(const Confusion& c) {
  return f1_of_class(c, 1);
}

double f1_macro(const Confusion& c, const ClassOptions& o) {
  std::vector<std::size_t> classes;
  if (o.all_classes) {
    if (o.num_classes <= 0) fail<Error>("f1_macro over all classes needs the number of classes");
    for (std::int64_t k = 0; k < o.num_classes; ++k) {
      if (!o.ignore || k != *o.ignore) classes.push_back(static_cast<std::size_t>(k));
    }
  } else {
    for (std::size_t t = 0; t < c.k; ++t) {
      if (row(c, t) > 0) classes.push_back(t);
    }
  }
  if (classes.empty()) return kNaN;
  double sum = 0;
  for (auto k : classes) sum += f1_of_class(c, k);
  return sum / static_cast<double>(classes.size());
}

double cohen_kappa(const Confusion& c) {
  const double n = total(c);
  if (n == 0) return kNaN;
  double agree = 0, expected = 0;
  for (std::size_t i = 0; i < c.k; ++i) {
    agree += c.at(i, i);
    expected += (row(c, i) / n) * (col(c, i) / n);
  }
  if (expected == 1) return kNaN;
  return (agree / n - expected) / (1 - expected);
}

namespace {
// Enough classes for both sides, so that a prediction outside the truth's classes still counts.
std::size_t classes_of(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth,
                       const ClassOptions& o) {
  std::int64_t top = std::max<std::int64_t>(o.num_classes - 1, 0);
  for (std::size_t i = 0; i < truth.size() && i < pred.size(); ++i) top = std::max({top, truth[i], pred[i]});
  return static_cast<std::size_t>(top) + 1;
}
}  // namespace

double accuracy(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  return accuracy(confusion(pred, truth, o, classes_of(pred, truth, o)));
}
double precision(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  return precision(confusion(pred, truth, o, std::max<std::size_t>(2, classes_of(pred, truth, o))));
}
double recall(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  return recall(confusion(pred, truth, o, std::max<std::size_t>(2, classes_of(pred, truth, o))));
}
double f1(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  return f1(confusion(pred, truth, o, std::max<std::size_t>(2, classes_of(pred, truth, o))));
}
double f1_macro(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o) {
  return f1_macro(confusion(pred, truth, o, classes_of(pred, truth, o)), o);
}
double cohen_kappa(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth,
                   const ClassOptions& o) {
  return cohen_kappa(confusion(pred, truth, o, classes_of(pred, truth, o)));
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
  return ratio(2 * tp, 2 * tp + fp + fn);
}

}  // namespace sbench::eval
