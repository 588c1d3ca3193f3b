// Polygons from any vector file OGR opens (GeoJSON, GeoPackage, Shapefile), for the region of the
// brick-kiln tiles and the parcels of field delineation.
#pragma once

#include <memory>
#include <string>
#include <vector>

class OGRGeometry;

namespace sbench::prepare {

struct Polygons {
  std::vector<std::unique_ptr<OGRGeometry>> geometries;  // in `utm`, one per feature, valid
  std::vector<std::string> ids;                          // the id field's value, or the feature id
  std::string utm;                                       // the UTM zone of the features' centre
  Polygons();
  ~Polygons();
  Polygons(Polygons&&) noexcept;
  Polygons& operator=(Polygons&&) noexcept;
};

// Every polygon feature of every layer, projected to the UTM zone of their centre (or to `utm` when
// given). A feature that is not a polygon is an InputError naming the file and feature; an invalid
// polygon (self-intersecting) is repaired with GEOS's MakeValid and a warning naming it, or an
// InputError when it cannot be. A file without a CRS is taken as WGS 84 longitude and latitude.
Polygons read_polygons(const std::string& path, const std::string& what, const std::string& id_field = "",
                       const std::string& utm = "");

}  // namespace sbench::prepare
