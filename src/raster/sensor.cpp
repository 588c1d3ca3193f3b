#include "sbench/raster/sensor.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sbench/core/error.hpp"

namespace sbench::raster {

namespace {

BandSpec band(std::string name, std::string locator, Quantity q, double res_m) {
  BandSpec b;
  b.name = std::move(name);
  b.locator = std::move(locator);
  b.quantity = q;
  b.res_m = res_m;
  return b;
}

BandSpec scaled(BandSpec b, double scale, double offset) {
  b.scale = scale;
  b.offset = offset;
  return b;
}

BandSpec valid(BandSpec b, double lo, double hi) {
  b.valid_min = lo;
  b.valid_max = hi;
  return b;
}

BandSpec clamped(BandSpec b, double lo, double hi) {
  b.clamp_min = lo;
  b.clamp_max = hi;
  return b;
}

BandSpec fill(BandSpec b, double nodata) {
  b.nodata = nodata;
  return b;
}

BandSpec qa(std::string locator, std::vector<QaRule> rules, double res_m) {
  BandSpec b = band("QA", std::move(locator), Quantity::qa, res_m);
  b.mask = std::move(rules);
  return b;
}

QaRule bit(int offset, std::string meaning) {
  return QaRule{offset, 1, {1}, std::move(meaning)};
}

// Landsat band numbers of BLUE, GREEN, RED, NIR, SWIR1, SWIR2, TEMP1 (SUSTAINBENCH.md section 5:
// L5/L7 B1,B2,B3,B4,B5,B7,B6; L8/L9 B2,B3,B4,B5,B6,B7,B10); L8/L9 add ULTRABLUE (B1).
struct LandsatBands {
  std::vector<std::pair<std::string, int>> optical;
  int thermal;
};
LandsatBands landsat_bands(int mission) {
  if (mission >= 8) {
    return {{{"ULTRABLUE", 1}, {"BLUE", 2}, {"GREEN", 3}, {"RED", 4}, {"NIR", 5}, {"SWIR1", 6}, {"SWIR2", 7}}, 10};
  }
  return {{{"BLUE", 1}, {"GREEN", 2}, {"RED", 3}, {"NIR", 4}, {"SWIR1", 5}, {"SWIR2", 7}}, 6};
}

std::string landsat_sensor_letters(int mission) {
  switch (mission) {
    case 5: return "LT05";
    case 7: return "LE07";
    case 8: return "L[CO]08";
    default: return "L[CO]09";
  }
}

// Collection 1 surface reflectance (ESPA / Earth Engine C01 T1_SR): sr_bandN x 0.0001, negative
// values masked and the rest clamped to [0, 10000] as SustainBench's export; brightness temperature
// bt_bandN x 0.1 K; pixel_qa bits 3 (cloud shadow), 4 (snow), 5 (cloud).
SensorProfile landsat_c1_sr(int mission) {
  SensorProfile p;
  p.id = fmt::format("landsat{}_c1_sr", mission);
  p.title = fmt::format("Landsat {} Collection 1 surface reflectance (ESPA files, Earth Engine C01/T1_SR)", mission);
  p.family = "landsat";
  p.layout = Layout::band_files;
  p.name_pattern = "^(" + landsat_sensor_letters(mission) +
                   R"(_L1T[PS]_\d{6}_(\d{8})_\d{8}_01_(?:T1|T2|RT))_(?:sr_band\d+|bt_band\d+|pixel_qa)\.tif$)";
  p.date_form = DateForm::ymd;
  const auto lb = landsat_bands(mission);
  for (const auto& [name, n] : lb.optical) {
    p.bands.push_back(
        fill(clamped(valid(scaled(band(name, fmt::format("_sr_band{}.tif", n), Quantity::reflectance, 30), 0.0001, 0),
                           0, std::numeric_limits<double>::infinity()),
                     0, 1),
             -9999));
  }
  p.bands.push_back(
      fill(scaled(band("TEMP1", fmt::format("_bt_band{}.tif", lb.thermal), Quantity::temperature, 30), 0.1, 0), -9999));
  p.bands.push_back(qa("_pixel_qa.tif", {bit(3, "cloud shadow"), bit(4, "snow"), bit(5, "cloud")}, 30));
  p.notes = "Masks and scaling as SustainBench's Earth Engine export (SB:ee_utils.py).";
  return p;
}

// Collection 2 Level-2: SR x 0.0000275 - 0.2 (valid raw 7273-43636), ST x 0.00341802 + 149.0 K,
// QA_PIXEL bits 1 dilated cloud, 3 cloud, 4 cloud shadow, 5 snow.
SensorProfile landsat_c2_l2(int mission) {
  SensorProfile p;
  p.id = fmt::format("landsat{}_c2_l2", mission);
  p.title = fmt::format("Landsat {} Collection 2 Level-2 surface reflectance and temperature", mission);
  p.family = "landsat";
  p.layout = Layout::band_files;
  p.name_pattern = "^(" + landsat_sensor_letters(mission) +
                   R"(_L2S[PR]_\d{6}_(\d{8})_\d{8}_02_(?:T1|T2|RT))_(?:SR_B\d+|ST_B\d+|QA_PIXEL|MTL)\.(?:tif|txt)$)";
  p.date_form = DateForm::ymd;
  const auto lb = landsat_bands(mission);
  for (const auto& [name, n] : lb.optical) {
    p.bands.push_back(
        fill(valid(scaled(band(name, fmt::format("_SR_B{}.TIF", n), Quantity::reflectance, 30), 0.0000275, -0.2), 7273,
                   43636),
             0));
  }
  p.bands.push_back(fill(
      scaled(band("TEMP1", fmt::format("_ST_B{}.TIF", lb.thermal), Quantity::temperature, 30), 0.00341802, 149.0), 0));
  p.bands.push_back(
      qa("_QA_PIXEL.TIF", {bit(1, "dilated cloud"), bit(3, "cloud"), bit(4, "cloud shadow"), bit(5, "snow")}, 30));
  return p;
}

// Level-1 digital numbers (Collections 1 and 2, and the pre-collection scene ids), rescaled with
// the MTL file: top-of-atmosphere reflectance (REFLECTANCE_MULT/ADD divided by the sine of the sun
// elevation, or radiance and the ESUN table where the MTL has no reflectance factors) and
// brightness temperature (radiance through K1/K2). QA: BQA (Collection 1: cloud bit 4, high
// confidence cloud shadow bits 7-8 and snow bits 9-10) or QA_PIXEL (Collection 2 layout).
SensorProfile landsat_l1(int mission) {
  SensorProfile p;
  p.id = fmt::format("landsat{}_l1", mission);
  p.title = fmt::format("Landsat {} Level-1 digital numbers with the MTL file's rescaling", mission);
  p.family = "landsat";
  p.layout = Layout::band_files;
  p.mtl = true;
  const std::string old_id = mission == 5 ? "LT5" : mission == 7 ? "LE7" : mission == 8 ? "L[CO]8" : "L[CO]9";
  p.name_pattern = "^((?:" + landsat_sensor_letters(mission) +
                   R"(_L1(?:TP|GT|GS)_\d{6}_(\d{8})_\d{8}_0[12]_(?:T1|T2|RT))|(?:)" + old_id +
                   R"(\d{6}(\d{7})[A-Z]{3}\d{2}))_(?:B\d+(?:_VCID_\d)?|BQA|QA_PIXEL|MTL)\.(?:tif|txt)$)";
  p.date_form = DateForm::ymd;  // or year + day of year for the pre-collection ids (group 3)
  const auto lb = landsat_bands(mission);
  for (const auto& [name, n] : lb.optical) {
    BandSpec b = fill(band(name, fmt::format("_B{}.TIF", n), Quantity::reflectance, 30), 0);
    b.mtl_band = n;
    p.bands.push_back(b);
  }
  if (mission == 7) {
    BandSpec t = fill(band("TEMP1", "_B6_VCID_1.TIF", Quantity::temperature, 60), 0);
    t.mtl_band = 6;
    t.mtl_band_key = "6_VCID_1";
    p.bands.push_back(t);
  } else {
    BandSpec t =
        fill(band("TEMP1", fmt::format("_B{}.TIF", lb.thermal), Quantity::temperature, mission >= 8 ? 100 : 120), 0);
    t.mtl_band = lb.thermal;
    p.bands.push_back(t);
  }
  p.bands.push_back(qa("_BQA.TIF",
                       {bit(0, "fill"), bit(4, "cloud"), QaRule{7, 2, {3}, "cloud shadow, high confidence"},
                        QaRule{9, 2, {3}, "snow/ice, high confidence"}},
                       30));
  p.bands.push_back(
      qa("_QA_PIXEL.TIF",
         {bit(0, "fill"), bit(1, "dilated cloud"), bit(3, "cloud"), bit(4, "cloud shadow"), bit(5, "snow")}, 30));
  p.notes = "Pre-collection ids (LT51670552010352MLK00) are recognised; their date is year + day of year.";
  return p;
}

// Sentinel-2 MSI. L2A: BOA reflectance x 0.0001 with the BOA_ADD_OFFSET of -1000 from processing
// baseline 04.00 on; SCL classes 0 (no data), 1 (saturated), 3 (cloud shadow), 8, 9 (cloud medium,
// high), 10 (thin cirrus), 11 (snow) masked. L1C: TOA reflectance x 0.0001 (same offset rule), no
// raster cloud mask before baseline 04.00.
SensorProfile sentinel2(bool l2a) {
  SensorProfile p;
  p.id = l2a ? "sentinel2_l2a" : "sentinel2_l1c";
  p.title = l2a ? "Sentinel-2 MSI Level-2A surface reflectance (SAFE or single-band JP2/COG files)"
                : "Sentinel-2 MSI Level-1C top-of-atmosphere reflectance (SAFE or single-band JP2/COG files)";
  p.family = "sentinel2";
  p.layout = Layout::band_files;
  p.name_pattern = l2a ? R"(^(T\d{2}[A-Z]{3}_(\d{8})T\d{6})_(?:B\d[\dA]|SCL|AOT|WVP|TCI)_\d{2}m\.(?:jp2|tif)$)"
                       : R"(^(T\d{2}[A-Z]{3}_(\d{8})T\d{6})_(?:B\d[\dA]|TCI)\.(?:jp2|tif)$)";
  p.date_form = DateForm::ymd;
  const std::vector<std::tuple<std::string, std::string, int>> s2 = {
      {"COASTAL", "B01", 60}, {"BLUE", "B02", 10},       {"GREEN", "B03", 10},  {"RED", "B04", 10},
      {"RDED1", "B05", 20},   {"RDED2", "B06", 20},      {"RDED3", "B07", 20},  {"NIR", "B08", 10},
      {"RDED4", "B8A", 20},   {"WATERVAPOR", "B09", 60}, {"CIRRUS", "B10", 60}, {"SWIR1", "B11", 20},
      {"SWIR2", "B12", 20}};
  for (const auto& [name, id, res] : s2) {
    if (l2a && id == "B10") continue;  // the cirrus band is not in L2A products
    const std::string loc = l2a ? fmt::format("_{}_{}m", id, res) : "_" + id;
    for (const char* ext : {".jp2", ".tif"}) {
      p.bands.push_back(fill(scaled(band(name, loc + ext, Quantity::reflectance, res), 0.0001, 0), 0));
    }
  }
  // The true-colour image (B04, B03, B02 as 8-bit), one file of three bands, as Earth Engine's
  // TCI_R, TCI_G, TCI_B; 0 is no data.
  for (const char* ext : {".jp2", ".tif"}) {
    int k = 1;
    for (const char* name : {"TCI_R", "TCI_G", "TCI_B"}) {
      BandSpec b = fill(band(name, std::string(l2a ? "_TCI_10m" : "_TCI") + ext, Quantity::dn, 10), 0);
      b.index = k++;
      p.bands.push_back(b);
    }
  }
  if (l2a) {
    for (const char* ext : {".jp2", ".tif"}) {
      p.bands.push_back(qa(std::string("_SCL_20m") + ext,
                           {QaRule{0,
                                   8,
                                   {0, 1, 3, 8, 9, 10, 11},
                                   "SCL no data, saturated, cloud shadow, cloud medium/high, thin cirrus, snow"}},
                           20));
    }
  }
  p.notes =
      "Band names as SustainBench's crop-type loader (BLUE..SWIR2, RDED1-4). The offset of baseline 04.00 "
      "is taken from the SAFE name (_N0400_) or its MTD XML (BOA_ADD_OFFSET / RADIO_ADD_OFFSET).";
  return p;
}

SensorProfile sentinel1() {
  SensorProfile p;
  p.id = "sentinel1_grd";
  p.title = "Sentinel-1 GRD backscatter, VV and VH in linear power (dB and VH/VV ratio derived)";
  p.family = "sentinel1";
  p.layout = Layout::band_files;
  // Group 1, the product: start and stop times, absolute orbit and datatake (shared by VV and VH).
  p.name_pattern = R"(^s1[ab]-iw-grd-(?:vv|vh)-((\d{8})t\d{6}-\d{8}t\d{6}-\d{6}-[0-9a-f]{6})-\d{3}\.tiff?$)";
  p.date_form = DateForm::ymd;
  p.bands.push_back(fill(band("VV", "-vv-", Quantity::backscatter, 10), 0));
  p.bands.push_back(fill(band("VH", "-vh-", Quantity::backscatter, 10), 0));
  p.notes = "Derived bands: VV_DB, VH_DB (10 log10) and RATIO (VH / VV in linear power).";
  return p;
}

SensorProfile modis(std::string id, std::string title, std::string product_regex, std::vector<BandSpec> bands) {
  SensorProfile p;
  p.id = std::move(id);
  p.title = std::move(title);
  p.family = "modis";
  p.layout = Layout::subdatasets;
  p.name_pattern = "^(" + product_regex + R"(\.A(\d{7})\.h\d{2}v\d{2}\.\d{3})\.\d{13}\.hdf$)";
  p.date_form = DateForm::year_doy;
  p.bands = std::move(bands);
  p.notes = "HDF4-EOS on the sinusoidal grid, read through GDAL's HDF4 driver.";
  return p;
}

std::vector<SensorProfile> build_profiles() {
  std::vector<SensorProfile> v;
  for (int m : {5, 7, 8}) v.push_back(landsat_c1_sr(m));
  for (int m : {5, 7, 8, 9}) v.push_back(landsat_c2_l2(m));
  for (int m : {5, 7, 8, 9}) v.push_back(landsat_l1(m));
  v.push_back(sentinel2(false));
  v.push_back(sentinel2(true));
  v.push_back(sentinel1());

  {
    std::vector<BandSpec> b;
    const char* names[] = {"RED", "NIR", "BLUE", "GREEN", "NIR2", "SWIR1", "SWIR2"};  // MODIS b01..b07
    for (int k = 0; k < 7; ++k) {
      b.push_back(fill(
          valid(scaled(band(names[k], fmt::format(":sur_refl_b0{}", k + 1), Quantity::reflectance, 500), 0.0001, 0),
                -100, 16000),
          -28672));
    }
    b.push_back(qa(":sur_refl_state_500m",
                   {QaRule{0, 2, {1, 2}, "cloudy or mixed"}, bit(2, "cloud shadow"), bit(15, "internal snow mask")},
                   500));
    v.push_back(
        modis("mod09a1", "MODIS Terra/Aqua 8-day surface reflectance b01-b07 (MOD09A1/MYD09A1)", "M[OY]D09A1", b));
  }
  for (const auto& [id, prod, title] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"mod11a1", "M[OY]D11A1", "MODIS daily land surface temperature, day and night (MOD11A1/MYD11A1)"},
           {"myd11a2", "M[OY]D11A2", "MODIS 8-day land surface temperature, day and night (MYD11A2/MOD11A2)"}}) {
    std::vector<BandSpec> b;
    b.push_back(
        fill(valid(scaled(band("LST_DAY", ":LST_Day_1km", Quantity::temperature, 1000), 0.02, 0), 7500, 65535), 0));
    b.push_back(
        fill(valid(scaled(band("LST_NIGHT", ":LST_Night_1km", Quantity::temperature, 1000), 0.02, 0), 7500, 65535), 0));
    v.push_back(modis(id, title, prod, b));
  }
  {
    std::vector<BandSpec> b;
    b.push_back(fill(band("LC_TYPE1", ":LC_Type1", Quantity::classes, 500), 255));
    v.push_back(modis("mcd12q1", "MODIS annual land cover, IGBP classes (MCD12Q1 LC_Type1)", "MCD12Q1", b));
  }
  for (const auto& [id, prod] :
       std::vector<std::pair<std::string, std::string>>{{"mod13q1", "MOD13Q1"}, {"myd13q1", "MYD13Q1"}}) {
    std::vector<BandSpec> b;
    b.push_back(
        fill(valid(scaled(band("NDVI", ":250m 16 days NDVI", Quantity::index, 250), 0.0001, 0), -2000, 10000), -3000));
    b.push_back(
        fill(valid(scaled(band("EVI", ":250m 16 days EVI", Quantity::index, 250), 0.0001, 0), -2000, 10000), -3000));
    v.push_back(modis(id, fmt::format("MODIS 16-day vegetation indices at 250 m ({})", prod), prod, b));
  }
  {
    SensorProfile p;
    p.id = "dmsp_ols";
    p.title = "DMSP-OLS night lights, annual composites (avg_vis), SustainBench's inter-calibration";
    p.family = "nightlights";
    p.layout = Layout::multiband_file;
    p.name_pattern = R"(^(F\d{2}(?:-F\d{2})?_?(\d{4})\S*?)\.avg_vis\.tif$)";
    p.date_form = DateForm::year;
    p.bands.push_back(fill(clamped(band("NIGHTLIGHTS", "", Quantity::lights, 1000), 0, 1e9), 255));
    p.notes =
        "Files of the radiance-calibrated images SustainBench uses (F16_20100111-20101209_rad_v4.avg_vis.tif) "
        "get Y = bias + slope X; stable-lights files (F182013.v4c_web.stable_lights.avg_vis.tif) are read as is.";
    v.push_back(p);
  }
  {
    SensorProfile p;
    p.id = "viirs_dnb_monthly";
    p.title = "VIIRS DNB monthly composites (VCMCFG / VCMSLCFG), avg_rad GeoTIFF";
    p.family = "nightlights";
    p.layout = Layout::multiband_file;
    p.name_pattern = R"(^(SVDNB_npp_(\d{8})-\d{8}_\w+?_vcm(?:sl)?cfg_\w+?)\.avg_rade9h?\.tif$)";
    p.date_form = DateForm::ymd;
    p.bands.push_back(clamped(band("NIGHTLIGHTS", "", Quantity::lights, 500), 0, 1e9));
    v.push_back(p);
  }
  {
    SensorProfile p;
    p.id = "vnp46a3";
    p.title = "VIIRS Black Marble monthly night lights (VNP46A3 HDF5)";
    p.family = "nightlights";
    p.layout = Layout::subdatasets;
    p.name_pattern = R"(^(VNP46A[34]\.A(\d{7})\.h\d{2}v\d{2}\.\d{3})\.\d{13}\.h5$)";
    p.date_form = DateForm::year_doy;
    p.bands.push_back(fill(
        clamped(scaled(band("NIGHTLIGHTS", "AllAngle_Composite_Snow_Free", Quantity::lights, 500), 0.1, 0), 0, 1e9),
        65535));
    p.notes =
        "GDAL 3.6 does not georeference HDF-EOS5 grids: sbench places the array on the file's "
        "North/South/East/WestBoundingCoord box in EPSG:4326 (a VRT around the HDF5 array).";
    v.push_back(p);
  }
  {
    SensorProfile p;
    p.id = "planetscope_sr";
    p.title = "PlanetScope 4-band analytic surface reflectance (x 0.0001)";
    p.family = "planetscope";
    p.layout = Layout::multiband_file;
    p.name_pattern = R"(^((\d{8})_\d{6}_\w+?_3B_AnalyticMS_SR)(?:_clip)?\.tif$)";
    p.date_form = DateForm::ymd;
    int k = 1;
    for (const char* n : {"BLUE", "GREEN", "RED", "NIR"}) {
      BandSpec b = fill(scaled(band(n, "", Quantity::reflectance, 3), 0.0001, 0), 0);
      b.index = k++;
      p.bands.push_back(b);
    }
    v.push_back(p);
  }
  {
    SensorProfile p;
    p.id = "naip";
    p.title = "NAIP 4-band aerial imagery (R, G, B, NIR digital numbers 0-255)";
    p.family = "naip";
    p.layout = Layout::multiband_file;
    p.name_pattern = R"(^(m_\d{7}_[ns][ew]_\d{2}_\d{3,4}_(\d{8}))(?:_\d{8})?\.tif$)";
    p.date_form = DateForm::ymd;
    int k = 1;
    for (const char* n : {"RED", "GREEN", "BLUE", "NIR"}) {
      BandSpec b = band(n, "", Quantity::dn, 0.6);
      b.index = k++;
      p.bands.push_back(b);
    }
    v.push_back(p);
  }
  {
    SensorProfile p;
    p.id = "generic";
    p.title = "Any raster GDAL opens: bands by index (B1, B2, ...), no scaling, nodata from the file";
    p.family = "generic";
    p.layout = Layout::multiband_file;
    v.push_back(p);
  }
  return v;
}

}  // namespace

