// sbench street import --store DHS.h5 --out DHS_STREET.h5 (--from DIR | --images DIR --metadata CSV)
//                      [--size 256] [--radius 0.1] [--years 3] [--max-per-cluster 300] [--threads N]
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli.hpp"
#include "sbench/prepare/street.hpp"

namespace sbench::app {

namespace {
struct StreetArgs {
  std::string store, out, from, images, metadata;
  int size = 256, years = 3, max_per_cluster = 300, threads = 0;
  double radius = 0.1;
};

int run_street_import(Context& ctx, const StreetArgs& a) {
  prepare::StreetOptions opt;
  opt.store = a.store;
  opt.out = a.out;
  opt.from = a.from;
  opt.images = a.images;
  opt.metadata = a.metadata;
  opt.size = a.size;
  opt.radius_deg = a.radius;
  opt.years = a.years;
  opt.max_per_cluster = a.max_per_cluster;
  opt.threads = a.threads;
  opt.progress = ctx.progress();
  const auto report = prepare::import_street(opt);
  std::cout << fmt::format("{}: {} street images\n", a.out, report.written);
  for (const auto& [status, n] : report.counts) {
    std::string line = fmt::format("  {:<24} {:>8}", status, n);
    auto it = report.samples.find(status);
    if (it != report.samples.end() && status != "imported")
      line += fmt::format("   e.g. {}", fmt::join(it->second, ", "));
    std::cout << line << "\n";
  }
  return 0;
}
}  // namespace

void add_street_command(CLI::App& app, Context& ctx) {
  auto* street = app.add_subcommand("street", "Street-level images of the DHS clusters");
  street->require_subcommand(1);
  auto a = std::make_shared<StreetArgs>();
  auto* cmd = street->add_subcommand(
      "import",
      "Add street-level images (the release's Mapillary layout, or your own with a metadata CSV) to a copy "
      "of a DHS store");
  cmd->add_option("--store", a->store, "The DHS store (ids, lat, lon, year)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "The store to write: a copy of --store with /street")->required();
  auto* from = cmd->add_option("--from", a->from,
                               "The release: mapillary/ (metadata/{CC}.csv, imagery/{CC}/{DHSID_EA}/{id}.jpeg)")
                   ->check(CLI::ExistingDirectory);
  cmd->add_option("--images", a->images, "Your own images: a folder of JPEGs ...")
      ->check(CLI::ExistingDirectory)
      ->excludes(from);
  cmd->add_option("--metadata", a->metadata, "... and their CSV (id, lat, lon, year or timestamp in ms, optional file)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--size", a->size, "Pixels per side of the stored square images")
      ->check(CLI::Range(8, 4096))
      ->capture_default_str();
  cmd->add_option("--radius", a->radius, "Own images: degrees of latitude and longitude around a cluster")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--years", a->years, "Own images: years around the survey")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-per-cluster", a->max_per_cluster, "Own images: the nearest N per cluster")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "Images decoded in parallel (default: every core)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_street_import(ctx, *a); }; });
}

}  // namespace sbench::app
