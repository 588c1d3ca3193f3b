#include "sbench/raster/grid.hpp"

#include <fmt/format.h>
#include <ogr_spatialref.h>
#include <algorithm>

#include <cmath>
#include <memory>

#include "sbench/core/error.hpp"
#include "sbench/raster/gdal_env.hpp"

namespace sbench::raster {

std::string utm_crs(double lon, double lat) {
  const int zone = std::clamp(static_cast<int>(std::floor((lon + 180.0) / 6.0)) + 1, 1, 60);
  return fmt::format("EPSG:{}", (lat >= 0 ? 32600 : 32700) + zone);
}

TileGrid make_grid(double lon, double lat, int size, double res, std::string_view crs, bool south_up) {
  init_gdal();
  if (!(lat >= -90 && lat <= 90)) fail<UsageError>("latitude {} is outside [-90, 90]", lat);
  if (!(lon >= -180 && lon <= 180)) fail<UsageError>("longitude {} is outside [-180, 180]", lon);
  if (size < 1 || size > 10000) fail<UsageError>("tile size {} is outside 1..10000 pixels", size);
  if (!(res > 0) || !std::isfinite(res)) fail<UsageError>("resolution {} must be a positive number of metres", res);
  TileGrid g;
  g.lon = lon;
  g.lat = lat;
  g.size = size;
  g.res = res;
  g.south_up = south_up;
  g.crs = crs == "UTM" || crs == "utm" ? utm_crs(lon, lat) : std::string(crs);
  OGRSpatialReference target;
  if (target.SetFromUserInput(g.crs.c_str()) != OGRERR_NONE) fail<UsageError>("unknown CRS '{}'", g.crs);
  target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  if (!target.IsProjected()) fail<UsageError>("CRS '{}' is not projected: tiles are cut on a grid of metres", g.crs);
  OGRSpatialReference wgs84;
  wgs84.SetWellKnownGeogCS("WGS84");
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to(OGRCreateCoordinateTransformation(&wgs84, &target));
  if (!to) fail<UsageError>("no transformation from WGS 84 to '{}'", g.crs);
  double x = lon, y = lat;
  if (!to->Transform(1, &x, &y) || !std::isfinite(x) || !std::isfinite(y)) {
    fail<UsageError>("point ({}, {}) cannot be projected to {}", lon, lat, g.crs);
  }
  g.cx = x;
  g.cy = y;
  char* wkt = nullptr;
  target.exportToWkt(&wkt);
  g.wkt = wkt ? wkt : "";
  CPLFree(wkt);
  return g;
}

TileGrid make_grid_at(double cx, double cy, int size, double res, std::string_view crs, bool south_up) {
  OGRSpatialReference source;
  if (source.SetFromUserInput(std::string(crs).c_str()) != OGRERR_NONE) fail<UsageError>("unknown CRS '{}'", crs);
  source.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  OGRSpatialReference wgs84;
  wgs84.SetWellKnownGeogCS("WGS84");
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to(OGRCreateCoordinateTransformation(&source, &wgs84));
  if (!to) fail<UsageError>("no transformation from '{}' to WGS 84", crs);
  double lon = cx, lat = cy;
  if (!to->Transform(1, &lon, &lat) || !std::isfinite(lon) || !std::isfinite(lat)) {
    fail<UsageError>("point ({}, {}) of {} has no WGS 84 position", cx, cy, crs);
  }
  TileGrid g = make_grid(lon, lat, size, res, crs, south_up);
  g.cx = cx;
  g.cy = cy;
  return g;
}

}  // namespace sbench::raster