const std::vector<SensorProfile>& sensor_profiles() {
  static const std::vector<SensorProfile> profiles = build_profiles();
  return profiles;
}

const SensorProfile& sensor_profile(std::string_view id) {
  std::string ids;
  for (const auto& p : sensor_profiles()) {
    if (p.id == id) return p;
    ids += (ids.empty() ? "" : ", ") + p.id;
  }
  fail<UsageError>("unknown sensor '{}' (valid: {})", id, ids);
}

bool is_categorical(Quantity q) {
  return q == Quantity::qa || q == Quantity::classes;
}

namespace {
const std::vector<DmspCalibration>& dmsp_table() {
  // SUSTAINBENCH.md section 5 (SB:ee_utils.py): image, years it serves, bias, slope.
  static const std::vector<DmspCalibration> t = {
      {"F12_19960316-19970212", 1996, 1997, 4.336, 0.915},     {"F12_19990119-19991211", 1998, 1999, 1.423, 0.780},
      {"F12-F15_20000103-20001229", 2000, 2001, 3.658, 0.710}, {"F14-F15_20021230-20031127", 2002, 2003, 3.736, 0.797},
      {"F14_20040118-20041216", 2004, 2004, 1.062, 0.761},     {"F16_20051128-20061224", 2005, 2008, 0.0, 1.0},
      {"F16_20100111-20101209", 2009, 2010, 2.196, 1.195},     {"F16_20100111-20110731", 2011, 2011, -1.987, 1.246},
  };
  return t;
}
}  // namespace

DmspCalibration dmsp_calibration(int year) {
  for (const auto& c : dmsp_table()) {
    if (year >= c.first_year && year <= c.last_year) return c;
  }
  fail<InputError>("no DMSP-OLS image for year {}: SustainBench uses DMSP for 1996-2011 and VIIRS from 2012", year);
}

std::optional<DmspCalibration> dmsp_calibration_for_file(std::string_view file_name) {
  for (const auto& c : dmsp_table()) {
    if (file_name.find(c.image) != std::string_view::npos) return c;
  }
  return std::nullopt;
}

bool qa_masked(unsigned qa, const std::vector<QaRule>& rules) {
  for (const auto& r : rules) {
    const unsigned field = (qa >> r.offset) & ((1u << r.width) - 1u);
    if (std::find(r.values.begin(), r.values.end(), field) != r.values.end()) return true;
  }
  return false;
}

}  // namespace sbench::raster
