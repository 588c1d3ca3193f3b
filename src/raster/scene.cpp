#include "sbench/raster/scene.hpp"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <fmt/format.h>
#include <gdal.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <regex>
#include <set>

#include "sbench/core/error.hpp"
#include "sbench/core/markup.hpp"
#include "sbench/raster/gdal_env.hpp"

namespace sbench::raster {

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const std::vector<std::regex>& profile_regexes() {
  static const std::vector<std::regex> rx = [] {
    std::vector<std::regex> v;
    for (const auto& p : sensor_profiles()) {
      v.emplace_back(p.name_pattern.empty() ? std::string("$^") : p.name_pattern,
                     std::regex::ECMAScript | std::regex::icase);
    }
    return v;
  }();
  return rx;
}

struct NameMatch {
  const SensorProfile* profile = nullptr;
  std::string product;
  std::string date, date_end;
};

// Days since 1970-01-01 of a civil date, and back (Howard Hinnant's algorithms).
long days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string civil_date(long z) {
  z += 719468;
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const long doe = z - era * 146097;
  const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long mp = (5 * doy + 2) / 153;
  const long d = doy - (153 * mp + 2) / 5 + 1;
  const long m = mp + (mp < 10 ? 3 : -9);
  return fmt::format("{:04}-{:02}-{:02}", yoe + era * 400 + (m <= 2), m, d);
}

// YYYY-MM-DD of a date token: 8 digits (year month day), 7 (year, day of year) or 4 (year).
bool parse_date_token(const std::string& t, std::string& date, std::string& date_end) {
  auto all_digits = std::all_of(t.begin(), t.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!all_digits) return false;
  if (t.size() == 8) {
    date = fmt::format("{}-{}-{}", t.substr(0, 4), t.substr(4, 2), t.substr(6, 2));
    date_end = date;
    return true;
  }
  if (t.size() == 7) {
    const int year = std::stoi(t.substr(0, 4)), doy = std::stoi(t.substr(4));
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int d = doy, m = 0;
    while (m < 12) {
      const int len = days[m] + (m == 1 && leap ? 1 : 0);
      if (d <= len) break;
      d -= len;
      ++m;
    }
    if (doy < 1 || m >= 12) return false;
    date = fmt::format("{:04}-{:02}-{:02}", year, m + 1, d);
    date_end = date;
    return true;
  }
  if (t.size() == 4) {
    date = t + "-01-01";
    date_end = t + "-12-31";
    return true;
  }
  return false;
}

std::optional<NameMatch> match_name(const std::string& file_name, std::size_t profile_index) {
  const auto& p = sensor_profiles()[profile_index];
  std::smatch m;
  if (p.name_pattern.empty() || !std::regex_match(file_name, m, profile_regexes()[profile_index])) return std::nullopt;
  NameMatch r;
  r.profile = &p;
  r.product = m[1].str();
  for (std::size_t g = 2; g < m.size(); ++g) {
    if (m[g].matched && parse_date_token(m[g].str(), r.date, r.date_end)) break;
  }
  // Composites cover a period from the date in their name: MODIS 8-day and 16-day products, annual
  // land cover, Black Marble monthly (A3) and annual (A4) night lights.
  if (!r.date.empty()) {
    const int y = std::stoi(r.date.substr(0, 4)), mo = std::stoi(r.date.substr(5, 2)),
              d = std::stoi(r.date.substr(8, 2));
    const std::string year_end = fmt::format("{:04}-12-31", y);
    auto plus_days = [&](int n) {
      const std::string e = civil_date(days_from_civil(y, mo, d) + n);
      return std::min(e, year_end);  // the last composite of a year stops on 31 December
    };
    if (p.id == "mod09a1" || p.id == "myd11a2") r.date_end = plus_days(7);
    if (p.id == "mod13q1" || p.id == "myd13q1") r.date_end = plus_days(15);
    if (p.id == "mcd12q1") r.date_end = year_end;
    if (p.id == "vnp46a3") {
      r.date_end = lower(r.product).rfind("vnp46a4", 0) == 0
                       ? year_end
                       : civil_date(days_from_civil(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1) - 1);
    }
  }
  // VIIRS monthly composites name their period: start-end.
  static const std::regex period(R"((\d{8})-(\d{8}))");
  std::smatch pm;
  if (p.id == "viirs_dnb_monthly" && std::regex_search(file_name, pm, period)) {
    std::string ignored;
    parse_date_token(pm[2].str(), r.date_end, ignored);
  }
  return r;
}

// The product metadata file of a Sentinel-2 SAFE (Level-1C or Level-2A).
bool is_s2_mtd(const std::string& name) {
  const std::string l = lower(name);
  return l == "mtd_msil2a.xml" || l == "mtd_msil1c.xml";
}

bool is_hdf(const std::string& name) {
  const std::string ext = lower(fs::path(name).extension().string());
  return ext == ".hdf" || ext == ".h5" || ext == ".he5" || ext == ".hdf5" || ext == ".nc";
}

bool is_sidecar(const std::string& name) {
  const std::string l = lower(name);
  // Landsat products come with their MTL and angle files, which no surface reflectance profile reads.
  for (const char* ext :
       {".aux.xml", ".ovr", ".msk", ".md5", ".xml", ".json", ".jpg", ".png", ".html", ".gml", "_mtl.txt", "_ang.txt"}) {
    const std::string e(ext);
    if (l.size() >= e.size() && l.compare(l.size() - e.size(), e.size(), e) == 0) return true;
  }
  return l == "manifest.safe";
}

struct DatasetCloser {
  void operator()(GDALDatasetH d) const {
    if (d) GDALClose(d);
  }
};
using Dataset = std::unique_ptr<std::remove_pointer_t<GDALDatasetH>, DatasetCloser>;

Dataset open_raster(const std::string& source) {
  init_gdal();
  CPLErrorReset();
  return Dataset(GDALOpenEx(source.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
}

// The profile of an HDF file by the granule id in its metadata (LOCALGRANULEID of the MODIS ECS
// inventory metadata, LocalGranuleID of the VIIRS products), for files that were renamed.
std::optional<NameMatch> match_metadata(const fs::path& f, const std::vector<std::size_t>& candidates) {
  Dataset ds = open_raster(f.string());
  if (!ds) return std::nullopt;
  std::string id;
  for (char** md = GDALGetMetadata(ds.get(), nullptr); md && *md && id.empty(); ++md) {
    const std::string kv = *md;
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = lower(kv.substr(0, eq));
    const std::string want = "localgranuleid";
    if (key == want ||
        (key.size() > want.size() && key.compare(key.size() - want.size() - 1, std::string::npos, "_" + want) == 0)) {
      id = kv.substr(eq + 1);
    }
  }
  while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) id.pop_back();
  if (id.empty()) return std::nullopt;
  id = fs::path(id).filename().string();
  for (std::size_t k : candidates) {
    auto m = match_name(id, k);
    if (m && m->profile->layout != Layout::band_files) return m;
  }
  return std::nullopt;
}

// A SAFE product by its MTD_MSIL1C/2A.xml, when GDAL's SENTINEL2 driver opens it: the profile of its
// level, the product id (PRODUCT_URI without .SAFE) and the sensing date (PRODUCT_START_TIME).
std::optional<NameMatch> match_s2_mtd(const fs::path& f, const std::vector<std::size_t>& candidates) {
  Dataset ds = open_raster(f.string());
  if (!ds || !GDALGetDatasetDriver(ds.get()) ||
      std::string(GDALGetDriverShortName(GDALGetDatasetDriver(ds.get()))) != "SENTINEL2") {
    return std::nullopt;
  }
  const char* uri = GDALGetMetadataItem(ds.get(), "PRODUCT_URI", nullptr);
  const char* start = GDALGetMetadataItem(ds.get(), "PRODUCT_START_TIME", nullptr);
  const std::string id = lower(f.filename().string()) == "mtd_msil2a.xml" ? "sentinel2_l2a" : "sentinel2_l1c";
  for (std::size_t k : candidates) {
    const SensorProfile& p = sensor_profiles()[k];
    if (p.id != id) continue;
    NameMatch m;
    m.profile = &p;
    std::string product = uri ? uri : f.parent_path().filename().string();
    if (lower(product).size() > 5 && lower(product).compare(product.size() - 5, 5, ".safe") == 0) {
      product.resize(product.size() - 5);
    }
    m.product = product;
    if (start && std::strlen(start) >= 10) m.date = m.date_end = std::string(start, 10);
    return m;
  }
  return std::nullopt;
}

// CRS code and lon/lat bounds of a raster; an InputError when GDAL cannot open it or it has no CRS.
void georeference(const std::string& source, Scene& s) {
  Dataset ds = open_raster(source);
  if (!ds) fail<InputError>("{}: not a raster GDAL can open ({})", source, CPLGetLastErrorMsg());
  const char* wkt = GDALGetProjectionRef(ds.get());
  double gt[6];
  const bool has_gt = GDALGetGeoTransform(ds.get(), gt) == CE_None && wkt && *wkt;
  const int w = GDALGetRasterXSize(ds.get()), h = GDALGetRasterYSize(ds.get());
  OGRSpatialReference srs;
  std::vector<std::pair<double, double>> corners;
  if (has_gt) {
    srs.importFromWkt(wkt);
    for (double fx : {0.0, 0.5, 1.0}) {
      for (double fy : {0.0, 0.5, 1.0}) {
        const double px = fx * w, py = fy * h;
        corners.emplace_back(gt[0] + px * gt[1] + py * gt[2], gt[3] + px * gt[4] + py * gt[5]);
      }
    }
  } else if (GDALGetGCPCount(ds.get()) > 0 && GDALGetGCPProjection(ds.get()) && *GDALGetGCPProjection(ds.get())) {
    srs.importFromWkt(GDALGetGCPProjection(ds.get()));
    const GDAL_GCP* g = GDALGetGCPs(ds.get());
    for (int k = 0; k < GDALGetGCPCount(ds.get()); ++k) corners.emplace_back(g[k].dfGCPX, g[k].dfGCPY);
  } else {
    fail<InputError>("{}: the raster has no coordinate reference system (no geotransform with a CRS, no GCPs)", source);
  }
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  const char* auth = srs.GetAuthorityName(nullptr);
  const char* code = srs.GetAuthorityCode(nullptr);
  if (auth && code) {
    s.crs = fmt::format("{}:{}", auth, code);
  } else {
    char* out = nullptr;
    srs.exportToWkt(&out);
    s.crs = out ? out : "";
    CPLFree(out);
  }
  OGRSpatialReference wgs;
  wgs.SetWellKnownGeogCS("WGS84");
  wgs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&srs, &wgs));
  if (!ct) fail<InputError>("{}: its CRS cannot be transformed to longitude/latitude", source);
  double west = 1e9, south = 1e9, east = -1e9, north = -1e9;
  // Densified edges for the projected box (rasters are small against UTM zone curvature).
  if (has_gt) {
    corners.clear();
    for (int k = 0; k <= 20; ++k) {
      const double f = k / 20.0;
      for (const auto& [px, py] :
           {std::pair{f * w, 0.0}, std::pair{f * w, 1.0 * h}, std::pair{0.0, f * h}, std::pair{1.0 * w, f * h}}) {
        corners.emplace_back(gt[0] + px * gt[1] + py * gt[2], gt[3] + px * gt[4] + py * gt[5]);
      }
    }
  }
  for (auto [x, y] : corners) {
    if (!ct->Transform(1, &x, &y)) continue;
    west = std::min(west, x);
    east = std::max(east, x);
    south = std::min(south, y);
    north = std::max(north, y);
  }
  if (west > east) fail<InputError>("{}: its footprint cannot be transformed to longitude/latitude", source);
  s.bounds = {west, south, east, north};
}

