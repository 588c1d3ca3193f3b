#include "sbench/core/tasks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "embedded_task_cards.hpp"
#include "sbench/core/error.hpp"

namespace sbench {

// Ordered, so that `tasks show` prints fields in the order of the card.
using json = nlohmann::ordered_json;

std::string_view to_string(TargetKind kind) {
  switch (kind) {
    case TargetKind::regression: return "regression";
    case TargetKind::binary: return "binary";
    case TargetKind::multiclass: return "multiclass";
    case TargetKind::segmentation: return "segmentation";
  }
  return "?";
}

const std::vector<std::string>& known_metric_ids() {
  static const std::vector<std::string> ids = {"r2",       "pearson_r", "r2_score", "rmse", "mse",
                                               "accuracy", "precision", "recall",   "f1",   "f1_macro",
                                               "auroc",    "dice",      "kappa"};
  return ids;
}

const InputSpec* TaskCard::find_input(std::string_view wanted) const {
  for (const auto& i : inputs) {
    if (i.name == wanted) return &i;
  }
  return nullptr;
}

const TargetSpec* TaskCard::find_target(std::string_view wanted) const {
  for (const auto& t : targets) {
    if (t.name == wanted) return &t;
  }
  return nullptr;
}

namespace {

const std::vector<std::string> kSplitNames = {"train", "val", "test"};

// A JSON object with its path in the card, for messages such as
// "datasets/tasks/poverty.json: field 'inputs[0].bands': expected an array of strings".
class Node {
 public:
  Node(const json& j, std::string path, const std::string& file) : j_(j), path_(std::move(path)), file_(file) {
    if (!j_.is_object()) error("", "expected an object");
  }

  [[noreturn]] void error(std::string_view key, std::string_view what) const {
    fail<InputError>("{}: field '{}': {}", file_, sub(key), what);
  }
  std::string sub(std::string_view key) const {
    if (key.empty()) return path_.empty() ? std::string("(top level)") : path_;
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  const std::string& file() const { return file_; }
  bool has(const char* key) const { return j_.contains(key); }

  // Fields not in allowed are typos or unsupported: refuse them rather than ignore them.
  void only(std::initializer_list<const char*> allowed) const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      const bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return it.key() == a; });
      if (!ok) {
        std::vector<std::string> names(allowed.begin(), allowed.end());
        fail<InputError>("{}: unknown field '{}' (valid fields: {})", file_, sub(it.key()), fmt::join(names, ", "));
      }
    }
  }

  const json& raw(const char* key) const {
    if (!j_.contains(key)) error(key, "is required");
    return j_.at(key);
  }

  std::string str(const char* key, bool required = true) const {
    if (!required && !j_.contains(key)) return {};
    const json& v = raw(key);
    if (!v.is_string()) error(key, "expected a string");
    const auto s = v.get<std::string>();
    if (required && s.empty()) error(key, "must not be empty");
    return s;
  }

  bool boolean(const char* key) const {
    const json& v = raw(key);
    if (!v.is_boolean()) error(key, "expected true or false");
    return v.get<bool>();
  }

  double number(const char* key) const {
    const json& v = raw(key);
    if (!v.is_number()) error(key, "expected a number");
    return v.get<double>();
  }

  std::optional<double> opt_number(const char* key) const {
    if (!j_.contains(key)) return std::nullopt;
    return number(key);
  }

  std::int64_t integer(const char* key) const {
    const json& v = raw(key);
    if (!v.is_number_integer()) error(key, "expected an integer");
    return v.get<std::int64_t>();
  }

  std::vector<std::string> strings(const char* key, bool required = true) const {
    if (!required && !j_.contains(key)) return {};
    const json& v = raw(key);
    return string_list(v, sub(key));
  }

  std::vector<std::string> string_list(const json& v, const std::string& where) const {
    if (!v.is_array()) fail<InputError>("{}: field '{}': expected an array of strings", file_, where);
    std::vector<std::string> out;
    for (const auto& e : v) {
      if (!e.is_string()) fail<InputError>("{}: field '{}': expected an array of strings", file_, where);
      out.push_back(e.get<std::string>());
    }
    return out;
  }

  std::vector<double> numbers(const char* key) const {
    const json& v = raw(key);
    if (!v.is_array()) error(key, "expected an array of numbers");
    std::vector<double> out;
    for (const auto& e : v) {
      if (!e.is_number()) error(key, "expected an array of numbers");
      out.push_back(e.get<double>());
    }
    return out;
  }

  std::vector<std::int64_t> integers(const char* key, bool required = true) const {
    if (!required && !j_.contains(key)) return {};
    const json& v = raw(key);
    if (!v.is_array()) error(key, "expected an array of integers");
    std::vector<std::int64_t> out;
    for (const auto& e : v) {
      if (!e.is_number_integer()) error(key, "expected an array of integers");
      out.push_back(e.get<std::int64_t>());
    }
    return out;
  }

  Node object(const char* key) const { return Node(raw(key), sub(key), file_); }

  // Each element of an array of objects.
  std::vector<Node> objects(const char* key, bool required = true) const {
    std::vector<Node> out;
    if (!required && !j_.contains(key)) return out;
    const json& v = raw(key);
    if (!v.is_array()) error(key, "expected an array of objects");
    for (std::size_t i = 0; i < v.size(); ++i) out.emplace_back(v[i], fmt::format("{}[{}]", sub(key), i), file_);
    return out;
  }

  const json& value() const { return j_; }

 private:
  const json& j_;
  std::string path_;
  const std::string& file_;
};

