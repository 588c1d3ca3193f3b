// The MODIS sinusoidal grid, for the builders that read MODIS cells where they are (crop_yield,
// land_cover_ood): the projection on the MODIS sphere, the 500 m products' cell (2400 per tile,
// 463.3 m) and square grids of those cells.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "sbench/raster/eos.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/scene.hpp"
#include "sbench/store/pipeline.hpp"

namespace sbench::prepare::modis {

inline const std::string& sinusoidal() {
  static const std::string s =
      fmt::format("+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R={} +units=m +no_defs", raster::kModisSphereRadius);
  return s;
}
// The CRS of a MODIS scene as GDAL reads it (its WKT), or sinusoidal() when it has none. GDAL's
// HDF4 driver names the sphere's datum, so PROJ does not take sinusoidal() as the same CRS: grids in
// the scene's own definition are read without resampling.
inline std::string product_crs(const raster::Scene& scene) {
  return scene.crs.empty() ? sinusoidal() : scene.crs;
}

constexpr double kCell = raster::kModisTileMetres / 2400;
constexpr double kOriginX = -18 * raster::kModisTileMetres, kOriginY = 9 * raster::kModisTileMetres;
constexpr double kPi = 3.14159265358979323846;

inline void to_sinusoidal(double lon, double lat, double& x, double& y) {
  const double phi = lat * kPi / 180;
  x = raster::kModisSphereRadius * lon * kPi / 180 * std::cos(phi);
  y = raster::kModisSphereRadius * phi;
}
inline void from_sinusoidal(double x, double y, double& lon, double& lat) {
  const double phi = y / raster::kModisSphereRadius;
  lat = phi * 180 / kPi;
  lon = x / (raster::kModisSphereRadius * std::cos(phi)) * 180 / kPi;
}

// The square grid of cells that covers the box [min_x, max_x] x [min_y, max_y] (sinusoidal metres),
// its corner on a cell corner: `side` cells a side from the upper-left corner (x0, y1).
struct CellGrid {
  int side = 0;
  double x0 = 0, y1 = 0;
  // In `crs` (the products' own definition of the sinusoidal projection, product_crs()).
  raster::TileGrid grid(const std::string& crs) const {
    return raster::make_grid_at(x0 + side * kCell / 2, y1 - side * kCell / 2, side, kCell, crs);
  }
  // The cell of a point, or -1 outside.
  long cell_of(double x, double y) const {
    const double c = std::floor((x - x0) / kCell), r = std::floor((y1 - y) / kCell);
    if (c < 0 || r < 0 || c >= side || r >= side) return -1;
    return static_cast<long>(r) * side + static_cast<long>(c);
  }
};
inline CellGrid cell_grid(double min_x, double min_y, double max_x, double max_y) {
  const double c0 = std::floor((min_x - kOriginX) / kCell), c1 = std::ceil((max_x - kOriginX) / kCell);
  const double r0 = std::floor((kOriginY - max_y) / kCell), r1 = std::ceil((kOriginY - min_y) / kCell);
  CellGrid g;
  g.side = static_cast<int>(std::max({c1 - c0, r1 - r0, 1.0}));
  g.x0 = kOriginX + c0 * kCell;
  g.y1 = kOriginY - r0 * kCell;
  return g;
}

// Whether a scene has every subdataset of `need`; when not, a warning naming the file and the missing
// ones, and the file counted as missing_subdatasets.
inline bool has_subdatasets(const raster::Scene& s, const std::vector<std::string>& need, store::Tally& tally) {
  std::vector<std::string> missing;
  for (const auto& b : need) {
    if (!s.find(b)) missing.push_back(b);
  }
  if (missing.empty()) return true;
  const std::string file = s.files.empty() ? s.product : s.files.front();
  spdlog::warn("{}: no {} subdataset(s): scene skipped", file, fmt::join(missing, ", "));
  tally.add("missing_subdatasets", file);
  return false;
}

}  // namespace sbench::prepare::modis