int landsat_mission(const std::string& sensor) {
  return sensor.size() > 7 && sensor.compare(0, 7, "landsat") == 0 ? sensor[7] - '0' : 0;
}

double mtl_number(const std::map<std::string, std::string>& mtl, const std::string& key, const std::string& path) {
  const auto it = mtl.find(key);
  if (it == mtl.end()) fail<InputError>("{}: the MTL file has no {}", path, key);
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    fail<InputError>("{}: {} = '{}' is not a number", path, key, it->second);
  }
}

// Sentinel-2 processing baseline 04.00 and later store DN + 1000: BOA/RADIO_ADD_OFFSET = -1000.
double sentinel2_add_offset(const fs::path& file) {
  static const std::regex baseline(R"(_N(\d{2})(\d{2})_)");
  static const std::regex offset(R"(<(?:BOA|RADIO)_ADD_OFFSET[^>]*>\s*(-?\d+)\s*<)");
  if (is_s2_mtd(file.filename().string())) {  // a product read through the driver: its own MTD
    std::ifstream in(file);
    const std::string xml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch m;
    if (std::regex_search(xml, m, offset)) return std::stod(m[1].str());
    const std::string folder = file.parent_path().filename().string();
    if (std::regex_search(folder, m, baseline)) {
      return std::stoi(m[1].str()) >= 4 ? -1000 : 0;
    }
    return 0;
  }
  for (fs::path dir = file.parent_path(); !dir.empty() && dir != dir.parent_path(); dir = dir.parent_path()) {
    const std::string name = dir.filename().string();
    if (lower(name).size() > 5 && lower(name).compare(name.size() - 5, 5, ".safe") == 0) {
      for (const char* mtd : {"MTD_MSIL2A.xml", "MTD_MSIL1C.xml"}) {
        std::ifstream in(dir / mtd);
        if (!in) continue;
        const std::string xml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::smatch m;
        if (std::regex_search(xml, m, offset)) return std::stod(m[1].str());
        return 0;  // an MTD without offsets: a baseline before 04.00
      }
      std::smatch m;
      if (std::regex_search(name, m, baseline)) return std::stoi(m[1].str()) >= 4 ? -1000 : 0;
      return 0;
    }
  }
  return 0;
}