template <typename T>
void require_unique(const Node& node, const char* key, const std::vector<T>& items, std::string (*name_of)(const T&)) {
  std::set<std::string> seen;
  for (const auto& item : items) {
    const std::string n = name_of(item);
    if (!seen.insert(n).second) node.error(key, fmt::format("name '{}' appears twice", n));
  }
}

bool is_valid_dtype(const std::string& d) {
  static const std::set<std::string> ok = {"bool",   "int8",   "int16",  "int32",   "int64",  "uint8",
                                           "uint16", "uint32", "uint64", "float32", "float64"};
  return ok.count(d) > 0;
}

InputSpec parse_input(const Node& n) {
  n.only({"name", "description", "sensors", "bands", "units", "shape", "axes", "dtype", "pixel_size_m", "crs",
          "row_order", "source"});
  InputSpec in;
  in.name = n.str("name");
  in.description = n.str("description");
  in.sensors = n.strings("sensors", false);
  in.bands = n.strings("bands", false);
  in.units = n.strings("units", false);
  in.shape = n.integers("shape");
  in.axes = n.str("axes");
  in.dtype = n.str("dtype");
  in.pixel_size_m = n.opt_number("pixel_size_m");
  in.crs = n.str("crs", false);
  in.row_order = n.str("row_order", false);
  in.source = n.str("source");
  if (in.shape.empty()) n.error("shape", "must have at least one dimension");
  for (auto d : in.shape) {
    if (d <= 0) n.error("shape", "dimensions must be positive");
  }
  if (in.axes.size() != in.shape.size()) {
    n.error("axes", fmt::format("has {} letters but shape has {} dimensions", in.axes.size(), in.shape.size()));
  }
  std::set<char> seen;
  for (char c : in.axes) {
    if (std::string_view("CTHWB").find(c) == std::string_view::npos) {
      n.error("axes", fmt::format("letter '{}' is not one of C, T, H, W, B", c));
    }
    if (!seen.insert(c).second) n.error("axes", fmt::format("letter '{}' appears twice", c));
  }
  const auto c_pos = in.axes.find('C');
  if (c_pos != std::string::npos) {
    if (static_cast<std::int64_t>(in.bands.size()) != in.shape[c_pos]) {
      n.error("bands", fmt::format("lists {} bands but the C axis of shape has {}", in.bands.size(), in.shape[c_pos]));
    }
  } else if (!in.bands.empty()) {
    n.error("bands", "given for an input without a C axis");
  }
  if (!in.units.empty() && in.units.size() != in.bands.size()) {
    n.error("units", fmt::format("lists {} units for {} bands", in.units.size(), in.bands.size()));
  }
  if (!is_valid_dtype(in.dtype)) n.error("dtype", fmt::format("'{}' is not a supported dtype", in.dtype));
  if (!in.row_order.empty() && in.row_order != "north_up" && in.row_order != "south_up") {
    n.error("row_order", "expected north_up or south_up");
  }
  if (in.pixel_size_m && !(*in.pixel_size_m > 0)) n.error("pixel_size_m", "must be positive");
  return in;
}

