// Sensor profiles: for each product the toolkit reads, the common band names, where each band
// lives (a file next to the others, an HDF subdataset, or a band index), its scaling, valid range,
// nodata, and the rule that masks clouds, shadows and snow. Declared once here, documented in
// docs/sensors.md.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbench::raster {

// How a product's bands are stored.
enum class Layout {
  band_files,      // one file per band, named PRODUCT + suffix (Landsat, Sentinel-2, Sentinel-1 GRD)
  multiband_file,  // one file, bands by index (PlanetScope, NAIP, night lights, generic)
  subdatasets,     // one HDF4/HDF5 file, bands in named subdatasets (MODIS, VNP46)
};

// What a band measures, which decides its default resampling (nearest for qa and classes).
enum class Quantity { reflectance, temperature, radiance, backscatter, qa, classes, index, lights, dn };

// A pixel is masked when bits [offset, offset + width) of its QA value hold one of `values`.
struct QaRule {
  int offset = 0;
  int width = 1;
  std::vector<unsigned> values = {1};
  std::string meaning;
};

struct BandSpec {
  std::string name;     // common name: BLUE, GREEN, RED, NIR, SWIR1, SWIR2, TEMP1, QA, VV, ...
  std::string locator;  // band_files: file-name suffix; subdatasets: subdataset name suffix; else ""
  int index = 1;        // 1-based band in the file or subdataset
  Quantity quantity = Quantity::dn;
  double scale = 1, offset = 0;  // physical value = raw * scale + offset
  // Raw values outside [valid_min, valid_max] are masked (NaN); then the physical value is clamped
  // to [clamp_min, clamp_max].
  double valid_min = -std::numeric_limits<double>::infinity();
  double valid_max = std::numeric_limits<double>::infinity();
  double clamp_min = -std::numeric_limits<double>::infinity();
  double clamp_max = std::numeric_limits<double>::infinity();
  std::optional<double> nodata;  // raw fill value (overrides the file's)
  double res_m = 0;              // native pixel size in metres (0 = unknown)
  std::vector<QaRule> mask;      // for QA bands: the rules that mask a pixel
  // Level-1 Landsat: scale and offset come from the MTL file (reflectance or brightness temperature).
  int mtl_band = 0;
  std::string mtl_band_key;  // "6_VCID_1" where the MTL key is not the band number
};

// How the acquisition date is written in the product name.
enum class DateForm { ymd, year_doy, year, none };

struct SensorProfile {
  std::string id;      // landsat8_c2_l2, sentinel2_l2a, mod09a1, dmsp_ols, generic, ...
  std::string title;   // one line for humans
  std::string family;  // landsat, sentinel2, sentinel1, modis, nightlights, planetscope, naip, generic
  Layout layout = Layout::multiband_file;
  // ECMAScript regex matched (case-insensitive) against a file name: group 1 is the product id
  // (the common prefix of its band files), group 2 the date as `date_form` says.
  std::string name_pattern;
  DateForm date_form = DateForm::none;
  std::vector<BandSpec> bands;  // several specs may share a name: the first whose file exists is used
  bool mtl = false;             // Level-1: rescaling from PRODUCT_MTL.txt
  std::string notes;            // documented caveats
};

// Every profile, in the order docs/sensors.md lists them.
const std::vector<SensorProfile>& sensor_profiles();

// The profile with this id; an unknown id is a UsageError listing the valid ones.
const SensorProfile& sensor_profile(std::string_view id);

// The resampling a band of this kind should use when none is asked for.
bool is_categorical(Quantity q);

// DMSP-OLS inter-calibration of SustainBench (SUSTAINBENCH.md section 5, SB:ee_utils.py): the
// radiance-calibrated image used for a survey year and Y = bias + slope * X. Years outside
// 1996-2011 (VIIRS from 2012) are an InputError.
struct DmspCalibration {
  std::string image;  // e.g. F16_20100111-20101209
  int first_year = 0, last_year = 0;
  double bias = 0, slope = 1;
};
DmspCalibration dmsp_calibration(int year);
// The calibration of the image whose id the file name contains, if any.
std::optional<DmspCalibration> dmsp_calibration_for_file(std::string_view file_name);

// True when `qa` is masked by any rule.
bool qa_masked(unsigned qa, const std::vector<QaRule>& rules);

}  // namespace sbench::raster