// `source` itself when GDAL georeferences it; else, when the container file carries the bounding
// coordinates of a geographic grid (North/South/East/WestBoundingCoord, as the VIIRS Black Marble
// products), a VRT that places the array on that box in EPSG:4326 (pixel corners on the box edges).
std::string with_bounding_box(const std::string& source, GDALDatasetH container, int band_index) {
  Dataset ds = open_raster(source);
  if (!ds) return source;
  double gt[6];
  const char* wkt = GDALGetProjectionRef(ds.get());
  if (GDALGetGeoTransform(ds.get(), gt) == CE_None && wkt && *wkt) return source;
  std::map<std::string, double> box;
  for (GDALDatasetH h : {container, ds.get()}) {
    for (char** md = GDALGetMetadata(h, nullptr); md && *md; ++md) {
      const std::string kv = *md;
      const auto eq = kv.find('=');
      if (eq == std::string::npos) continue;
      for (const char* side : {"North", "South", "East", "West"}) {
        const std::string key = std::string(side) + "BoundingCoord";
        if (kv.compare(0, eq, key) == 0 ||
            (eq > key.size() && kv.compare(eq - key.size() - 1, key.size() + 1, "_" + key) == 0)) {
          box[side] = CPLAtof(kv.c_str() + eq + 1);
        }
      }
    }
  }
  if (box.size() != 4) return source;
  const int w = GDALGetRasterXSize(ds.get()), h = GDALGetRasterYSize(ds.get());
  GDALRasterBandH band = GDALGetRasterBand(ds.get(), band_index);
  if (!band) return source;
  const double west = box["West"], east = box["East"], north = box["North"], south = box["South"];
  if (!(east > west) || !(north > south) || west < -180.0001 || east > 180.0001 || south < -90.0001 ||
      north > 90.0001) {
    return source;
  }
  return fmt::format(
      R"(<VRTDataset rasterXSize="{w}" rasterYSize="{h}"><SRS dataAxisToSRSAxisMapping="2,1">EPSG:4326</SRS>)"
      R"(<GeoTransform>{gx:.17g}, {px:.17g}, 0, {gy:.17g}, 0, {py:.17g}</GeoTransform>)"
      R"(<VRTRasterBand dataType="{t}" band="1"><SimpleSource><SourceFilename relativeToVRT="0">{src})"
      R"(</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>)",
      fmt::arg("w", w), fmt::arg("h", h), fmt::arg("gx", west), fmt::arg("px", (east - west) / w),
      fmt::arg("gy", north), fmt::arg("py", -(north - south) / h),
      fmt::arg("t", GDALGetDataTypeName(GDALGetRasterDataType(band))), fmt::arg("src", escape_markup(source)),
      fmt::arg("b", band_index));
}

