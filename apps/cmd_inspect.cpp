// sbench inspect STORE.h5 [--json]: what a store holds.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "sbench/store/store.hpp"

namespace sbench::app {

namespace {
struct InspectArgs {
  std::string store;
  bool json = false;
};

nlohmann::ordered_json describe(const store::StoreReader& r) {
  nlohmann::ordered_json j;
  const auto& s = r.schema();
  j["store"] = r.path().string();
  j["task"] = s.task;
  j["family"] = s.family;
  j["tasks"] = s.tasks;
  j["format"] = r.format_version();
  j["layout"] = std::string(to_string(r.layout()));
  j["examples"] = r.size();
  j["splits"] = r.split_counts();
  for (const auto& f : s.fields) {
    nlohmann::ordered_json e;
    e["name"] = f.name;
    e["group"] = std::string(to_string(f.group));
    e["dtype"] = std::string(to_string(f.type));
    e["shape"] = f.shape;
    if (!f.bands.empty()) e["bands"] = f.bands;
    if (!f.axes.empty()) e["axes"] = f.axes;
    if (!f.units.empty()) e["units"] = f.units;
    j["fields"].push_back(e);
  }
  for (const auto& [group, fields] : r.stats()) {
    for (const auto& [field, st] : fields) {
      j["stats"][field][group] = {{"mean", st.mean}, {"std", st.std}, {"count", st.count}};
    }
  }
  const auto& attrs = r.attributes();
  for (const char* key : {"sbench_version", "created", "command_line", "source"}) {
    auto it = attrs.find(key);
    if (it != attrs.end()) j["provenance"][key] = it->second;
  }
  const auto files = r.source_files();
  std::uint64_t bytes = 0;
  for (const auto& f : files) bytes += f.size;
  j["provenance"]["source_files"] = files.size();
  j["provenance"]["source_bytes"] = bytes;
  for (const char* key : {"import_report", "normalization"}) {
    auto it = attrs.find(key);
    if (it != attrs.end()) j[key] = nlohmann::ordered_json::parse(it->second);
  }
  return j;
}

void print_text(const nlohmann::ordered_json& j) {
  std::cout << fmt::format("{}\n  task {} (family {}; serves {}), format {}, {} layout\n",
                           j["store"].get<std::string>(), j["task"].get<std::string>(), j["family"].get<std::string>(),
                           fmt::join(j["tasks"].get<std::vector<std::string>>(), ", "), j["format"].get<int>(),
                           j["layout"].get<std::string>());
  std::vector<std::string> splits;
  for (auto it = j["splits"].begin(); it != j["splits"].end(); ++it) {
    splits.push_back(fmt::format("{} {}", it.key(), it.value().get<std::size_t>()));
  }
  std::cout << fmt::format("  {} examples: {}\n\n", j["examples"].get<std::size_t>(), fmt::join(splits, ", "));
  std::cout << fmt::format("  {:<8} {:<18} {:<8} {:<16} {}\n", "GROUP", "FIELD", "DTYPE", "SHAPE", "BANDS");
  for (const auto& f : j["fields"]) {
    std::cout << fmt::format(
        "  {:<8} {:<18} {:<8} {:<16} {}\n", f["group"].get<std::string>(), f["name"].get<std::string>(),
        f["dtype"].get<std::string>(), fmt::format("{}", fmt::join(f["shape"].get<std::vector<std::int64_t>>(), "x")),
        f.contains("bands") ? fmt::format("{}", fmt::join(f["bands"].get<std::vector<std::string>>(), " ")) : "");
  }
  if (j.contains("stats")) {
    std::cout << "\n  train-split statistics (sbench store stats):\n";
    for (auto f = j["stats"].begin(); f != j["stats"].end(); ++f) {
      for (auto g = f.value().begin(); g != f.value().end(); ++g) {
        std::vector<std::string> parts;
        const auto mean = g.value()["mean"].get<std::vector<double>>();
        const auto sd = g.value()["std"].get<std::vector<double>>();
        for (std::size_t i = 0; i < mean.size(); ++i) parts.push_back(fmt::format("{:.6g}±{:.4g}", mean[i], sd[i]));
        std::cout << fmt::format("    {} [{}]: {}\n", f.key(), g.key(), fmt::join(parts, "  "));
      }
    }
  }
  const auto& p = j["provenance"];
  std::cout << "\n  provenance:\n";
  for (auto it = p.begin(); it != p.end(); ++it) std::cout << fmt::format("    {}: {}\n", it.key(), it.value().dump());
  if (j.contains("import_report")) std::cout << fmt::format("  import: {}\n", j["import_report"].dump());
}
}  // namespace

void add_inspect_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<InspectArgs>();
  auto* cmd = app.add_subcommand("inspect", "Show what a task store holds");
  cmd->add_option("store", a->store, "STORE.h5")->required();
  cmd->add_flag("--json", a->json, "Print as JSON");
  cmd->callback([&ctx, a] {
    ctx.action = [a] {
      store::StoreReader reader(a->store);
      const auto j = describe(reader);
      if (a->json) {
        std::cout << j.dump(2) << '\n';
      } else {
        print_text(j);
      }
      return 0;
    };
  });
}

}  // namespace sbench::app