TargetSpec parse_target(const Node& n, const std::vector<std::string>& variants) {
  n.only({"name", "kind", "column", "count_column", "units", "description", "shape", "classes", "classes_by_variant",
          "source_values", "class_source", "num_classes", "ignore_value"});
  TargetSpec t;
  t.name = n.str("name");
  const std::string kind = n.str("kind");
  if (kind == "regression") {
    t.kind = TargetKind::regression;
  } else if (kind == "binary") {
    t.kind = TargetKind::binary;
  } else if (kind == "multiclass") {
    t.kind = TargetKind::multiclass;
  } else if (kind == "segmentation") {
    t.kind = TargetKind::segmentation;
  } else {
    n.error("kind", fmt::format("'{}' is not one of regression, binary, multiclass, segmentation", kind));
  }
  t.column = n.str("column", false);
  t.count_column = n.str("count_column", false);
  t.units = n.str("units", false);
  t.description = n.str("description", false);
  t.shape = n.integers("shape", false);
  t.classes = n.strings("classes", false);
  t.source_values = n.strings("source_values", false);
  t.class_source = n.str("class_source", false);
  if (n.has("ignore_value")) t.ignore_value = n.integer("ignore_value");
  if (n.has("classes_by_variant")) {
    const Node by = n.object("classes_by_variant");
    for (auto it = by.value().begin(); it != by.value().end(); ++it) {
      if (std::find(variants.begin(), variants.end(), it.key()) == variants.end()) {
        by.error(it.key(),
                 fmt::format("'{}' is not a variant of the task (variants: {})", it.key(), fmt::join(variants, ", ")));
      }
      t.classes_by_variant[it.key()] = by.string_list(it.value(), by.sub(it.key()));
    }
    if (t.classes_by_variant.size() != variants.size()) n.error("classes_by_variant", "must list every variant");
  }
  if (t.kind == TargetKind::regression) {
    if (!t.classes.empty() || !t.classes_by_variant.empty() || n.has("num_classes")) {
      n.error("classes", "a regression target has no classes");
    }
    return t;
  }
  std::size_t count = t.classes.size();
  for (const auto& [variant, names] : t.classes_by_variant) {
    if (count != 0 && names.size() != count)
      n.error("classes_by_variant", "every variant must have the same number of classes");
    count = names.size();
  }
  if (n.has("num_classes")) {
    t.num_classes = n.integer("num_classes");
    if (count != 0 && static_cast<std::int64_t>(count) != t.num_classes) {
      n.error("num_classes", fmt::format("is {} but {} class names are listed", t.num_classes, count));
    }
  } else {
    t.num_classes = static_cast<std::int64_t>(count);
  }
  if (t.num_classes < 2)
    n.error("classes", "a classification target needs at least 2 classes (classes or num_classes)");
  if (t.kind == TargetKind::binary && t.num_classes != 2) n.error("classes", "a binary target has exactly 2 classes");
  if (t.kind == TargetKind::segmentation && t.shape.size() != 2)
    n.error("shape", "a segmentation target needs a 2-D shape");
  if (!t.source_values.empty() && t.source_values.size() != t.classes.size()) {
    n.error("source_values", "must have one entry per class");
  }
  if (t.ignore_value && (*t.ignore_value < 0 || *t.ignore_value >= t.num_classes)) {
    n.error("ignore_value", "must be a class index");
  }
  return t;
}