struct Group {
  const SensorProfile* profile = nullptr;
  std::string product, date, date_end;
  std::vector<fs::path> files;
};

Scene build_scene(const Group& g) {
  const SensorProfile& p = *g.profile;
  Scene s;
  s.sensor = p.id;
  s.product = g.product;
  s.date = g.date;
  s.date_end = g.date_end.empty() ? g.date : g.date_end;
  for (const auto& f : g.files) s.files.push_back(f.string());
  std::set<std::string> have;
  auto add = [&](const BandSpec& b, std::string source) {
    SceneBand sb;
    sb.name = b.name;
    sb.source = std::move(source);
    sb.index = b.index;
    sb.quantity = b.quantity;
    sb.scale = b.scale;
    sb.offset = b.offset;
    sb.valid_min = b.valid_min;
    sb.valid_max = b.valid_max;
    sb.clamp_min = b.clamp_min;
    sb.clamp_max = b.clamp_max;
    sb.nodata = b.nodata;
    sb.mask = b.mask;
    s.bands.push_back(std::move(sb));
    have.insert(b.name);
  };
  if (p.family == "sentinel2" && is_s2_mtd(g.files.front().filename().string())) {
    // A SAFE product through GDAL's SENTINEL2 driver: its 10, 20 and 60 m subdatasets, each band
    // named by BANDNAME ("B4", "B8A", "SCL"); every band is taken at its finest resolution.
    const std::string mtd = g.files.front().string();
    Dataset ds = open_raster(mtd);
    if (!ds) fail<InputError>("{}: GDAL's SENTINEL2 driver cannot open it ({})", mtd, CPLGetLastErrorMsg());
    for (char** md = GDALGetMetadata(ds.get(), "SUBDATASETS"); md && *md; ++md) {
      const std::string kv = *md;
      const auto eq = kv.find('=');
      if (eq == std::string::npos || kv.find("_NAME=") == std::string::npos) continue;
      const std::string sub = kv.substr(eq + 1);
      if (sub.find(":TCI:") != std::string::npos) continue;
      Dataset sd = open_raster(sub);
      if (!sd) fail<InputError>("{}: cannot open the subdataset {} ({})", mtd, sub, CPLGetLastErrorMsg());
      // The product's files (the band JP2s of the granule) belong to the scene.
      char** list = GDALGetFileList(sd.get());
      for (char** f = list; f && *f; ++f) {
        if (std::find(s.files.begin(), s.files.end(), *f) == s.files.end()) s.files.emplace_back(*f);
      }
      CSLDestroy(list);
      for (int k = 1; k <= GDALGetRasterCount(sd.get()); ++k) {
        const char* bn = GDALGetMetadataItem(GDALGetRasterBand(sd.get(), k), "BANDNAME", nullptr);
        if (!bn) continue;
        std::string code = bn;  // "B2" -> "B02"; "B8A", "B11", "SCL" as they are
        if (code.size() == 2 && code[0] == 'B') code = "B0" + code.substr(1);
        for (const auto& b : p.bands) {
          if (have.count(b.name)) continue;
          const std::string key = "_" + code;
          if (b.locator.compare(0, key.size(), key) == 0 && b.locator.size() > key.size() &&
              (b.locator[key.size()] == '_' || b.locator[key.size()] == '.')) {
            add(b, sub);
            s.bands.back().index = k;
            break;
          }
        }
      }
    }
    // In profile order, as from band files.
    auto rank = [&](const SceneBand& sb) {
      for (std::size_t k = 0; k < p.bands.size(); ++k) {
        if (p.bands[k].name == sb.name) return k;
      }
      return p.bands.size();
    };
    std::stable_sort(s.bands.begin(), s.bands.end(),
                     [&](const SceneBand& a, const SceneBand& b) { return rank(a) < rank(b); });
  } else if (p.layout == Layout::band_files) {
    for (const auto& b : p.bands) {
      if (have.count(b.name)) continue;
      const std::string loc = lower(b.locator);
      const bool infix = loc.size() > 2 && loc.front() == '-' && loc.back() == '-';
      for (const auto& f : g.files) {
        const std::string name = lower(f.filename().string());
        const bool hit =
            infix ? name.find(loc) != std::string::npos
                  : name.size() >= loc.size() && name.compare(name.size() - loc.size(), loc.size(), loc) == 0;
        if (hit) {
          add(b, f.string());
          break;
        }
      }
    }
  } else if (p.layout == Layout::subdatasets) {
    const std::string file = g.files.front().string();
    Dataset ds = open_raster(file);
    if (!ds) fail<InputError>("{}: not a file GDAL can open ({})", file, CPLGetLastErrorMsg());
    std::vector<std::string> subs;
    for (char** md = GDALGetMetadata(ds.get(), "SUBDATASETS"); md && *md; ++md) {
      const std::string kv = *md;
      const auto eq = kv.find('=');
      if (eq != std::string::npos && kv.find("_NAME=") != std::string::npos) subs.push_back(kv.substr(eq + 1));
    }
    // A file holding a single array is opened as that array, without subdatasets: name it by the
    // array's path, which GDAL's HDF5 driver leaves in the band's metadata keys.
    if (subs.empty() && GDALGetRasterCount(ds.get()) == 1) {
      for (char** md = GDALGetMetadata(GDALGetRasterBand(ds.get(), 1), nullptr); md && *md; ++md) {
        const std::string kv = *md;
        for (const auto& b : p.bands) {
          const std::string loc = b.locator.front() == ':' ? b.locator.substr(1) : b.locator;
          if (kv.find(loc + "_") != std::string::npos) {
            add(b, file);
            break;
          }
        }
        if (!s.bands.empty()) break;
      }
    }
    for (const auto& b : p.bands) {
      if (have.count(b.name)) continue;
      for (const auto& sd : subs) {
        if (sd.size() >= b.locator.size() &&
            sd.compare(sd.size() - b.locator.size(), b.locator.size(), b.locator) == 0) {
          add(b, sd);
          break;
        }
      }
    }
    // GDAL 3.6 does not georeference HDF-EOS5 grids (the VNP46 products): wrap such arrays in a VRT
    // placed by the file's bounding coordinates.
    for (auto& sb : s.bands) {
      const std::string placed = with_bounding_box(sb.source, ds.get(), sb.index);
      if (placed != sb.source) sb.index = 1;  // the VRT holds the one band
      sb.source = placed;
    }
  } else {
    const std::string file = g.files.front().string();
    Dataset ds = open_raster(file);
    if (!ds) fail<InputError>("{}: not a raster GDAL can open ({})", file, CPLGetLastErrorMsg());
    const int count = GDALGetRasterCount(ds.get());
    if (p.bands.empty()) {
      for (int k = 1; k <= count; ++k) {
        BandSpec b;
        b.name = fmt::format("B{}", k);
        b.index = k;
        add(b, file);
      }
    } else {
      int need = 0;
      for (const auto& b : p.bands) need = std::max(need, b.index);
      if (count < need) {
        fail<InputError>("{}: {} band(s), the {} profile expects {} ({})", file, count, p.id, need, [&] {
          std::string n;
          for (const auto& b : p.bands) n += (n.empty() ? "" : ", ") + b.name;
          return n;
        }());
      }
      for (const auto& b : p.bands) add(b, file);
    }
  }
  if (s.bands.empty()) {
    fail<InputError>("{}: none of the {} profile's band files or subdatasets are there", g.files.front().string(),
                     p.id);
  }
  // Level-1 Landsat: rescaling from the MTL file next to the bands.
  if (p.mtl) {
    std::string mtl_path;
    for (const auto& f : g.files) {
      if (lower(f.filename().string()).find("_mtl.txt") != std::string::npos) mtl_path = f.string();
    }
    if (mtl_path.empty()) {
      fail<InputError>("{}: Level-1 product {} has no MTL file beside its bands ({}_MTL.txt expected)",
                       g.files.front().parent_path().string(), g.product, g.product);
    }
    const auto mtl = read_mtl(mtl_path);
    const int mission = landsat_mission(p.id);
    for (auto& sb : s.bands) {
      const BandSpec* spec = nullptr;
      for (const auto& b : p.bands) {
        if (b.name == sb.name) {
          spec = &b;
          break;
        }
      }
      if (!spec || spec->mtl_band == 0) continue;
      if (sb.quantity == Quantity::reflectance) {
        std::tie(sb.scale, sb.offset) = landsat_toa_reflectance(mtl, mission, spec->mtl_band, mtl_path);
      } else if (sb.quantity == Quantity::temperature) {
        const std::string key = spec->mtl_band_key.empty() ? std::to_string(spec->mtl_band) : spec->mtl_band_key;
        sb.scale = mtl_number(mtl, "RADIANCE_MULT_BAND_" + key, mtl_path);
        sb.offset = mtl_number(mtl, "RADIANCE_ADD_BAND_" + key, mtl_path);
        // K1/K2 from the MTL, or the published constants (Chander et al. 2009; USGS L8/L9 handbooks).
        const auto k1 = mtl.find("K1_CONSTANT_BAND_" + key), k2 = mtl.find("K2_CONSTANT_BAND_" + key);
        if (k1 != mtl.end() && k2 != mtl.end()) {
          sb.k1 = std::stod(k1->second);
          sb.k2 = std::stod(k2->second);
        } else if (mission == 5) {
          sb.k1 = 607.76, sb.k2 = 1260.56;
        } else if (mission == 7) {
          sb.k1 = 666.09, sb.k2 = 1282.71;
        } else if (mission == 8) {
          sb.k1 = 774.8853, sb.k2 = 1321.0789;
        } else {
          sb.k1 = 799.0284, sb.k2 = 1329.2405;
        }
      }
    }
    s.files.push_back(mtl_path);
  }
  if (p.family == "sentinel2") {
    const double add_offset = sentinel2_add_offset(g.files.front());
    for (auto& sb : s.bands) {
      if (sb.quantity == Quantity::reflectance) sb.offset = add_offset * sb.scale;
    }
  }
  if (p.id == "dmsp_ols") {
    if (const auto c = dmsp_calibration_for_file(g.files.front().filename().string())) {
      s.bands.front().scale = c->slope;
      s.bands.front().offset = c->bias;
    }
  }
  // QA last, so band_names() is the data bands in profile order.
  std::stable_partition(s.bands.begin(), s.bands.end(), [](const SceneBand& b) { return b.name != "QA"; });
  georeference(s.bands.front().source, s);
  return s;
}

