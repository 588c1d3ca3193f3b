// sbench tile --scene FILE... --lon X --lat Y --size N --res METRES [--crs EPSG:CODE|UTM]
//             [--bands 1,2,...] [--resampling bilinear] [--composite median] [--min-valid F] --out OUT.tif
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/warp.hpp"

namespace sbench::app {

namespace {
struct TileArgs {
  std::vector<std::string> scenes;
  std::string sensor = "generic";
  double lon = 0, lat = 0;
  int size = 0;
  double res = 0;
  std::string crs = "UTM";
  std::vector<int> bands;
  std::string resampling = "bilinear";
  std::string composite = "median";
  double min_valid = 0;
  bool south_up = false;
  std::string out;
};

int run_tile(const TileArgs& a) {
  if (a.sensor != "generic") {
    fail<UsageError>("sensor '{}' is not available yet; 'generic' reads bands by index, unscaled", a.sensor);
  }
  const raster::TileGrid grid = raster::make_grid(a.lon, a.lat, a.size, a.res, a.crs, a.south_up);
  raster::WarpOptions w;
  w.bands = a.bands;
  w.resampling = raster::parse_resampling(a.resampling);
  const raster::Composite mode = raster::parse_composite(a.composite);
  std::vector<raster::WarpedTile> tiles;
  for (const auto& scene : a.scenes) {
    raster::WarpedTile t = raster::warp_to_grid(scene, grid, w);
    if (t.valid_fraction > 0) tiles.push_back(std::move(t));
  }
  // A point no scene covers is "no imagery", never a tile of zeros.
  if (tiles.empty()) {
    fail<InputError>("no imagery: point ({}, {}) is covered by none of the {} scene(s)", a.lon, a.lat, a.scenes.size());
  }
  const raster::WarpedTile tile = tiles.size() == 1 ? tiles.front() : raster::composite(tiles, mode);
  if (tile.valid_fraction < a.min_valid) {
    fail<InputError>("point ({}, {}): only {:.1f}% of the tile has imagery, below --min-valid {:.1f}%", a.lon, a.lat,
                     100 * tile.valid_fraction, 100 * a.min_valid);
  }
  raster::write_geotiff(a.out, tile, grid);
  std::cout << fmt::format("{}: {} band(s), {} x {} px of {} m in {}, {} scene(s), {:.1f}% valid\n", a.out, tile.bands,
                           grid.size, grid.size, grid.res, grid.crs, tiles.size(), 100 * tile.valid_fraction);
  return 0;
}
}  // namespace

void add_tile_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<TileArgs>();
  auto* cmd = app.add_subcommand("tile", "Cut a tile centred on a point from one or several scenes");
  cmd->add_option("--scene", a->scenes, "Raster file(s) GDAL can open")->required()->check(CLI::ExistingFile);
  cmd->add_option("--sensor", a->sensor, "Sensor profile (generic: bands by index, no scaling)")->capture_default_str();
  cmd->add_option("--lon", a->lon, "Centre longitude (WGS 84)")->required();
  cmd->add_option("--lat", a->lat, "Centre latitude (WGS 84)")->required();
  cmd->add_option("--size", a->size, "Pixels per side")->required();
  cmd->add_option("--res", a->res, "Pixel size in metres")->required();
  cmd->add_option("--crs", a->crs, "EPSG:CODE, or UTM for the point's zone")->capture_default_str();
  cmd->add_option("--bands", a->bands, "1-based band indices (default: all)")->delimiter(',');
  cmd->add_option("--resampling", a->resampling, "nearest, bilinear, cubic or average")->capture_default_str();
  cmd->add_option("--composite", a->composite, "median, mean or first, over several scenes")->capture_default_str();
  cmd->add_option("--min-valid", a->min_valid, "Least share of valid pixels (0-1)")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--out", a->out, "OUT.tif (float32 GeoTIFF, NaN nodata)")->required();
  cmd->callback([&ctx, a] { ctx.action = [a] { return run_tile(*a); }; });
}

}  // namespace sbench::app