SplitSpec parse_split(const Node& n, const std::vector<MetaSpec>& meta, const std::string& id_column) {
  n.only({"rule", "official", "field", "members", "fractions", "seed", "values", "counts", "source", "notes"});
  SplitSpec s;
  s.rule = n.str("rule");
  s.official = n.boolean("official");
  s.field = n.str("field");
  s.source = n.str("source");
  s.notes = n.str("notes", false);
  auto split_name_ok = [](const std::string& name) {
    return std::find(kSplitNames.begin(), kSplitNames.end(), name) != kSplitNames.end();
  };
  if (n.has("members")) {
    const Node m = n.object("members");
    for (auto it = m.value().begin(); it != m.value().end(); ++it) {
      if (!split_name_ok(it.key())) m.error(it.key(), "split names are train, val and test");
      s.members[it.key()] = m.string_list(it.value(), m.sub(it.key()));
      if (s.members[it.key()].empty()) m.error(it.key(), "must not be empty");
    }
  }
  if (n.has("fractions")) {
    const Node f = n.object("fractions");
    double sum = 0;
    for (auto it = f.value().begin(); it != f.value().end(); ++it) {
      if (!split_name_ok(it.key())) f.error(it.key(), "split names are train, val and test");
      const double v = f.number(it.key().c_str());
      if (!(v > 0 && v <= 1)) f.error(it.key(), "must be in (0, 1]");
      s.fractions[it.key()] = v;
      sum += v;
    }
    if (std::fabs(sum - 1.0) > 1e-6) n.error("fractions", fmt::format("sum to {} instead of 1", sum));
  }
  if (n.has("seed")) {
    const std::int64_t seed = n.integer("seed");
    if (seed < 0) n.error("seed", "must be non-negative");
    s.seed = static_cast<std::uint64_t>(seed);
  }
  if (n.has("values")) {
    const Node v = n.object("values");
    for (auto it = v.value().begin(); it != v.value().end(); ++it) {
      const std::string target = v.str(it.key().c_str());
      if (!split_name_ok(target)) v.error(it.key(), fmt::format("'{}' is not train, val or test", target));
      s.values[it.key()] = target;
    }
  }
  if (n.has("counts")) {
    const Node c = n.object("counts");
    for (auto it = c.value().begin(); it != c.value().end(); ++it) {
      if (!split_name_ok(it.key())) c.error(it.key(), "split names are train, val and test");
      const std::int64_t v = c.integer(it.key().c_str());
      if (v < 0) c.error(it.key(), "must be non-negative");
      s.counts[it.key()] = v;
    }
  }
  const bool field_known = s.field == id_column || s.field == "split" ||
                           std::any_of(meta.begin(), meta.end(), [&](const MetaSpec& m) { return m.name == s.field; });
  if (s.rule == "by_country") {
    for (const auto& name : kSplitNames) {
      if (!s.members.count(name)) n.error("members", fmt::format("must list the '{}' countries", name));
    }
    std::map<std::string, std::string> owner;
    for (const auto& [split, list] : s.members) {
      for (const auto& value : list) {
        auto [it, inserted] = owner.emplace(value, split);
        if (!inserted) {
          n.error("members", fmt::format("'{}' is in both '{}' and '{}'", value, it->second, split));
        }
      }
    }
    if (!field_known) n.error("field", fmt::format("'{}' is not a meta field", s.field));
  } else if (s.rule == "random" || s.rule == "stratified_random") {
    if (s.fractions.size() != 3) n.error("fractions", "must give train, val and test");
    if (!s.seed) n.error("seed", "is required for a random split");
  } else if (s.rule == "release_column") {
    if (s.values.empty()) n.error("values", "must map the release's values to split names");
  } else if (s.rule == "by_region") {
    if (!s.members.count("test")) n.error("members", "must list the held-out (test) region groups");
    if (s.fractions.size() != 2 || !s.fractions.count("train") || !s.fractions.count("val")) {
      n.error("fractions", "must split the remaining regions into train and val");
    }
    if (!s.seed) n.error("seed", "is required for the random part of the split");
  } else {
    n.error("rule",
            fmt::format("'{}' is not one of by_country, random, stratified_random, release_column, by_region", s.rule));
  }
  return s;
}