std::vector<fs::path> list_files(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::follow_directory_symlink, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) fail<IoError>("{}: cannot list ({})", p, ec.message());
        if (it->is_regular_file(ec)) files.push_back(fs::absolute(it->path()));
      }
      if (ec) fail<IoError>("{}: cannot list ({})", p, ec.message());
    } else if (fs::exists(p, ec)) {
      files.push_back(fs::absolute(p));
    } else {
      fail<IoError>("{}: no such file or directory", p);
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

}  // namespace

const SceneBand* Scene::find(const std::string& name) const {
  for (const auto& b : bands) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

std::vector<std::string> Scene::band_names() const {
  std::vector<std::string> v;
  for (const auto& b : bands) {
    if (b.name != "QA") v.push_back(b.name);
  }
  return v;
}

std::map<std::string, std::string> read_mtl(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail<InputError>("{}: cannot read the MTL file", path);
  std::map<std::string, std::string> kv;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      const auto a = s.find_first_not_of(" \t\r\"");
      const auto b = s.find_last_not_of(" \t\r\"");
      return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
    };
    const std::string key = trim(line.substr(0, eq));
    if (key == "GROUP" || key == "END_GROUP") continue;
    kv[key] = trim(line.substr(eq + 1));
  }
  if (kv.empty()) fail<InputError>("{}: not an MTL file (no KEY = VALUE lines)", path);
  return kv;
}

