// sbench synth TASK --out DIR [--seed S] [--n N]
// sbench prepare TASK --labels FILE (--imagery DIR... | --catalog catalog.json) --out STORE.h5
//                [--shard K/N] [--resume] [--threads N] [--layout archive|train]
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli.hpp"
#include "sbench/prepare/prepare.hpp"
#include "sbench/prepare/synth.hpp"
#include "sbench/raster/catalog.hpp"

namespace sbench::app {

namespace {
struct PrepareArgs {
  std::string task;
  std::string labels;
  std::vector<std::string> imagery;
  std::string catalog;
  std::string out;
  std::string shard;
  std::string layout = "archive";
  bool resume = false;
  int threads = 0;
  int year = 0;
  std::string region, start, end;
  int sample = 0;
  int triplets = 0;
  bool indices = false, planet_native = false;
};

int run_prepare(Context& ctx, const PrepareArgs& a) {
  const TaskCard& task = ctx.registry().get(a.task);
  prepare::PrepareOptions opt;
  opt.labels = a.labels;
  opt.imagery = a.imagery;
  opt.catalog = a.catalog;
  opt.out = a.out;
  if (!a.shard.empty()) std::tie(opt.shard, opt.shards) = prepare::parse_shard(a.shard);
  opt.layout = store::parse_layout(a.layout);
  opt.resume = a.resume;
  opt.threads = a.threads;
  opt.year = a.year;
  opt.region = a.region;
  opt.sample = a.sample;
  opt.triplets = a.triplets;
  opt.indices = a.indices;
  opt.planet_native = a.planet_native;
  if (!a.start.empty()) opt.start = raster::check_date(a.start, "--start");
  if (!a.end.empty()) opt.end = raster::check_date(a.end, "--end");
  opt.command_line = ctx.command_line;
  opt.progress = ctx.progress();
  const auto report = prepare::prepare_task(task, ctx.registry(), opt);
  std::cout << fmt::format("{}: {} examples ({} layout{}{})\n", a.out, report.written, a.layout,
                           a.shard.empty() ? "" : ", shard " + a.shard,
                           report.resumed ? fmt::format(", {} resumed", report.resumed) : "");
  for (const auto& [status, n] : report.counts) {
    std::string line = fmt::format("  {:<20} {:>8}", status, n);
    auto it = report.samples.find(status);
    if (it != report.samples.end()) line += fmt::format("   e.g. {}", fmt::join(it->second, ", "));
    std::cout << line << '\n';
  }
  return 0;
}
struct SynthArgs {
  std::string task;
  std::string out;
  std::uint64_t seed = 0;
  int n = 0;
  bool street = false;
};

int run_synth(Context& ctx, const SynthArgs& a) {
  const TaskCard& task = ctx.registry().get(a.task);
  prepare::SynthOptions opt;
  opt.out = a.out;
  opt.seed = a.seed;
  opt.n = a.n;
  opt.street = a.street;
  const prepare::SynthResult r = prepare::synth_task(task, opt);
  std::cout << fmt::format("{}: {} files (seed {}): labels {}, imagery {}\n", a.out, r.files.size(), a.seed, r.labels,
                           fmt::join(r.imagery, ", "));
  std::cout << "next:\n  " << r.prepare_command << "\n";
  if (!r.street_command.empty()) std::cout << "  " << r.street_command << "\n";
  return 0;
}
}  // namespace

void add_synth_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<SynthArgs>();
  auto* cmd =
      app.add_subcommand("synth", "Write a small synthetic raw input set for `sbench prepare` (demo and tests)");
  cmd->add_option("task", a->task, "Task id or SDG code")->required();
  cmd->add_option("--out", a->out, "The folder to write (new or empty)")->required();
  cmd->add_option("--seed", a->seed, "Random seed: the same seed writes the same files")->capture_default_str();
  cmd->add_option("--n", a->n, "Examples to write (DHS: clusters; default 36)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--street", a->street, "DHS tasks: also street-level images of a third of the clusters (mapillary/)");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_synth(ctx, *a); }; });
}

void add_prepare_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<PrepareArgs>();
  auto* cmd = app.add_subcommand("prepare", "Build a task store from raw imagery and a label file");
  cmd->add_option("task", a->task, "Task id or SDG code (the six DHS tasks share one store)")->required();
  cmd->add_option("--labels", a->labels,
                  "The label file: dhs_final_labels.csv (DHS tasks), the LSMS pairs CSV (poverty_change), the "
                  "Cropland Data Layer raster (cropland), the yields CSV (crop_yield: country, region, year, yield), "
                  "the regions CSV (land_cover_ood: region, region_group, lon, lat); the CDL raster (land_cover_rep); "
                  "field polygons (crop_type_africa, crop_type_kenya)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--imagery", a->imagery, "Folders (or files) of scenes, scanned recursively");
  cmd->add_option("--catalog", a->catalog, "A catalog from `sbench catalog build`")->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "The store to write (STORE.h5)")->required();
  cmd->add_option("--shard", a->shard, "K/N: prepare block K of N of the label rows (merge with `sbench store merge`)");
  cmd->add_option("--layout", a->layout, "archive (chunked, deflate) or train (contiguous, uncompressed)")
      ->check(CLI::IsMember({"archive", "train"}))
      ->capture_default_str();
  cmd->add_flag("--resume", a->resume, "Continue an interrupted run with the same inputs");
  cmd->add_option(
      "--year", a->year,
      "Year of the composite (cropland; default 2017, the release's), of the series (land_cover_ood; default 2018) or "
      "of the NAIP images (land_cover_rep; default any)");
  cmd->add_option("--region", a->region,
                  "Polygon to tile (brick_kiln), or the region polygons (crop_yield); GeoJSON, GeoPackage, Shapefile")
      ->check(CLI::ExistingFile);
  cmd->add_option("--start", a->start,
                  "First day of the season (brick_kiln; default 2018-10-01) or of the scenes (crop_type_africa)");
  cmd->add_option("--end", a->end,
                  "Last day of the season (brick_kiln; default 2019-05-31) or of the scenes (crop_type_africa)");
  cmd->add_flag("--indices", a->indices,
                "Also store NDVI and GCVI of the Sentinel-2 and PlanetScope series (crop_type_africa)");
  cmd->add_flag("--planet-native", a->planet_native,
                "Also store PlanetScope at 3 m, 212 x 212 pixels centred on the tile (crop_type_africa)");
  cmd->add_option("--sample", a->sample,
                  "Parcels to centre tiles on (field_delineation; default 2000), points per region (land_cover_ood; "
                  "default 500) or tiles to sample (land_cover_rep; default all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--triplets", a->triplets,
                  "Tile2Vec triplets (anchor, neighbour within 100 m, distant tile) instead of the grid's tiles "
                  "(land_cover_rep)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", a->threads, "Clusters cut in parallel (default: every core)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_prepare(ctx, *a); }; });
}

}  // namespace sbench::app