NormalizationSpec parse_normalization(const Node& n, const std::vector<InputSpec>& inputs,
                                      const std::vector<MetaSpec>& meta) {
  n.only({"input", "group", "select", "bands", "mean", "std", "source"});
  NormalizationSpec s;
  s.input = n.str("input");
  s.group = n.str("group", false);
  s.bands = n.strings("bands");
  s.mean = n.numbers("mean");
  s.std = n.numbers("std");
  s.source = n.str("source");
  const auto in = std::find_if(inputs.begin(), inputs.end(), [&](const InputSpec& i) { return i.name == s.input; });
  if (in == inputs.end()) n.error("input", fmt::format("'{}' is not an input of the task", s.input));
  for (const auto& b : s.bands) {
    if (std::find(in->bands.begin(), in->bands.end(), b) == in->bands.end()) {
      n.error("bands",
              fmt::format("'{}' is not a band of input '{}' (bands: {})", b, s.input, fmt::join(in->bands, ", ")));
    }
  }
  if (s.mean.size() != s.bands.size()) n.error("mean", "must have one value per band");
  if (s.std.size() != s.bands.size()) n.error("std", "must have one value per band");
  for (double v : s.std) {
    if (!(v > 0)) n.error("std", "values must be positive");
  }
  if (n.has("select") != !s.group.empty())
    n.error("select", "a group needs a select rule and a select rule needs a group");
  if (n.has("select")) {
    const Node sel = n.object("select");
    sel.only({"meta", "min", "max", "equals"});
    s.select_meta = sel.str("meta");
    s.select_min = sel.opt_number("min");
    s.select_max = sel.opt_number("max");
    if (sel.has("equals")) s.select_equals = sel.str("equals");
    if (!s.select_min && !s.select_max && !s.select_equals) sel.error("", "needs min, max or equals");
    if (std::none_of(meta.begin(), meta.end(), [&](const MetaSpec& m) { return m.name == s.select_meta; })) {
      sel.error("meta", fmt::format("'{}' is not a meta field of the task", s.select_meta));
    }
  }
  return s;
}

BaselineSpec parse_baseline(const Node& n, const std::vector<std::string>& metrics) {
  n.only({"model", "inputs", "metric", "value", "published", "variant", "comparable", "reference", "notes"});
  BaselineSpec b;
  b.model = n.str("model");
  b.inputs = n.str("inputs");
  b.metric = n.str("metric");
  b.value = n.number("value");
  b.published = n.str("published");
  b.variant = n.str("variant", false);
  b.comparable = n.boolean("comparable");
  b.reference = n.str("reference");
  b.notes = n.str("notes", false);
  if (std::find(metrics.begin(), metrics.end(), b.metric) == metrics.end()) {
    n.error("metric", fmt::format("'{}' is not one of the task's metrics ({})", b.metric, fmt::join(metrics, ", ")));
  }
  if (!std::isfinite(b.value)) n.error("value", "must be finite");
  return b;
}

// The card's fields in the order of docs/tasks.md, whatever the order in the card and its base.
json canonical_order(const json& j) {
  static const char* const order[] = {"id",        "sdg",      "name",           "description",   "family", "unit",
                                      "id_column", "variants", "inputs",         "targets",       "meta",   "groups",
                                      "split",     "metrics",  "primary_metric", "normalization", "train",  "baselines",
                                      "sources",   "notes"};
  json out = json::object();
  for (const char* key : order) {
    if (j.contains(key)) out[key] = j.at(key);
  }
  return out;
}

