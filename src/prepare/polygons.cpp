#include "polygons.hpp"

#include <fmt/format.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <ogr_api.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "sbench/core/error.hpp"
#include "sbench/raster/grid.hpp"

namespace sbench::prepare {

Polygons::Polygons() = default;
Polygons::~Polygons() = default;
Polygons::Polygons(Polygons&&) noexcept = default;
Polygons& Polygons::operator=(Polygons&&) noexcept = default;

Polygons read_polygons(const std::string& path, const std::string& what, const std::string& id_field,
                       const std::string& utm) {
  GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
  if (!ds) fail<InputError>("{}: not a vector file OGR can open (expected {})", path, what);
  Polygons out;
  OGRSpatialReference srs;
  bool have_srs = false;
  OGREnvelope env;
  for (int l = 0; l < GDALDatasetGetLayerCount(ds); ++l) {
    OGRLayerH layer = GDALDatasetGetLayer(ds, l);
    if (auto* s = OGR_L_GetSpatialRef(layer)) {
      srs = *OGRSpatialReference::FromHandle(s);
      have_srs = true;
    }
    const int id_index = id_field.empty() ? -1 : OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(layer), id_field.c_str());
    OGR_L_ResetReading(layer);
    while (OGRFeatureH f = OGR_L_GetNextFeature(layer)) {
      const long fid = static_cast<long>(OGR_F_GetFID(f));
      OGRGeometry* g = OGRGeometry::FromHandle(OGR_F_GetGeometryRef(f));
      std::unique_ptr<OGRGeometry> geom(g ? g->clone() : nullptr);
      const std::string id = id_index >= 0 ? OGR_F_GetFieldAsString(f, id_index) : std::to_string(fid);
      std::map<std::string, std::string> attributes;
      for (int k = 0; k < OGR_F_GetFieldCount(f); ++k) {
        attributes[OGR_Fld_GetNameRef(OGR_F_GetFieldDefnRef(f, k))] = OGR_F_GetFieldAsString(f, k);
      }
      OGR_F_Destroy(f);
      if (!geom || geom->IsEmpty()) continue;
      const auto type = wkbFlatten(geom->getGeometryType());
      if (type != wkbPolygon && type != wkbMultiPolygon) {
        GDALClose(ds);
        fail<InputError>("{}: feature {} is a {}, expected polygons", path, fid, geom->getGeometryName());
      }
      if (!geom->IsValid()) {
        std::unique_ptr<OGRGeometry> fixed(geom->MakeValid());
        if (!fixed || !fixed->IsValid()) {
          GDALClose(ds);
          fail<InputError>("{}: feature {} is an invalid polygon that cannot be repaired", path, fid);
        }
        // MakeValid may give a collection with lines or points beside the polygons: keep the polygons.
        const auto fixed_type = wkbFlatten(fixed->getGeometryType());
        if (fixed_type != wkbPolygon && fixed_type != wkbMultiPolygon) {
          auto polygons = std::make_unique<OGRMultiPolygon>();
          if (auto* c = dynamic_cast<OGRGeometryCollection*>(fixed.get())) {
            for (int k = 0; k < c->getNumGeometries(); ++k) {
              const auto t = wkbFlatten(c->getGeometryRef(k)->getGeometryType());
              if (t == wkbPolygon) polygons->addGeometry(c->getGeometryRef(k));
              if (t == wkbMultiPolygon) {
                auto* m = c->getGeometryRef(k)->toMultiPolygon();
                for (int q = 0; q < m->getNumGeometries(); ++q) polygons->addGeometry(m->getGeometryRef(q));
              }
            }
          }
          if (polygons->IsEmpty()) {
            GDALClose(ds);
            fail<InputError>("{}: feature {} is an invalid polygon whose repair has no area", path, fid);
          }
          fixed = std::move(polygons);
        }
        spdlog::warn("{}: feature {} is an invalid polygon (self-intersecting?): repaired", path, fid);
        geom = std::move(fixed);
      }
      OGREnvelope e;
      geom->getEnvelope(&e);
      env.Merge(e);
      out.geometries.push_back(std::move(geom));
      out.ids.push_back(id);
      out.fields.push_back(std::move(attributes));
    }
  }
  GDALClose(ds);
  if (out.geometries.empty()) fail<InputError>("{}: no polygon (expected {})", path, what);
  if (!have_srs) srs.SetWellKnownGeogCS("WGS84");
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  OGRSpatialReference wgs84;
  wgs84.SetWellKnownGeogCS("WGS84");
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  out.utm = utm;
  if (out.utm.empty()) {
    double lon = (env.MinX + env.MaxX) / 2, lat = (env.MinY + env.MaxY) / 2;
    std::unique_ptr<OGRCoordinateTransformation> to_geo(OGRCreateCoordinateTransformation(&srs, &wgs84));
    if (!to_geo || !to_geo->Transform(1, &lon, &lat)) fail<InputError>("{}: no WGS 84 position of its centre", path);
    out.utm = raster::utm_crs(lon, lat);
  }
  OGRSpatialReference target;
  target.SetFromUserInput(out.utm.c_str());
  target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  for (auto& g : out.geometries) {
    g->assignSpatialReference(&srs);
    if (g->transformTo(&target) != OGRERR_NONE)
      fail<InputError>("{}: cannot project its polygons to {}", path, out.utm);
  }
  return out;
}

std::vector<std::uint8_t> rasterize_polygons(const std::vector<OGRGeometry*>& geometries, const double* gt, int width,
                                             int height) {
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(width) * static_cast<std::size_t>(height), 0);
  if (geometries.empty()) return mask;
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("MEM"), "", width, height, 1, GDT_Byte, nullptr);
  double transform[6];
  std::copy(gt, gt + 6, transform);
  GDALSetGeoTransform(ds, transform);
  int band = 1;
  std::vector<OGRGeometryH> handles;
  for (auto* g : geometries) handles.push_back(OGRGeometry::ToHandle(g));
  std::vector<double> burn(handles.size(), 1.0);
  CPLErr err = GDALRasterizeGeometries(ds, 1, &band, static_cast<int>(handles.size()), handles.data(), nullptr, nullptr,
                                       burn.data(), nullptr, nullptr, nullptr);
  if (err == CE_None) {
    err = GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, width, height, mask.data(), width, height, GDT_Byte, 0,
                       0);
  }
  GDALClose(ds);
  if (err != CE_None) fail<Error>("rasterizing polygons failed: {}", CPLGetLastErrorMsg());
  return mask;
}

std::string name_key(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

const std::string* find_attribute(const std::map<std::string, std::string>& fields,
                                  std::initializer_list<const char*> names) {
  for (const char* n : names) {
    for (const auto& [k, v] : fields) {
      if (name_key(k) == name_key(n)) return &v;
    }
  }
  return nullptr;
}

}  // namespace sbench::prepare
