// sbench catalog build DIR... --out catalog.json [--sensor auto]
// sbench catalog query catalog.json [--lon X --lat Y | --box W,S,E,N] [--start DATE] [--end DATE] [--sensor NAME]
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>

#include "cli.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/catalog.hpp"

namespace sbench::app {

namespace {
struct CatalogArgs {
  std::vector<std::string> paths;
  std::string out, sensor = "auto";
  std::string catalog;
  double lon = std::nan(""), lat = std::nan("");
  std::vector<double> box;
  std::string start, end;
  bool json = false;
};

int run_build(const CatalogArgs& a) {
  const raster::Catalog c = raster::build_catalog(a.paths, a.sensor);
  raster::write_catalog(a.out, c);
  std::map<std::string, int> per_sensor;
  for (const auto& s : c.scenes) ++per_sensor[s.sensor];
  std::cout << fmt::format("{}: {} scene(s)", a.out, c.scenes.size());
  for (const auto& [s, n] : per_sensor) std::cout << fmt::format(", {} {}", n, s);
  std::cout << fmt::format("; {} file(s) not recognised\n", c.unrecognised.size());
  const std::size_t shown = std::min<std::size_t>(c.unrecognised.size(), 20);
  for (std::size_t k = 0; k < shown; ++k) {
    std::cout << fmt::format("  not recognised: {}: {}\n", c.unrecognised[k].path, c.unrecognised[k].reason);
  }
  if (shown < c.unrecognised.size()) {
    std::cout << fmt::format("  ... and {} more, listed in {}\n", c.unrecognised.size() - shown, a.out);
  }
  return c.scenes.empty() ? 1 : 0;
}

int run_query(const CatalogArgs& a) {
  const raster::Catalog c = raster::read_catalog(a.catalog);
  raster::SceneQuery q;
  q.sensor = a.sensor;
  if (!a.start.empty()) q.start = raster::check_date(a.start, "--start");
  if (!a.end.empty()) q.end = raster::check_date(a.end, "--end");
  if (!std::isnan(a.lon) || !std::isnan(a.lat)) {
    if (std::isnan(a.lon) || std::isnan(a.lat)) fail<UsageError>("--lon and --lat go together");
    if (a.lat < -90 || a.lat > 90) fail<UsageError>("--lat {} is outside [-90, 90]", a.lat);
    q.box = std::array<double, 4>{a.lon, a.lat, a.lon, a.lat};
  }
  if (!a.box.empty()) {
    if (a.box.size() != 4 || a.box[0] > a.box[2] || a.box[1] > a.box[3]) {
      fail<UsageError>("--box expects WEST,SOUTH,EAST,NORTH with west <= east and south <= north");
    }
    q.box = std::array<double, 4>{a.box[0], a.box[1], a.box[2], a.box[3]};
  }
  const auto found = raster::query_catalog(c, q);
  for (const raster::Scene* s : found) {
    std::cout << fmt::format("{}\t{}\t{}\t{}\t{}\n", s->date.empty() ? "-" : s->date, s->sensor, s->product, s->crs,
                             s->files.empty() ? "" : s->files.front());
  }
  std::cerr << fmt::format("{} scene(s)\n", found.size());
  return 0;
}
}  // namespace

void add_catalog_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<CatalogArgs>();
  auto* cmd = app.add_subcommand("catalog", "Index scenes by sensor, date and footprint; query the index");
  cmd->require_subcommand(1);
  auto* build = cmd->add_subcommand("build", "Scan files and folders for scenes of known sensors");
  build->add_option("paths", a->paths, "Files or folders (walked recursively)")->required();
  build->add_option("--out", a->out, "catalog.json")->required();
  build->add_option("--sensor", a->sensor, "Only this sensor profile (auto: all; generic: any raster)")
      ->capture_default_str();
  build->callback([&ctx, a] { ctx.action = [a] { return run_build(*a); }; });
  auto* query = cmd->add_subcommand("query", "Scenes that cover a point or box within a date window");
  query->add_option("catalog", a->catalog, "catalog.json")->required()->check(CLI::ExistingFile);
  query->add_option("--lon", a->lon, "Longitude of a point");
  query->add_option("--lat", a->lat, "Latitude of a point");
  query->add_option("--box", a->box, "WEST,SOUTH,EAST,NORTH")->delimiter(',');
  query->add_option("--start", a->start, "YYYY-MM-DD");
  query->add_option("--end", a->end, "YYYY-MM-DD");
  query->add_option("--sensor", a->sensor, "Only this sensor profile")->capture_default_str();
  query->callback([&ctx, a] { ctx.action = [a] { return run_query(*a); }; });
}

}  // namespace sbench::app