TaskCard parse_card(const json& j, const std::string& file) {
  const Node n(j, "", file);
  n.only({"id",     "sdg",       "name",    "description", "family", "unit",    "id_column",      "variants",
          "inputs", "targets",   "meta",    "groups",      "split",  "metrics", "primary_metric", "normalization",
          "train",  "baselines", "sources", "notes"});
  TaskCard c;
  c.file = file;
  c.id = n.str("id");
  if (!std::regex_match(c.id, std::regex("[a-z][a-z0-9_]*")))
    n.error("id", "must be lower case letters, digits and '_'");
  c.sdg = n.str("sdg");
  if (!std::regex_match(c.sdg, std::regex("[0-9]+[A-Z][0-9]*")))
    n.error("sdg", "expected an SDG code such as 1A or 2B1");
  c.name = n.str("name");
  c.description = n.str("description");
  c.family = n.str("family");
  c.unit = n.str("unit");
  c.id_column = n.str("id_column");
  c.variants = n.strings("variants", false);
  for (const auto& in : n.objects("inputs")) c.inputs.push_back(parse_input(in));
  if (c.inputs.empty()) n.error("inputs", "a task needs at least one input");
  require_unique<InputSpec>(n, "inputs", c.inputs, [](const InputSpec& i) { return i.name; });
  for (const auto& t : n.objects("targets")) c.targets.push_back(parse_target(t, c.variants));
  if (c.targets.empty()) n.error("targets", "a task needs at least one target");
  require_unique<TargetSpec>(n, "targets", c.targets, [](const TargetSpec& t) { return t.name; });
  for (const auto& m : n.objects("meta")) {
    m.only({"name", "type", "description"});
    MetaSpec spec{m.str("name"), m.str("type"), m.str("description")};
    if (spec.type != "string" && spec.type != "int" && spec.type != "float") {
      m.error("type", fmt::format("'{}' is not one of string, int, float", spec.type));
    }
    c.meta.push_back(std::move(spec));
  }
  require_unique<MetaSpec>(n, "meta", c.meta, [](const MetaSpec& m) { return m.name; });
  c.groups = n.strings("groups");
  for (const auto& g : c.groups) {
    if (std::none_of(c.meta.begin(), c.meta.end(), [&](const MetaSpec& m) { return m.name == g; })) {
      n.error("groups", fmt::format("'{}' is not a meta field of the task", g));
    }
  }
  c.split = parse_split(n.object("split"), c.meta, c.id_column);
  c.metrics = n.strings("metrics");
  if (c.metrics.empty()) n.error("metrics", "a task needs at least one metric");
  const auto& known = known_metric_ids();
  std::set<std::string> seen;
  for (const auto& m : c.metrics) {
    if (std::find(known.begin(), known.end(), m) == known.end()) {
      n.error("metrics", fmt::format("'{}' is not a metric id (known: {})", m, fmt::join(known, ", ")));
    }
    if (!seen.insert(m).second) n.error("metrics", fmt::format("'{}' appears twice", m));
  }
  c.primary_metric = n.str("primary_metric");
  if (!seen.count(c.primary_metric)) n.error("primary_metric", fmt::format("'{}' is not in metrics", c.primary_metric));
  for (const auto& s : n.objects("normalization")) c.normalization.push_back(parse_normalization(s, c.inputs, c.meta));
  if (n.has("train")) {
    // The default training configuration; its keys are checked by the learn component, which
    // owns them (docs/training.md).
    if (!n.raw("train").is_object()) n.error("train", "expected an object of training settings");
    c.train = n.raw("train").dump();
  }
  for (const auto& b : n.objects("baselines")) c.baselines.push_back(parse_baseline(b, c.metrics));
  c.sources = n.strings("sources");
  c.notes = n.str("notes", false);
  c.json = canonical_order(j).dump(2);
  return c;
}

json parse_json(const std::string& text, const std::string& file) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    fail<InputError>("{}: not valid JSON: {}", file, e.what());
  }
}