std::pair<double, double> landsat_toa_reflectance(const std::map<std::string, std::string>& mtl, int mission, int band,
                                                  const std::string& mtl_path) {
  const double elevation = mtl_number(mtl, "SUN_ELEVATION", mtl_path);
  const double sine = std::sin(elevation * kPi / 180.0);
  if (sine <= 0) fail<InputError>("{}: SUN_ELEVATION {} is not above the horizon", mtl_path, elevation);
  const std::string n = std::to_string(band);
  if (mtl.count("REFLECTANCE_MULT_BAND_" + n) && mtl.count("REFLECTANCE_ADD_BAND_" + n)) {
    return {mtl_number(mtl, "REFLECTANCE_MULT_BAND_" + n, mtl_path) / sine,
            mtl_number(mtl, "REFLECTANCE_ADD_BAND_" + n, mtl_path) / sine};
  }
  // Radiance and the solar exoatmospheric irradiance (Chander, Markham & Helder 2009, table 11).
  static const std::map<int, std::array<double, 8>> esun = {{5, {0, 1983, 1796, 1536, 1031, 220.0, 0, 83.44}},
                                                            {7, {0, 1997, 1812, 1533, 1039, 230.8, 0, 84.90}}};
  const auto e = esun.find(mission);
  if (e == esun.end() || band < 1 || band > 7 || e->second[static_cast<std::size_t>(band)] == 0) {
    fail<InputError>("{}: no REFLECTANCE_MULT_BAND_{} and no ESUN value for Landsat {} band {}", mtl_path, band,
                     mission, band);
  }
  std::string date = mtl.count("DATE_ACQUIRED") ? mtl.at("DATE_ACQUIRED") : "";
  if (date.size() < 10) fail<InputError>("{}: the MTL file has no DATE_ACQUIRED", mtl_path);
  const int y = std::stoi(date.substr(0, 4)), m = std::stoi(date.substr(5, 2)), d = std::stoi(date.substr(8, 2));
  static const int before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int doy = before[m - 1] + d + (leap && m > 2 ? 1 : 0);
  // Earth-Sun distance in astronomical units.
  const double dist = 1 - 0.01672 * std::cos(0.9856 * (doy - 4) * kPi / 180.0);
  const double f = kPi * dist * dist / (e->second[static_cast<std::size_t>(band)] * sine);
  return {mtl_number(mtl, "RADIANCE_MULT_BAND_" + n, mtl_path) * f,
          mtl_number(mtl, "RADIANCE_ADD_BAND_" + n, mtl_path) * f};
}

