// The task registry: every SustainBench task is declared once, in a JSON card under
// datasets/tasks/ (optionally completing a shared base under datasets/bases/), and every
// subcommand looks tasks up here. The schema is in docs/tasks.md; cards are checked on load
// and a bad card is an error that names the file and the field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbench {

enum class TargetKind { regression, binary, multiclass, segmentation };
std::string_view to_string(TargetKind kind);

struct InputSpec {
  std::string name;
  std::string description;
  std::vector<std::string> sensors;
  std::vector<std::string> bands;   // in storage order, one per 'C' entry of axes
  std::vector<std::string> units;   // empty or one per band
  std::vector<std::int64_t> shape;  // per example, without the example axis
  std::string axes;                 // one letter per dimension: C channel, T time, H, W, B bin
  std::string dtype;                // numpy-style name: float32, uint8, ...
  std::optional<double> pixel_size_m;
  std::string crs;
  std::string row_order;  // north_up, south_up or empty
  std::string source;
};

struct TargetSpec {
  std::string name;
  TargetKind kind = TargetKind::regression;
  std::string column;        // column in the release's label file, when there is one
  std::string count_column;  // observations behind the label (DHS n_* columns)
  std::string units;
  std::string description;
  std::vector<std::int64_t> shape;  // segmentation masks
  std::vector<std::string> classes;
  std::map<std::string, std::vector<std::string>> classes_by_variant;
  std::vector<std::string> source_values;  // release spelling of each class, when it differs
  std::string class_source;
  std::int64_t num_classes = 0;  // 0 for regression
  std::optional<std::int64_t> ignore_value;
};

struct MetaSpec {
  std::string name;
  std::string type;  // string, int or float
  std::string description;
};

// The split names are always train, val and test.
struct SplitSpec {
  std::string rule;  // by_country, random, stratified_random, release_column, by_region
  bool official = true;
  std::string field;
  std::map<std::string, std::vector<std::string>> members;  // split -> values of field
  std::map<std::string, double> fractions;
  std::optional<std::uint64_t> seed;
  std::map<std::string, std::string> values;   // release value -> split name
  std::map<std::string, std::int64_t> counts;  // published sizes
  std::string source;
  std::string notes;
};

struct NormalizationSpec {
  std::string input;
  std::string group;  // empty: applies to every example
  // Which examples the group covers: meta field compared with min/max (inclusive) or equals.
  std::string select_meta;
  std::optional<double> select_min;
  std::optional<double> select_max;
  std::optional<std::string> select_equals;
  std::vector<std::string> bands;
  std::vector<double> mean;
  std::vector<double> std;
  std::string source;
};

struct BaselineSpec {
  std::string model;
  std::string inputs;
  std::string metric;
  double value = 0;
  std::string published;  // as printed on the leaderboard
  std::string variant;
  bool comparable = true;
  std::string reference;
  std::string notes;
};

struct TaskCard {
  std::string id;
  std::string sdg;
  std::string name;
  std::string description;
  std::string family;
  std::string unit;
  std::string id_column;
  std::vector<std::string> variants;
  std::vector<InputSpec> inputs;
  std::vector<TargetSpec> targets;
  std::vector<MetaSpec> meta;
  std::vector<std::string> groups;
  SplitSpec split;
  std::vector<std::string> metrics;
  std::string primary_metric;
  std::vector<NormalizationSpec> normalization;
  std::string train;  // the default training settings as a JSON object ("" when the card has none)
  std::vector<BaselineSpec> baselines;
  std::vector<std::string> sources;
  std::string notes;

  std::string file;  // where the card came from
  std::string json;  // the card with its base merged in, pretty-printed

  const InputSpec* find_input(std::string_view name) const;
  const TargetSpec* find_target(std::string_view name) const;
};

// Metric ids a card may name; the evaluator implements each (docs/metrics.md).
const std::vector<std::string>& known_metric_ids();

class TaskRegistry {
 public:
  struct Source {
    std::string name;  // file name used in messages
    std::string text;
  };

  // cards: the task cards; bases: files a card may name in "base" (key = stem of name).
  static TaskRegistry from_sources(const std::vector<Source>& cards, const std::vector<Source>& bases);
  // DIR/tasks/*.json with DIR/bases/*.json.
  static TaskRegistry from_directory(const std::filesystem::path& dir);
  // The cards compiled into the binary from datasets/.
  static const TaskRegistry& builtin();

  // Ordered by SDG code (1A, 1B, 2A, 2B1, ..., 15B).
  const std::vector<TaskCard>& tasks() const { return tasks_; }
  // Accepts the task id or its SDG code, case-insensitively.
  const TaskCard* find(std::string_view id_or_sdg) const;
  // As find; an unknown name is a UsageError listing the valid ids and codes.
  const TaskCard& get(std::string_view id_or_sdg) const;
  std::string origin() const { return origin_; }

 private:
  std::vector<TaskCard> tasks_;
  std::string origin_;
};

}  // namespace sbench
