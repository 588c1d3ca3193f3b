// sbench store stats STORE.h5           per-band mean and std over the train split, into the store
// sbench store repack IN OUT --layout L  copy a store into the train or archive layout
// sbench store merge SHARD... --out STORE  join the shards of `sbench prepare --shard K/N`
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli.hpp"
#include "sbench/store/stats.hpp"
#include "sbench/store/store.hpp"

namespace sbench::app {

namespace {
struct StoreArgs {
  std::string store;
  std::string in;
  std::string out;
  std::string layout = "train";
  int deflate = 4;
  std::vector<std::string> shards;
};

int run_stats(Context& ctx, const StoreArgs& a) {
  std::vector<store::StatsGroup> groups;
  {
    store::StoreReader reader(a.store);
    // Per-sensor groups as the task card defines them (DMSP / VIIRS night lights, countries).
    if (const TaskCard* task = ctx.registry().find(reader.schema().task)) {
      for (const auto& n : task->normalization) {
        if (n.group.empty() || !reader.schema().find(n.select_meta)) continue;
        if (std::any_of(groups.begin(), groups.end(), [&](const auto& g) { return g.name == n.group; })) continue;
        groups.push_back({n.group, n.select_meta, n.select_min, n.select_max, n.select_equals});
      }
    }
  }
  const std::size_t n = store::compute_stats(a.store, groups, ctx.progress());
  std::cout << fmt::format("{}: statistics of {} train examples written to /stats\n", a.store, n);
  return 0;
}
}  // namespace

void add_store_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<StoreArgs>();
  auto* cmd = app.add_subcommand("store", "Operate on task stores");
  cmd->require_subcommand(1);
  auto* stats = cmd->add_subcommand("stats", "Per-band mean and std over the train split, written into the store");
  stats->add_option("store", a->store, "STORE.h5")->required()->check(CLI::ExistingFile);
  stats->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_stats(ctx, *a); }; });

  auto* repack = cmd->add_subcommand("repack", "Copy a store into the train or archive layout");
  repack->add_option("in", a->in, "Input STORE.h5")->required()->check(CLI::ExistingFile);
  repack->add_option("out", a->out, "Output STORE.h5")->required();
  repack->add_option("--layout", a->layout, "train (contiguous, uncompressed) or archive (chunked, deflate)")
      ->check(CLI::IsMember({"archive", "train"}))
      ->capture_default_str();
  repack->add_option("--deflate", a->deflate, "zlib level of the archive layout")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  repack->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      store::repack(a->in, a->out, store::parse_layout(a->layout), a->deflate, ctx.progress());
      std::cout << fmt::format("{}: {} layout\n", a->out, a->layout);
      return 0;
    };
  });

  auto* merge = cmd->add_subcommand("merge", "Join the shard stores of `sbench prepare --shard K/N` into one store");
  merge->add_option("shards", a->shards, "The N shard stores, any order")->required()->check(CLI::ExistingFile);
  merge->add_option("--out", a->out, "The store to write (STORE.h5)")->required();
  merge->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      std::vector<std::filesystem::path> shards(a->shards.begin(), a->shards.end());
      const std::size_t n = store::merge_shards(shards, a->out, ctx.command_line, ctx.progress());
      std::cout << fmt::format("{}: {} examples from {} shards\n", a->out, n, shards.size());
      return 0;
    };
  });
}

}  // namespace sbench::app