std::vector<Scene> scan_scenes(const std::vector<std::string>& paths, const std::string& sensor,
                               std::vector<Unrecognised>* skipped) {
  init_gdal();
  std::vector<std::size_t> candidates;
  const auto& profiles = sensor_profiles();
  if (sensor == "auto") {
    for (std::size_t k = 0; k < profiles.size(); ++k) candidates.push_back(k);
  } else {
    const SensorProfile& want = sensor_profile(sensor);
    candidates.push_back(static_cast<std::size_t>(&want - profiles.data()));
  }
  const bool generic = sensor == "generic";
  std::map<std::string, Group> groups;
  std::vector<std::string> order;
  auto skip = [&](const std::string& path, std::string reason) {
    if (skipped) skipped->push_back({path, std::move(reason)});
  };
  // SAFE products that GDAL's SENTINEL2 driver reads: their MTD file is the scene, and the files
  // inside (band JP2s, QI masks) are its parts, not scenes or unrecognised files of their own.
  const std::vector<fs::path> files = list_files(paths);
  std::map<fs::path, NameMatch> safe_products;
  for (const auto& f : files) {
    std::error_code ec;
    if (is_s2_mtd(f.filename().string()) && fs::is_directory(f.parent_path() / "GRANULE", ec)) {
      if (auto m = match_s2_mtd(f, candidates)) safe_products.emplace(f, *m);
    }
  }
  auto in_safe_product = [&](const fs::path& f) {
    const std::string file = f.string();
    for (const auto& [mtd, m] : safe_products) {
      const std::string root = mtd.parent_path().string() + "/";
      if (file.compare(0, root.size(), root) == 0) return true;
    }
    return false;
  };
  for (const auto& f : files) {
    const std::string name = f.filename().string();
    std::optional<NameMatch> m;
    if (auto it = safe_products.find(f); it != safe_products.end()) {
      m = it->second;
    } else if (in_safe_product(f)) {
      continue;
    }
    for (std::size_t k : candidates) {
      if (m) break;
      if ((m = match_name(name, k))) break;
    }
    if (!m && generic) {
      m = NameMatch{&sensor_profile("generic"), f.string(), "", ""};
      Dataset probe = open_raster(f.string());
      if (!probe) {
        if (!is_sidecar(name)) skip(f.string(), fmt::format("not a raster GDAL can open ({})", CPLGetLastErrorMsg()));
        continue;
      }
    }
    // Renamed HDF products still carry their granule id in their metadata.
    if (!m && !is_sidecar(name) && is_hdf(name)) m = match_metadata(f, candidates);
    if (!m) {
      if (!is_sidecar(name)) {
        const std::string target =
            sensor == "auto" ? "a sensor profile (see docs/sensors.md)" : fmt::format("the {} profile", sensor);
        skip(f.string(), is_hdf(name) ? "neither the name nor the granule id in its metadata matches " + target
                                      : "the name does not match " + target);
      }
      continue;
    }
    // Band-file products group by product id; single files are their own product.
    const std::string key =
        m->profile->id + "|" +
        (m->profile->layout == Layout::band_files ? lower(m->product) + "|" + f.parent_path().string() : f.string());
    auto [it, fresh] = groups.try_emplace(key);
    if (fresh) {
      it->second = Group{m->profile, m->product, m->date, m->date_end, {}};
      order.push_back(key);
    }
    it->second.files.push_back(f);
  }
  // Sentinel-2 SAFE products keep their resolutions in sibling folders (R10m, R20m, R60m): merge
  // groups of one product that share the granule's IMG_DATA folder.
  for (auto& key : order) {
    auto& g = groups[key];
    if (g.profile->family != "sentinel2" || g.files.empty()) continue;
    const fs::path img = g.files.front().parent_path().parent_path();
    if (img.filename() != "IMG_DATA") continue;
    for (auto& other : order) {
      if (other == key) continue;
      auto& o = groups[other];
      if (o.profile == g.profile && lower(o.product) == lower(g.product) && !o.files.empty() &&
          o.files.front().parent_path().parent_path() == img) {
        g.files.insert(g.files.end(), o.files.begin(), o.files.end());
        o.files.clear();
      }
    }
  }
  // The MTL of a surface reflectance product (ESPA ships it beside the band files) also matches
  // the Level-1 profile: it belongs to the product that has the band files, not a scene of its own.
  auto metadata_of_other = [&](const std::string& key, const Group& g) {
    const bool text_only = std::all_of(g.files.begin(), g.files.end(),
                                       [](const fs::path& f) { return lower(f.extension().string()) == ".txt"; });
    if (!text_only) return false;
    for (const auto& other : order) {
      const Group& o = groups[other];
      if (other != key && !o.files.empty() && lower(o.product) == lower(g.product) &&
          o.files.front().parent_path() == g.files.front().parent_path() &&
          std::any_of(o.files.begin(), o.files.end(),
                      [](const fs::path& f) { return lower(f.extension().string()) != ".txt"; })) {
        return true;
      }
    }
    return false;
  };
  std::vector<Scene> scenes;
  for (const auto& key : order) {
    const Group& g = groups[key];
    if (g.files.empty() || metadata_of_other(key, g)) continue;
    try {
      Scene s = build_scene(g);
      if (s.date.empty()) s.date = g.date;
      scenes.push_back(std::move(s));
    } catch (const InputError& e) {
      if (!skipped) throw;
      for (const auto& f : g.files) skip(f.string(), e.what());
    }
  }
  return scenes;
}