std::string stem_of(const std::string& name) {
  return std::filesystem::path(name).stem().string();
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

// SDG codes in natural order: the number, then the rest (1A < 1B < 2A < 2B1 < ... < 13A < 15A).
bool sdg_less(const std::string& a, const std::string& b) {
  const int na = std::stoi(a), nb = std::stoi(b);
  if (na != nb) return na < nb;
  return a < b;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail<IoError>("{}: cannot open", p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TaskRegistry TaskRegistry::from_sources(const std::vector<Source>& cards, const std::vector<Source>& bases) {
  std::map<std::string, std::pair<std::string, json>> base_map;
  for (const auto& b : bases) {
    json j = parse_json(b.text, b.name);
    if (!j.is_object()) fail<InputError>("{}: expected a JSON object", b.name);
    base_map[stem_of(b.name)] = {b.name, std::move(j)};
  }
  TaskRegistry reg;
  for (const auto& c : cards) {
    json j = parse_json(c.text, c.name);
    if (!j.is_object()) fail<InputError>("{}: expected a JSON object", c.name);
    std::string file = c.name;
    if (j.contains("base")) {
      if (!j["base"].is_string()) fail<InputError>("{}: field 'base': expected a string", c.name);
      const std::string base = j["base"].get<std::string>();
      auto it = base_map.find(base);
      if (it == base_map.end()) {
        std::vector<std::string> names;
        for (const auto& [k, v] : base_map) names.push_back(k);
        fail<InputError>("{}: field 'base': no base named '{}' (bases: {})", c.name, base, fmt::join(names, ", "));
      }
      json merged = it->second.second;
      j.erase("base");
      merged.merge_patch(j);
      j = std::move(merged);
      file = fmt::format("{} (with base {})", c.name, it->second.first);
    }
    TaskCard card = parse_card(j, file);
    if (stem_of(c.name) != card.id) {
      fail<InputError>("{}: field 'id': '{}' differs from the file name; name the file {}.json", c.name, card.id,
                       card.id);
    }
    for (const auto& other : reg.tasks_) {
      if (upper(other.sdg) == upper(card.sdg)) {
        fail<InputError>("{}: field 'sdg': '{}' is already used by {} ({})", c.name, card.sdg, other.id, other.file);
      }
      if (other.id == card.id) fail<InputError>("{}: field 'id': '{}' is declared twice", c.name, card.id);
    }
    reg.tasks_.push_back(std::move(card));
  }
  std::sort(reg.tasks_.begin(), reg.tasks_.end(),
            [](const TaskCard& a, const TaskCard& b) { return sdg_less(a.sdg, b.sdg); });
  return reg;
}

TaskRegistry TaskRegistry::from_directory(const std::filesystem::path& dir) {
  const auto tasks_dir = dir / "tasks";
  if (!std::filesystem::is_directory(tasks_dir)) {
    fail<IoError>("{}: not a task registry folder (expected {}/*.json)", dir.string(), tasks_dir.string());
  }
  auto collect = [](const std::filesystem::path& folder) {
    std::vector<Source> out;
    if (!std::filesystem::is_directory(folder)) return out;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(folder)) {
      if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) out.push_back({f.string(), read_text(f)});
    return out;
  };
  TaskRegistry reg = from_sources(collect(tasks_dir), collect(dir / "bases"));
  reg.origin_ = dir.string();
  return reg;
}

const TaskRegistry& TaskRegistry::builtin() {
  static const TaskRegistry reg = [] {
    std::vector<Source> cards, bases;
    for (std::size_t i = 0; i < detail::kEmbeddedTaskCardCount; ++i) {
      const auto& f = detail::kEmbeddedTaskCards[i];
      const std::string name = std::string("datasets/") + f.name;
      (name.rfind("datasets/bases/", 0) == 0 ? bases : cards).push_back({name, f.text});
    }
    TaskRegistry r = from_sources(cards, bases);
    r.origin_ = "built in";
    return r;
  }();
  return reg;
}

const TaskCard* TaskRegistry::find(std::string_view id_or_sdg) const {
  const std::string wanted = upper(id_or_sdg);
  for (const auto& t : tasks_) {
    if (upper(t.id) == wanted || upper(t.sdg) == wanted) return &t;
  }
  return nullptr;
}

const TaskCard& TaskRegistry::get(std::string_view id_or_sdg) const {
  if (const TaskCard* t = find(id_or_sdg)) return *t;
  std::vector<std::string> names;
  for (const auto& t : tasks_) names.push_back(fmt::format("{} ({})", t.id, t.sdg));
  fail<UsageError>("unknown task '{}'; valid tasks: {}", id_or_sdg, fmt::join(names, ", "));
}

}  // namespace sbench
