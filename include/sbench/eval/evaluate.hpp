// Scoring a submission against a task store (`sbench eval`): strict checks of the submission,
// the task card's metrics, per-group values with the worst group, bootstrap intervals.
// Formats in docs/submissions.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sbench/core/tasks.hpp"

namespace sbench::store {
class StoreReader;
}

namespace sbench::eval {

struct EvalOptions {
  std::string split = "test";
  std::size_t bootstrap = 0;  // resamples for 95% intervals; 0 = none
  std::uint64_t seed = 0;
  bool all_classes = false;      // f1_macro over every class instead of those in the truth
  bool keep_unlabelled = false;  // score the target's ignore_value (crop type's 0) as a class
};

// A submission read from disk, before it is checked against the truth.
struct Submission {
  std::filesystem::path path;
  std::vector<std::string> ids;
  std::vector<double> values;  // per-example tasks: the prediction of each id
  // Binary: the score of the positive class; multiclass: one vector per class (score_<class>).
  std::vector<std::vector<double>> scores;
  // Dense tasks: one H x W prediction per id (class index, or a probability for binary masks).
  std::vector<std::int64_t> dense_shape;  // (H, W)
  std::vector<float> dense;               // ids.size() * H * W
};

// Reads a CSV (per-example tasks: id and the target's column, optional score columns) or an HDF5
// file (dense tasks: /id and /pred (N, H, W)). Format problems are InputErrors naming the file.
Submission read_submission(const TaskCard& task, const std::filesystem::path& path);

// What the HTML report plots, for the scored examples in store order.
struct ReportData {
  std::string target;
  TargetKind kind = TargetKind::regression;
  std::vector<std::string> ids;
  std::vector<double> truth, pred;                         // per-example tasks
  std::vector<double> score;                               // binary tasks with a score column
  std::map<std::string, std::vector<std::string>> groups;  // group field -> each example's key
  std::vector<double> lat, lon;                            // empty when the store has none
  std::vector<std::string> class_names;
  std::vector<std::vector<double>> confusion;  // classes: rows = truth, columns = prediction (pixels for dense)
  struct Mask {
    std::string id;
    int height = 0, width = 0;
    std::vector<std::uint8_t> truth, pred;  // class per pixel; 255 = ignored
  };
  std::vector<Mask> examples;  // dense tasks: the first few examples
};

struct EvalResult {
  std::string json;   // the metrics document (docs/submissions.md)
  std::size_t n = 0;  // examples scored
  std::map<std::string, double> metrics;
  ReportData report;
};

// Checks the submission against the store's split (unknown, missing, duplicate and wrong-split
// ids, non-finite values, classes out of range, wrong shapes; every problem with its first ids:
// an InputError listing them all) and computes the metrics.
EvalResult evaluate(const TaskCard& task, const store::StoreReader& truth, const Submission& submission,
                    const EvalOptions& options);

}  // namespace sbench::eval
