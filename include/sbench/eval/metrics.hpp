// The metrics of the SustainBench tasks, each as defined in docs/metrics.md (where the official
// code and the paper differ, both behaviours are there and the option says which one runs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sbench::eval {

// ---- regression (pred and truth of the same length) ----

// Pearson's r; NaN when either side is constant or there are fewer than 2 pairs.
double pearson_r(const std::vector<double>& pred, const std::vector<double>& truth);
// The DHS tasks' official r^2: the square of Pearson's r (not the coefficient of determination).
double r2_pearson(const std::vector<double>& pred, const std::vector<double>& truth);
// Coefficient of determination 1 - SSres / SStot (scikit-learn's r2_score, crop yield's R^2).
// With constant truth: 1 when the predictions are exact, 0 otherwise (scikit-learn's default).
double r2_score(const std::vector<double>& pred, const std::vector<double>& truth);
double mse(const std::vector<double>& pred, const std::vector<double>& truth);
double rmse(const std::vector<double>& pred, const std::vector<double>& truth);

// ---- classification (labels are class indices) ----

struct ClassOptions {
  // Pairs whose true label is this value are left out (crop type's unlabelled 0).
  std::optional<std::int64_t> ignore;
  // f1_macro: average over every class 0..num_classes-1 instead of the classes present in the
  // truth (the official code's labels=unique(y_true)).
  bool all_classes = false;
  std::int64_t num_classes = 0;  // needed by all_classes
};

// Counts of (true class, predicted class) pairs: every classification metric derives from it, and
// confusions add, so groups and bootstrap resamples of dense tasks sum per-example confusions
// instead of touching pixels again. Rows are true classes, columns predicted ones.
struct Confusion {
  std::size_t k = 0;
  std::vector<double> m;  // k * k
  explicit Confusion(std::size_t classes = 0) : k(classes), m(classes * classes, 0.0) {}
  void add(std::size_t truth, std::size_t pred, double n = 1) { m[truth * k + pred] += n; }
  double at(std::size_t truth, std::size_t pred) const { return m[truth * k + pred]; }
  Confusion& operator+=(const Confusion& o);
  // Drops the pairs whose true class is `c` (crop type's unlabelled 0).
  void ignore_truth(std::size_t c);
};

// The confusion of labels; classes must lie in [0, classes), classes 0 = max label + 1. Pairs
// whose truth is o.ignore are left out.
Confusion confusion(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth,
                    const ClassOptions& o = {}, std::size_t classes = 0);
// The binary confusion of scores thresholded at > threshold against 0/1 truth.
Confusion binary_confusion(const float* scores, const std::uint8_t* truth, std::size_t n, float threshold = 0.5f);

double accuracy(const Confusion& c);
double precision(const Confusion& c);  // class 1 positive
double recall(const Confusion& c);
double f1(const Confusion& c);
// Over the classes present in the truth (rows with pairs), or every class but o.ignore when
// o.all_classes.
double f1_macro(const Confusion& c, const ClassOptions& o = {});
double cohen_kappa(const Confusion& c);

double accuracy(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth,
                const ClassOptions& o = {});
// Binary, positive class 1. With no predicted (precision) or no true (recall) positive: 0, as
// scikit-learn's zero_division default.
double precision(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth,
                 const ClassOptions& o = {});
double recall(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth,
              const ClassOptions& o = {});
double f1(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth, const ClassOptions& o = {});
// Macro F1: per-class F1 (0 where undefined) averaged over the classes present in the truth, or
// over all classes with o.all_classes.
double f1_macro(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth,
                const ClassOptions& o = {});
// Cohen's kappa (land_cover_ood). 1 - (1 - p_o) / (1 - p_e); NaN when p_e = 1.
double cohen_kappa(const std::vector<std::int64_t>& pred, const std::vector<std::int64_t>& truth,
                   const ClassOptions& o = {});
// Area under the ROC curve of scores for the binary truth (1 positive), ties by average rank
// (Mann-Whitney U). NaN when the truth has a single class.
double auroc(const std::vector<double>& scores, const std::vector<std::int64_t>& truth);

// Dice pooled over every pixel of every mask: the binary F1 of (prediction > 0.5) against
// the truth (1 = boundary), as the official field-delineation code computes it.
double dice(const std::vector<double>& pred, const std::vector<std::uint8_t>& truth);

}  // namespace sbench::eval