Scene open_scene(const std::string& path, const std::string& sensor) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail<IoError>("{}: no such file or directory", path);
  if (fs::is_directory(path, ec)) {
    auto scenes = scan_scenes({path}, sensor);
    if (scenes.size() != 1) {
      fail<InputError>("{}: {} {} scenes in the directory, expected one", path, scenes.size(), sensor);
    }
    return std::move(scenes.front());
  }
  // The files beside it (and, inside a SAFE product, the whole product).
  fs::path root = fs::path(path).parent_path();
  for (fs::path d = root; !d.empty() && d != d.parent_path(); d = d.parent_path()) {
    const std::string n = lower(d.filename().string());
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".safe") == 0) {
      root = d;
      break;
    }
  }
  if (sensor == "generic") {
    auto scenes = scan_scenes({path}, sensor);
    if (scenes.empty()) fail<InputError>("{}: not a raster GDAL can open", path);
    return std::move(scenes.front());
  }
  const std::string name = fs::path(path).filename().string();
  const auto& profiles = sensor_profiles();
  bool matched = false;
  for (std::size_t k = 0; k < profiles.size() && !matched; ++k) {
    if (sensor != "auto" && profiles[k].id != sensor) continue;
    matched = match_name(name, k).has_value();
  }
  matched = matched || is_s2_mtd(name);
  if (!matched && is_hdf(name)) {  // a renamed HDF product, by the granule id in its metadata
    std::vector<std::size_t> candidates;
    for (std::size_t k = 0; k < profiles.size(); ++k) {
      if (sensor == "auto" || profiles[k].id == sensor) candidates.push_back(k);
    }
    matched = match_metadata(fs::path(path), candidates).has_value();
  }
  if (!matched) {
    fail<InputError>("{}: the file name does not match {} (see docs/sensors.md for the names each sensor uses)", path,
                     sensor == "auto" ? "any sensor profile" : "the " + sensor + " profile");
  }
  std::vector<std::string> inside;
  if (root == fs::path(path).parent_path()) {
    for (const auto& e : fs::directory_iterator(root, ec)) {
      if (e.is_regular_file(ec)) inside.push_back(e.path().string());
    }
  } else {
    inside.push_back(root.string());
  }
  const fs::path canon = fs::weakly_canonical(path, ec);
  for (auto& s : scan_scenes(inside, sensor)) {
    for (const auto& f : s.files) {
      if (fs::weakly_canonical(f, ec) == canon) return std::move(s);
    }
  }
  fail<InputError>("{}: no {} scene could be assembled from the files beside it", path, sensor);
}

}  // namespace sbench::raster
