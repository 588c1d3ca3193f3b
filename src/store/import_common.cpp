#include "import_common.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_pipeline.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "sbench/core/hash.hpp"
#include "sbench/core/sysinfo.hpp"

namespace sbench::store {

namespace {
ElementType meta_type(const MetaSpec& m) {
  if (m.type == "string") return ElementType::string;
  if (m.type == "int") return ElementType::int64;
  return ElementType::float64;
}

ElementType target_type(const TargetSpec& t) {
  switch (t.kind) {
    case TargetKind::regression: return ElementType::float32;
    case TargetKind::segmentation: return ElementType::uint8;
    case TargetKind::binary:
    case TargetKind::multiclass: return t.num_classes <= 127 ? ElementType::int8 : ElementType::int16;
  }
  return ElementType::float32;
}
}  // namespace

Schema schema_from_card(const TaskCard& task, const TaskRegistry& registry) {
  Schema s;
  s.task = task.id;
  s.family = task.family;
  for (const auto& in : task.inputs) {
    Field f;
    f.group = Group::input;
    f.name = in.name;
    f.type = parse_element_type(in.dtype);
    f.shape = in.shape;
    f.bands = in.bands;
    f.axes = in.axes;
    s.fields.push_back(std::move(f));
  }
  std::vector<const TaskCard*> family;
  for (const auto& t : registry.tasks()) {
    if (t.family == task.family) family.push_back(&t);
  }
  for (const TaskCard* t : family) {
    s.tasks.push_back(t->id);
    for (const auto& target : t->targets) {
      if (s.find(target.name)) continue;
      Field f;
      f.group = Group::target;
      f.name = target.name;
      f.type = target_type(target);
      f.shape = target.shape;
      f.units = target.units;
      s.fields.push_back(std::move(f));
    }
  }
  for (const auto& m : task.meta) {
    Field f;
    f.group = Group::meta;
    f.name = m.name;
    f.type = meta_type(m);
    s.fields.push_back(std::move(f));
  }
  return s;
}

void Tally::add(const std::string& status, const std::string& sample) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = std::find_if(counts_.begin(), counts_.end(), [&](const auto& c) { return c.first == status; });
  if (it == counts_.end()) {
    counts_.emplace_back(status, 0);
    it = counts_.end() - 1;
  }
  ++it->second;
  auto& s = samples_[status];
  if (!sample.empty() && s.size() < 5) s.push_back(sample);
}

std::size_t Tally::count(const std::string& status) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, n] : counts_) {
    if (name == status) return n;
  }
  return 0;
}

ImportReport Tally::report(std::size_t written, std::size_t resumed) const {
  std::lock_guard<std::mutex> lock(mutex_);
  ImportReport r;
  r.written = written;
  r.resumed = resumed;
  r.counts = counts_;
  for (const auto& [k, v] : samples_) {
    if (!v.empty()) r.samples[k] = v;
  }
  return r;
}

void run_import(StoreWriter& writer, std::size_t count, int threads,
                const std::function<std::string(std::size_t)>& id_of,
                const std::function<Loaded(std::size_t, Example&)>& load, Tally& tally, const ProgressFn& progress,
                const std::string& written, const std::string& resumed) {
  const int workers = threads > 0 ? threads : available_cores();
  oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(workers));
  // At most `tokens` items are in flight and the last stage retires them in order, so item i can
  // use slot i % tokens: examples (large buffers) are allocated once and nothing leaks when a
  // stage throws.
  const std::size_t tokens = static_cast<std::size_t>(workers) * 2 + 2;
  struct Slot {
    std::size_t index = 0;
    std::unique_ptr<Example> example;
    Loaded loaded;
    bool skip = false;
  };
  std::vector<Slot> slots(tokens);
  for (auto& s : slots) s.example = std::make_unique<Example>(writer.schema());
  // Which items a resume already holds, decided before the pipeline: the last stage appends to
  // the writer's id set while the first would read it.
  std::vector<std::uint8_t> held(count, 0);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string id = id_of(i);
    held[i] = !id.empty() && writer.contains(id);
  }
  std::size_t next = 0;
  ProgressCounter counter(progress, count, "import");
  oneapi::tbb::parallel_pipeline(
      tokens, oneapi::tbb::make_filter<void, Slot*>(oneapi::tbb::filter_mode::serial_in_order,
                                                    [&](oneapi::tbb::flow_control& fc) -> Slot* {
                                                      if (next >= count) {
                                                        fc.stop();
                                                        return nullptr;
                                                      }
                                                      Slot* s = &slots[next % tokens];
                                                      s->index = next++;
                                                      s->loaded = Loaded{};
                                                      s->skip = held[s->index] != 0;
                                                      return s;
                                                    }) &
                  oneapi::tbb::make_filter<Slot*, Slot*>(oneapi::tbb::filter_mode::parallel,
                                                         [&](Slot* s) {
                                                           if (s->skip) return s;
                                                           s->loaded = load(s->index, *s->example);
                                                           if (s->loaded.status.empty()) writer.pack(*s->example);
                                                           return s;
                                                         }) &
                  oneapi::tbb::make_filter<Slot*, void>(oneapi::tbb::filter_mode::serial_in_order, [&](Slot* s) {
                    if (s->skip) {
                      tally.add(resumed);
                    } else if (s->loaded.status.empty()) {
                      for (auto& f : s->loaded.files) writer.add_source_file(std::move(f));
                      writer.append(*s->example);
                      tally.add(written);
                      for (const auto& n : s->loaded.notes) tally.add(n, s->example->id);
                    } else {
                      tally.add(s->loaded.status, s->loaded.sample);
                    }
                    counter.advance();
                  }));
}

}  // namespace sbench::store

