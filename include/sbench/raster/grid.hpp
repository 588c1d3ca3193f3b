// The grid of a tile: size x size pixels of `res` metres in a CRS, centred on a point. Its extent
// is the projected point plus and minus size x res / 2 on each axis, so an odd size puts the point
// at a pixel centre.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace sbench::raster {

struct TileGrid {
  double lon = 0, lat = 0;  // the centre, WGS 84
  int size = 0;             // pixels per side
  double res = 0;           // CRS units (metres) per pixel
  std::string crs;          // "EPSG:3857", "EPSG:32632", or the local zone resolved from "UTM"
  std::string wkt;          // the CRS as WKT
  double cx = 0, cy = 0;    // the projected centre
  bool south_up = false;    // rows from south to north (the DHS release's order) in arrays

  double min_x() const { return cx - size * res / 2; }
  double max_y() const { return cy + size * res / 2; }
  // North-up GDAL geotransform of the grid.
  std::array<double, 6> geotransform() const { return {min_x(), res, 0.0, max_y(), 0.0, -res}; }
};

// "EPSG:326zz" (north) or "EPSG:327zz" (south): the UTM zone of a point.
std::string utm_crs(double lon, double lat);

// A grid; crs is "EPSG:<code>", any definition GDAL understands, or "UTM" for the point's zone.
// Latitude outside [-90, 90], longitude outside [-180, 180], size outside 1..10000, a resolution
// that is not positive, an unknown CRS or a point the CRS cannot hold are UsageErrors.
TileGrid make_grid(double lon, double lat, int size, double res, std::string_view crs, bool south_up = false);

// A grid centred on a projected point (cx, cy in the CRS's metres, kept exactly, so that a grid can
// be aligned with a scene's pixels); lon and lat are its WGS 84 position. Errors as make_grid.
TileGrid make_grid_at(double cx, double cy, int size, double res, std::string_view crs, bool south_up = false);

}  // namespace sbench::raster
