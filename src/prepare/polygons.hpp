// Polygons from any vector file OGR opens (GeoJSON, GeoPackage, Shapefile), for the region of the
// brick-kiln tiles, the parcels of field delineation and the regions of crop yield.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

class OGRGeometry;

namespace sbench::prepare {

struct Polygons {
  std::vector<std::unique_ptr<OGRGeometry>> geometries;    // in `utm`, one per feature, valid
  std::vector<std::string> ids;                            // the id field's value, or the feature id
  std::vector<std::map<std::string, std::string>> fields;  // every attribute of each, as text
  std::string utm;                                         // the UTM zone of the features' centre
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

// A name or label without case, spaces, underscores or other punctuation: "Sugar Cane" and
// "sugar_cane" both give "sugarcane".
std::string name_key(const std::string& s);

// The attribute of `fields` named by the first of `names` that it has, comparing names without case,
// spaces, underscores or other punctuation ("Crop_Type" is "crop type" is "croptype"); nullptr when
// none. For the label files of the crop-type tasks, whose column names vary between releases.
const std::string* find_attribute(const std::map<std::string, std::string>& fields,
                                  std::initializer_list<const char*> names);

// Burns `geometries` (in the grid's CRS) into a width x height byte mask of the grid with geotransform
// `gt` (north up): 1 where a pixel's centre is inside one of them, else 0.
std::vector<std::uint8_t> rasterize_polygons(const std::vector<OGRGeometry*>& geometries, const double* gt, int width,
                                             int height);

}  // namespace sbench::prepare
