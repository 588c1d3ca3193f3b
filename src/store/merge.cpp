// `sbench store merge`: the shards of a prepare run joined into one store (docs/prepare.md).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "sbench/core/error.hpp"
#include "sbench/store/store.hpp"

namespace sbench::store {

namespace fs = std::filesystem;

namespace {
// Attributes the writer sets itself, or that merging recomputes.
bool own_attribute(const std::string& name) {
  static const std::set<std::string> names = {"task",   "family",  "layout", "sbench_version", "command_line",
                                              "source", "created", "shard",  "prepare_report"};
  return names.count(name) > 0;
}

std::string strip_shard(const std::string& source) {
  const auto at = source.rfind(" shard=");
  return at == std::string::npos ? source : source.substr(0, at);
}
}  // namespace

std::size_t merge_shards(const std::vector<fs::path>& paths, const fs::path& out, const std::string& command_line,
                         const ProgressFn& progress) {
  if (paths.empty()) fail<UsageError>("store merge: no shard stores given");
  std::vector<std::unique_ptr<StoreReader>> readers;
  std::map<int, std::size_t> by_shard;
  int total = -1;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto r = std::make_unique<StoreReader>(paths[i]);
    const auto& attrs = r->attributes();
    if (!attrs.count("source")) fail<InputError>("{}: no 'source' attribute: not an sbench store", paths[i].string());
    const auto it = attrs.find("shard");
    if (it == attrs.end()) {
      fail<InputError>("{}: not a shard (no 'shard' attribute: made without `sbench prepare --shard K/N`)",
                       paths[i].string());
    }
    int k = -1, n = -1;
    if (std::sscanf(it->second.c_str(), "%d/%d", &k, &n) != 2 || k < 0 || n < 1 || k >= n) {
      fail<InputError>("{}: shard attribute '{}' is not K/N", paths[i].string(), it->second);
    }
    if (total >= 0 && n != total) {
      fail<InputError>("{}: shard {}/{}, but {} is a shard of {}", paths[i].string(), k, n, paths.front().string(),
                       total);
    }
    total = n;
    if (auto [at, fresh] = by_shard.emplace(k, i); !fresh) {
      fail<InputError>("{} and {} are both shard {}/{}", paths[at->second].string(), paths[i].string(), k, n);
    }
    if (i > 0) {
      const StoreReader& first = *readers.front();
      if (r->schema().task != first.schema().task || r->schema().digest() != first.schema().digest()) {
        fail<InputError>("{}: a store of {} with other fields than {} ({})", paths[i].string(), r->schema().task,
                         paths.front().string(), first.schema().task);
      }
      if (strip_shard(attrs.at("source")) != strip_shard(first.attributes().at("source"))) {
        fail<InputError>("{}: made from '{}', but {} from '{}'", paths[i].string(), strip_shard(attrs.at("source")),
                         paths.front().string(), strip_shard(first.attributes().at("source")));
      }
      for (const auto& [name, value] : attrs) {
        if (own_attribute(name)) continue;
        const auto o = first.attributes().find(name);
        if (o == first.attributes().end() || o->second != value) {
          fail<InputError>("{}: attribute '{}' differs from {}'s: the shards were made with other settings",
                           paths[i].string(), name, paths.front().string());
        }
      }
    }
    readers.push_back(std::move(r));
  }
  std::vector<int> missing;
  for (int k = 0; k < total; ++k) {
    if (!by_shard.count(k)) missing.push_back(k);
  }
  if (!missing.empty()) {
    fail<InputError>("shard(s) {} of {} missing (given: {})", fmt::join(missing, ", "), total, paths.size());
  }

  const StoreReader& first = *readers[by_shard.begin()->second];
  const Schema schema = first.schema();
  WriterOptions w;
  w.layout = first.layout();
  w.source = strip_shard(first.attributes().at("source"));
  w.command_line = command_line;
  StoreWriter writer(out, schema, w);

  std::size_t examples = 0;
  for (const auto& r : readers) examples += r->size();
  ProgressCounter counter(progress, examples, "merge");
  std::map<std::string, std::size_t> counts;
  std::map<std::string, std::vector<std::string>> samples;
  std::map<std::string, SourceFile> sources_seen;
  Example ex(writer.schema());
  for (const auto& [k, index] : by_shard) {
    const StoreReader& r = *readers[index];
    for (const auto& f : r.source_files()) {
      const auto [at, fresh] = sources_seen.emplace(f.path, f);
      if (fresh) {
        writer.add_source_file(f);
      } else if (at->second.size != f.size || at->second.crc32 != f.crc32) {
        fail<InputError>(
            "{}: made from another {} than the other shards (size or CRC-32 differ): the shards must "
            "be made from the same files",
            paths[index].string(), f.path);
      }
    }
    std::vector<std::vector<std::string>> strings(schema.fields.size());
    for (std::size_t f = 0; f < schema.fields.size(); ++f) {
      if (schema.fields[f].type == ElementType::string) strings[f] = r.read_strings(schema.fields[f].name);
    }
    for (std::size_t i = 0; i < r.size(); ++i) {
      ex.id = r.ids()[i];
      ex.split = r.splits()[i];
      for (std::size_t f = 0; f < schema.fields.size(); ++f) {
        const Field& field = schema.fields[f];
        if (field.type == ElementType::string) {
          ex.set(field.name, strings[f][i]);
        } else {
          r.read(field.name, i, 1, ex.bytes(f));
        }
      }
      writer.pack(ex);
      writer.append(ex);
      counter.advance();
    }
    const auto rep = r.attributes().find("prepare_report");
    if (rep != r.attributes().end()) {
      const auto j = nlohmann::json::parse(rep->second, nullptr, false);
      if (j.is_discarded()) fail<InputError>("{}: prepare_report is not JSON", paths[index].string());
      if (j.contains("counts") && j.at("counts").is_object()) {
        const nlohmann::json& c = j.at("counts");
        for (auto it = c.begin(); it != c.end(); ++it) counts[it.key()] += it.value().get<std::size_t>();
      }
      if (j.contains("samples") && j.at("samples").is_object()) {
        const nlohmann::json& sm = j.at("samples");
        for (auto it = sm.begin(); it != sm.end(); ++it) {
          auto& s = samples[it.key()];
          for (const auto& id : it.value()) {
            if (s.size() < 5) s.push_back(id.get<std::string>());
          }
        }
      }
    }
  }
  for (const auto& [name, value] : first.attributes()) {
    if (!own_attribute(name)) writer.set_attribute(name, value);
  }
  if (first.attributes().count("prepare_report")) {
    nlohmann::ordered_json j;
    j["counts"] = nlohmann::json::object();
    for (const auto& [status, n] : counts) j["counts"][status] = n;
    j["samples"] = nlohmann::json::object();
    for (const auto& [status, ids] : samples) j["samples"][status] = ids;
    writer.set_attribute("prepare_report", j.dump());
  }
  writer.finish(progress);
  return examples;
}

}  // namespace sbench::store