namespace sbench::store::detail {

WriterOptions writer_options(const ImportOptions& options) {
  WriterOptions w;
  w.layout = options.layout;
  w.resume = options.resume;
  w.source = std::filesystem::absolute(options.from).string();
  w.command_line = options.command_line;
  return w;
}

ImportReport finish_import(StoreWriter& writer, const Tally& tally, const TaskCard& task, const ImportOptions& options,
                           const std::map<std::string, std::string>& attributes) {
  ImportReport report = tally.report(writer.size(), writer.resumed());
  if (writer.size() == 0) {
    writer.discard();
    fail<InputError>("{}: nothing could be imported for {} ({})", options.from.string(), task.id, report.to_json());
  }
  writer.set_attribute("import_report", report.to_json());
  writer.set_attribute("normalization", normalization_json(task));
  for (const auto& [k, v] : attributes) writer.set_attribute(k, v);
  writer.finish(options.progress);
  return report;
}

}  // namespace sbench::store::detail

namespace sbench::store {

std::uint8_t hash_split(const std::string& key, std::uint64_t seed, const std::map<std::string, double>& fractions) {
  const std::uint64_t z = mix64(fnv1a(key) ^ seed);
  const double u = static_cast<double>(z >> 11) * 0x1.0p-53;
  double cumulative = 0;
  for (const char* name : {"train", "val", "test"}) {
    auto it = fractions.find(name);
    if (it == fractions.end()) continue;
    cumulative += it->second;
    if (u < cumulative) return split_code(name);
  }
  // Rounding of fractions that sum to 1: the last listed split.
  for (const char* name : {"test", "val", "train"}) {
    if (fractions.count(name)) return split_code(name);
  }
  return kNoSplit;
}

std::uint8_t split_of_member(const SplitSpec& split, const std::string& value) {
  for (const auto& [name, members] : split.members) {
    if (std::find(members.begin(), members.end(), value) != members.end()) return split_code(name);
  }
  return kNoSplit;
}

std::string normalization_json(const TaskCard& task) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& n : task.normalization) {
    nlohmann::ordered_json e;
    e["input"] = n.input;
    if (!n.group.empty()) {
      e["group"] = n.group;
      e["select"]["meta"] = n.select_meta;
      if (n.select_min) e["select"]["min"] = *n.select_min;
      if (n.select_max) e["select"]["max"] = *n.select_max;
      if (n.select_equals) e["select"]["equals"] = *n.select_equals;
    }
    e["bands"] = n.bands;
    e["mean"] = n.mean;
    e["std"] = n.std;
    e["source"] = n.source;
    out.push_back(std::move(e));
  }
  return out.dump();
}

std::string ImportReport::to_json() const {
  nlohmann::ordered_json j;
  j["written"] = written;
  j["resumed"] = resumed;
  for (const auto& [status, n] : counts) j["counts"][status] = n;
  for (const auto& [status, ids] : samples) j["samples"][status] = ids;
  return j.dump();
}

}  // namespace sbench::store
