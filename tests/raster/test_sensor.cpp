// Sensor profiles, scenes and the catalog: synthetic products in the sensors' real file layouts
// whose every pixel is known, and real Landsat Level-1 scenes checked against an independent
// computation in Python (gdalwarp for the pixels, the MTL parsed by the script itself).
#include <gdal.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "sbench/core/error.hpp"
#include "sbench/raster/catalog.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/scene.hpp"
#include "sbench/raster/sensor.hpp"
#include "test_support.hpp"

namespace sbench::raster {
namespace {

namespace fs = std::filesystem;

constexpr int kN = 40;  // synthetic scenes are 40 x 40 px of 30 m in UTM 32N
constexpr double kX0 = 600000, kY0 = 5300000;

// Writes a kN x kN single-band raster (UInt16 unless asked) whose pixel (r, c) holds f(r, c).
template <typename F>
void write_raster(const fs::path& path, F f, GDALDataType type = GDT_UInt16, const char* epsg = "EPSG:32632",
                  double res = 30, int bands = 1) {
  init_gdal();
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), kN, kN, bands, type, nullptr);
  ASSERT_NE(ds, nullptr) << path;
  double gt[6] = {kX0, res, 0, kY0, 0, -res};
  GDALSetGeoTransform(ds, gt);
  if (epsg) {
    OGRSpatialReference srs;
    srs.SetFromUserInput(epsg);
    char* wkt = nullptr;
    srs.exportToWkt(&wkt);
    GDALSetProjection(ds, wkt);
    CPLFree(wkt);
  }
  for (int b = 1; b <= bands; ++b) {
    std::vector<double> v(kN * kN);
    for (int r = 0; r < kN; ++r)
      for (int c = 0; c < kN; ++c) v[static_cast<std::size_t>(r * kN + c)] = f(r, c) + (b - 1) * 1000;
    ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, b), GF_Write, 0, 0, kN, kN, v.data(), kN, kN, GDT_Float64, 0, 0),
              CE_None);
  }
  GDALClose(ds);
}

// The grid of the synthetic scenes themselves: centre of the 40 x 40 block, so tiles are window reads.
TileGrid scene_grid() {
  OGRSpatialReference utm, wgs;
  utm.SetFromUserInput("EPSG:32632");
  wgs.SetWellKnownGeogCS("WGS84");
  utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  wgs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&utm, &wgs));
  double x = kX0 + kN * 30 / 2.0, y = kY0 - kN * 30 / 2.0;
  ct->Transform(1, &x, &y);
  TileGrid g = make_grid(x, y, kN, 30, "EPSG:32632");
  // Snap the projected centre back onto the scene (the round trip through lon/lat moves it by
  // micrometres).
  g.cx = kX0 + kN * 30 / 2.0;
  g.cy = kY0 - kN * 30 / 2.0;
  return g;
}

// A Landsat 8 Collection 2 Level-2 product: SR_B2..B7 raw = 8000 + 10 r + c (+ step), ST_B10,
// QA_PIXEL with the bit `qa_bit` set on column `cloud_col` (bit 3 = cloud).
std::string write_c2_l2(const fs::path& dir, const std::string& date, int step, int cloud_col, int qa_bit = 3) {
  const std::string id = "LC08_L2SP_195025_" + date + "_20200105_02_T1";
  fs::create_directories(dir);
  for (int b = 2; b <= 7; ++b) {
    write_raster(dir / (id + "_SR_B" + std::to_string(b) + ".TIF"), [&](int r, int c) {
      if (r == 0 && c == 0) return 0.0;      // fill
      if (r == 0 && c == 1) return 50000.0;  // above the valid range
      return 8000.0 + 10 * r + c + step + b;
    });
  }
  write_raster(dir / (id + "_ST_B10.TIF"), [&](int r, int c) { return 40000.0 + r + c; });
  write_raster(dir / (id + "_QA_PIXEL.TIF"), [&](int, int c) { return c == cloud_col ? double(1 << qa_bit) : 0.0; });
  std::ofstream(dir / (id + "_MTL.txt")) << "GROUP = L2_METADATA\nEND_GROUP = L2_METADATA\n";
  return id;
}

float at(const WarpedTile& t, int band, int r, int c) {
  return t.values[static_cast<std::size_t>((band * t.size + r) * t.size + c)];
}

TEST(Sensor, RegistryHasEveryFamilyWithDocumentedConstants) {
  std::set<std::string> families;
  for (const auto& p : sensor_profiles()) families.insert(p.family);
  for (const char* f :
       {"landsat", "sentinel2", "sentinel1", "modis", "nightlights", "planetscope", "naip", "generic"}) {
    EXPECT_TRUE(families.count(f)) << f;
  }
  // Constants as the issue and SUSTAINBENCH.md section 5 state them.
  const auto& c2 = sensor_profile("landsat8_c2_l2");
  ASSERT_EQ(c2.bands[1].name, "BLUE");
  EXPECT_EQ(c2.bands[1].locator, "_SR_B2.TIF");
  EXPECT_DOUBLE_EQ(c2.bands[1].scale, 0.0000275);
  EXPECT_DOUBLE_EQ(c2.bands[1].offset, -0.2);
  const auto& c1 = sensor_profile("landsat5_c1_sr");
  EXPECT_EQ(c1.bands[5].name, "SWIR2");
  EXPECT_EQ(c1.bands[5].locator, "_sr_band7.tif");
  EXPECT_EQ(c1.bands[6].name, "TEMP1");
  EXPECT_EQ(c1.bands[6].locator, "_bt_band6.tif");
  EXPECT_DOUBLE_EQ(c1.bands[6].scale, 0.1);
  EXPECT_EQ(sensor_profile("landsat8_c1_sr").bands[7].locator, "_bt_band10.tif");
  EXPECT_THROW(sensor_profile("landsat10"), UsageError);
  // pixel_qa bits 3, 4, 5 (shadow, snow, cloud) mask; bits 1, 2 (clear, water) do not.
  const auto& rules = c1.bands.back().mask;
  EXPECT_TRUE(qa_masked(1u << 3, rules));
  EXPECT_TRUE(qa_masked(1u << 4, rules));
  EXPECT_TRUE(qa_masked(1u << 5, rules));
  EXPECT_FALSE(qa_masked((1u << 1) | (1u << 2), rules));
  // Collection 1 Level-1 BQA: cloud shadow only at high confidence (bits 7-8 = 3).
  const auto& bqa = sensor_profile("landsat8_l1").bands[8].mask;
  ASSERT_EQ(sensor_profile("landsat8_l1").bands[8].locator, "_BQA.TIF");
  EXPECT_FALSE(qa_masked(2u << 7, bqa));
  EXPECT_TRUE(qa_masked(3u << 7, bqa));
}

TEST(Sensor, DmspCalibrationByYearAndFile) {
  EXPECT_EQ(dmsp_calibration(1997).image, "F12_19960316-19970212");
  EXPECT_DOUBLE_EQ(dmsp_calibration(1997).bias, 4.336);
  EXPECT_DOUBLE_EQ(dmsp_calibration(1997).slope, 0.915);
  EXPECT_EQ(dmsp_calibration(2007).image, "F16_20051128-20061224");
  EXPECT_DOUBLE_EQ(dmsp_calibration(2007).slope, 1.0);
  EXPECT_DOUBLE_EQ(dmsp_calibration(2010).bias, 2.196);
  EXPECT_DOUBLE_EQ(dmsp_calibration(2011).bias, -1.987);
  EXPECT_DOUBLE_EQ(dmsp_calibration(2011).slope, 1.246);
  EXPECT_THROW(dmsp_calibration(2012), InputError);
  EXPECT_THROW(dmsp_calibration(1995), InputError);

  // A calibrated-lights file: Y = 2.196 + 1.195 X, clamped at 0; fill 255 is NaN.
  test::TempDir dir;
  const fs::path f = dir / "F16_20100111-20101209_rad_v4.avg_vis.tif";
  write_raster(
      f, [](int r, int c) { return c == 5 ? 255.0 : double(r); }, GDT_Byte, "EPSG:32632");
  const Scene s = open_scene(f.string(), "auto");
  EXPECT_EQ(s.sensor, "dmsp_ols");
  EXPECT_EQ(s.date, "2010-01-01");
  const WarpedTile t = read_scene(s, scene_grid(), {});
  for (int r = 0; r < kN; ++r) {
    EXPECT_FLOAT_EQ(at(t, 0, r, 0), static_cast<float>(2.196 + 1.195 * r)) << r;
    EXPECT_TRUE(std::isnan(at(t, 0, r, 5)));
  }
}

TEST(Sensor, Collection2ScalingValidRangeAndQaMaskOnAWindowRead) {
  test::TempDir dir;
  const std::string id = write_c2_l2(dir / "p", "20200101", 0, 7);
  const Scene s = open_scene((dir / "p" / (id + "_SR_B4.TIF")).string(), "auto");
  EXPECT_EQ(s.sensor, "landsat8_c2_l2");
  EXPECT_EQ(s.product, id);
  EXPECT_EQ(s.date, "2020-01-01");
  EXPECT_EQ(s.crs, "EPSG:32632");
  EXPECT_EQ(s.band_names(), (std::vector<std::string>{"BLUE", "GREEN", "RED", "NIR", "SWIR1", "SWIR2", "TEMP1"}));
  SceneReadOptions o;
  o.bands = {"RED", "TEMP1"};
  const WarpedTile t = read_scene(s, scene_grid(), o);
  for (int r = 0; r < kN; ++r) {
    for (int c = 0; c < kN; ++c) {
      const bool masked = c == 7 || (r == 0 && c <= 1);
      if (masked) {
        EXPECT_TRUE(std::isnan(at(t, 0, r, c))) << r << "," << c;
        continue;
      }
      // SR x 0.0000275 - 0.2 and ST x 0.00341802 + 149 on the raw values written (window read: exact).
      EXPECT_FLOAT_EQ(at(t, 0, r, c), static_cast<float>((8000.0 + 10 * r + c + 4) * 0.0000275 - 0.2)) << r << "," << c;
      EXPECT_FLOAT_EQ(at(t, 1, r, c), static_cast<float>((40000.0 + r + c) * 0.00341802 + 149.0)) << r << "," << c;
    }
  }
  // Without the mask the cloudy column comes back.
  o.apply_mask = false;
  const WarpedTile u = read_scene(s, scene_grid(), o);
  EXPECT_FLOAT_EQ(at(u, 0, 3, 7), static_cast<float>((8000.0 + 30 + 7 + 4) * 0.0000275 - 0.2));
  // Dilated cloud (bit 1), shadow (4) and snow (5) mask too; bit 2 (cirrus) does not.
  for (int b : {1, 4, 5, 2}) {
    test::TempDir d2;
    const std::string id2 = write_c2_l2(d2 / "p", "20200101", 0, 9, b);
    const Scene s2 = open_scene((d2 / "p" / (id2 + "_QA_PIXEL.TIF")).string(), "landsat8_c2_l2");
    const WarpedTile m = read_scene(s2, scene_grid(), {});
    EXPECT_EQ(std::isnan(at(m, 0, 5, 9)), b != 2) << "bit " << b;
  }
}

TEST(Sensor, MedianCompositeOverTheDateWindowAndTimeStack) {
  test::TempDir dir;
  // Three dates; clouds on different columns; the third scene is outside the window.
  write_c2_l2(dir / "a", "20200101", 0, 3);
  write_c2_l2(dir / "b", "20200301", 100, 4);
  write_c2_l2(dir / "c", "20200501", 400, 5);
  write_c2_l2(dir / "d", "20210101", 9000, 6);
  const Catalog cat = build_catalog({dir.path().string()});
  ASSERT_EQ(cat.scenes.size(), 4u);
  SceneQuery q;
  q.start = "2020-01-01";
  q.end = "2020-12-31";
  const auto scenes = query_catalog(cat, q);
  ASSERT_EQ(scenes.size(), 3u);
  std::vector<WarpedTile> tiles;
  std::vector<std::string> dates;
  SceneReadOptions o;
  o.bands = {"BLUE"};
  for (const Scene* s : scenes) {
    tiles.push_back(read_scene(*s, scene_grid(), o));
    dates.push_back(s->date);
  }
  const WarpedTile med = composite(tiles, Composite::median);
  for (int r = 1; r < kN; ++r) {
    for (int c = 0; c < kN; ++c) {
      std::vector<double> v;
      for (int step : {0, 100, 400}) {
        const int cloud = step == 0 ? 3 : step == 100 ? 4 : 5;
        if (c != cloud) v.push_back((8000.0 + 10 * r + c + step + 2) * 0.0000275 - 0.2);
      }
      std::sort(v.begin(), v.end());
      const double want = v.size() == 3 ? v[1] : (v[0] + v[1]) / 2;
      EXPECT_NEAR(at(med, 0, r, c), want, 1e-6) << r << "," << c;
    }
  }
  const TimeStack st = stack_tiles({tiles[2], tiles[0], tiles[1]}, {dates[2], dates[0], dates[1]});
  EXPECT_EQ(st.dates, (std::vector<std::string>{"2020-01-01", "2020-03-01", "2020-05-01"}));
  EXPECT_EQ(st.steps, 3);
  // C x T x H x W: step 1 (March) at (r, c) = 8000 + 10 r + c + 100 + 2, scaled.
  const std::size_t plane = kN * kN;
  EXPECT_FLOAT_EQ(st.values[1 * plane + 10 * kN + 11],
                  static_cast<float>((8000.0 + 100 + 11 + 100 + 2) * 0.0000275 - 0.2));
}

TEST(Sensor, Sentinel2L2aOffsetFromBaseline0400AndSclMask) {
  test::TempDir dir;
  const fs::path img = dir / "S2A_MSIL2A_20220105T101421_N0400_R022_T32TQM_20220105T120000.SAFE" / "GRANULE" /
                       "L2A_T32TQM_A000001_20220105T101421" / "IMG_DATA";
  fs::create_directories(img / "R10m");
  fs::create_directories(img / "R20m");
  const std::string id = "T32TQM_20220105T101421";
  write_raster(img / "R10m" / (id + "_B04_10m.tif"), [](int r, int c) { return 2000.0 + r * 10 + c; });
  write_raster(img / "R20m" / (id + "_SCL_20m.tif"), [](int r, int) { return r == 2 ? 9.0 : 4.0; });
  const Scene s = open_scene((img / "R10m" / (id + "_B04_10m.tif")).string(), "sentinel2_l2a");
  ASSERT_NE(s.find("RED"), nullptr);
  ASSERT_NE(s.qa(), nullptr);
  SceneReadOptions o;
  o.bands = {"RED"};
  o.resampling = Resampling::nearest;
  const WarpedTile t = read_scene(s, scene_grid(), o);
  EXPECT_FLOAT_EQ(at(t, 0, 5, 6), static_cast<float>((2000.0 + 56 - 1000) * 0.0001));
  EXPECT_TRUE(std::isnan(at(t, 0, 2, 6)));  // SCL 9: cloud, high probability
}

// A SAFE product written by tests/python/s2_safe.py (JP2 bands, the product and tile XML GDAL's
// SENTINEL2 driver needs): UTM 36N, upper-left corner (600000, 100020), 60 x 60 px at 10 m, 30 x 30
// at 20 m, 10 x 10 at 60 m; band DN = 1 + 4000 * ESA band index + row * width + column; SCL =
// (row + column) % 12; baseline 04.00 (offset -1000).
TEST(Sensor, Sentinel2SafeThroughGdalsSentinel2Driver) {
  test::TempDir dir;
  test::run_python("s2_safe.py", {dir.path().string(), "L2A"});
  test::run_python("s2_safe.py", {dir.path().string(), "L1C"});
  std::vector<Unrecognised> skipped;
  auto scenes = scan_scenes({dir.path().string()}, "auto", &skipped);
  for (const auto& u : skipped) ADD_FAILURE() << u.path << ": " << u.reason;
  // One scene per product: the band files inside the SAFE are read through the driver, not again.
  ASSERT_EQ(scenes.size(), 2u);
  std::sort(scenes.begin(), scenes.end(), [](const Scene& a, const Scene& b) { return a.sensor < b.sensor; });
  const Scene& l1c = scenes[0];
  const Scene& l2a = scenes[1];
  EXPECT_EQ(l2a.sensor, "sentinel2_l2a");
  EXPECT_EQ(l2a.product, "S2A_MSIL2A_20220105T082331_N0400_R121_T36NXF_20220105T103011");
  EXPECT_EQ(l2a.date, "2022-01-05");
  EXPECT_EQ(l2a.crs, "EPSG:32636");
  EXPECT_EQ(l2a.band_names(), (std::vector<std::string>{"COASTAL", "BLUE", "GREEN", "RED", "RDED1", "RDED2", "RDED3",
                                                        "NIR", "RDED4", "WATERVAPOR", "SWIR1", "SWIR2"}));
  ASSERT_NE(l2a.qa(), nullptr);
  EXPECT_NE(l2a.find("RED")->source.find(":10m:"), std::string::npos);
  EXPECT_EQ(l2a.find("RED")->index, 1);  // the 10 m subdataset is B4, B3, B2, B8
  EXPECT_NE(l2a.find("RDED4")->source.find(":20m:"), std::string::npos);
  EXPECT_EQ(l2a.find("RDED4")->index, 4);  // B5, B6, B7, B8A, ...
  EXPECT_NE(l2a.qa()->source.find(":20m:"), std::string::npos);
  EXPECT_EQ(l1c.sensor, "sentinel2_l1c");
  EXPECT_EQ(l1c.band_names().size(), 13u);

  // The scene's own 10 m grid.
  OGRSpatialReference utm, wgs;
  utm.SetFromUserInput("EPSG:32636");
  wgs.SetWellKnownGeogCS("WGS84");
  utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  wgs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&utm, &wgs));
  double x = 600300, y = 99720;
  ct->Transform(1, &x, &y);
  TileGrid g = make_grid(x, y, 60, 10, "EPSG:32636");
  g.cx = 600300;
  g.cy = 99720;
  SceneReadOptions o;
  o.bands = {"RED", "RDED4"};
  o.resampling = Resampling::nearest;
  o.error_threshold = 0;
  const WarpedTile t = read_scene(l2a, g, o);
  ASSERT_EQ(t.bands, 2);
  int masked = 0;
  for (int r = 0; r < 60; ++r) {
    for (int c = 0; c < 60; ++c) {
      const int scl = (r / 2 + c / 2) % 12;
      const bool cloud = scl == 0 || scl == 1 || scl == 3 || scl == 8 || scl == 9 || scl == 10 || scl == 11;
      const float red = t.values[static_cast<std::size_t>(r * 60 + c)];
      const float b8a = t.values[static_cast<std::size_t>((60 + r) * 60 + c)];
      if (cloud) {
        EXPECT_TRUE(std::isnan(red) && std::isnan(b8a)) << r << "," << c;
        ++masked;
      } else {
        EXPECT_FLOAT_EQ(red, static_cast<float>((1 + 4000 * 3 + r * 60 + c - 1000) * 0.0001)) << r << "," << c;
        EXPECT_FLOAT_EQ(b8a, static_cast<float>((1 + 4000 * 8 + (r / 2) * 30 + c / 2 - 1000) * 0.0001))
            << r << "," << c;
      }
    }
  }
  EXPECT_GT(masked, 1000);
  // L1C: top-of-atmosphere, RADIO_ADD_OFFSET -1000, no raster mask.
  o.bands = {"CIRRUS"};
  const WarpedTile c = read_scene(l1c, g, o);
  EXPECT_FLOAT_EQ(c.values[static_cast<std::size_t>(7 * 60 + 13)],
                  static_cast<float>((1 + 4000 * 10 + (7 / 6) * 10 + 13 / 6 - 1000) * 0.0001));

  // A band file inside the SAFE opens as the product it belongs to.
  const fs::path b04 = fs::path(l2a.files.front()).parent_path() / "GRANULE" / "L2A_T36NXF_A023838_20220105T083056" /
                       "IMG_DATA" / "R10m" / "T36NXF_20220105T082331_B04_10m.jp2";
  ASSERT_TRUE(fs::exists(b04)) << b04;
  EXPECT_EQ(open_scene(b04.string(), "auto").product, l2a.product);
}

TEST(Sensor, Sentinel1DecibelsAndRatioFromVvAndVh) {
  test::TempDir dir;
  const std::string key = "20170103t031528-20170103t031553-014648-017c6e";
  write_raster(
      dir / ("s1a-iw-grd-vv-" + key + "-001.tiff"), [](int r, int c) { return r == 3 ? 0.0 : 0.01 * (c + 1); },
      GDT_Float32);
  write_raster(
      dir / ("s1a-iw-grd-vh-" + key + "-002.tiff"), [](int, int c) { return 0.002 * (c + 1) + 0.001; }, GDT_Float32);
  const Scene s = open_scene((dir / ("s1a-iw-grd-vh-" + key + "-002.tiff")).string(), "auto");
  EXPECT_EQ(s.sensor, "sentinel1_grd");
  EXPECT_EQ(s.date, "2017-01-03");
  const WarpedTile t = read_scene(s, scene_grid(), {});  // VV, VH, VV_DB, VH_DB, RATIO
  ASSERT_EQ(t.descriptions, (std::vector<std::string>{"VV", "VH", "VV_DB", "VH_DB", "RATIO"}));
  for (int c : {0, 9, 39}) {
    const double vv = 0.01 * (c + 1), vh = 0.002 * (c + 1) + 0.001;
    EXPECT_FLOAT_EQ(at(t, 2, 5, c), static_cast<float>(10 * std::log10(vv)));
    EXPECT_FLOAT_EQ(at(t, 3, 5, c), static_cast<float>(10 * std::log10(vh)));
    EXPECT_FLOAT_EQ(at(t, 4, 5, c), static_cast<float>(vh / vv));
    EXPECT_TRUE(std::isnan(at(t, 4, 3, c))) << "VV fill (0) gives no ratio";
  }
}

// A Sentinel-1 GRD measurement file as the SAFE ships it: no geotransform, a lattice of GCPs in
// lon/lat. Pixel (line l, sample p) of the kN x kN raster lies at lon 10 + 0.0003 p, lat 45 - 0.0002 l
// (pixel corners), and holds f(l, p).
template <typename F>
void write_gcp_raster(const fs::path& path, F f) {
  init_gdal();
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), kN, kN, 1, GDT_Float32, nullptr);
  ASSERT_NE(ds, nullptr) << path;
  std::vector<GDAL_GCP> gcps;
  std::vector<std::string> ids;
  for (int l = 0; l <= kN; l += kN / 4) {
    for (int p = 0; p <= kN; p += kN / 4) ids.push_back(std::to_string(ids.size() + 1));
  }
  std::size_t k = 0;
  for (int l = 0; l <= kN; l += kN / 4) {
    for (int p = 0; p <= kN; p += kN / 4) {
      GDAL_GCP g{};
      g.pszId = ids[k++].data();
      g.pszInfo = const_cast<char*>("");
      g.dfGCPPixel = p;
      g.dfGCPLine = l;
      g.dfGCPX = 10 + 0.0003 * p;
      g.dfGCPY = 45 - 0.0002 * l;
      gcps.push_back(g);
    }
  }
  OGRSpatialReference wgs;
  wgs.SetWellKnownGeogCS("WGS84");
  char* wkt = nullptr;
  wgs.exportToWkt(&wkt);
  ASSERT_EQ(GDALSetGCPs(ds, static_cast<int>(gcps.size()), gcps.data(), wkt), CE_None);
  CPLFree(wkt);
  std::vector<float> v(kN * kN);
  for (int l = 0; l < kN; ++l)
    for (int p = 0; p < kN; ++p) v[static_cast<std::size_t>(l * kN + p)] = static_cast<float>(f(l, p));
  ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, kN, kN, v.data(), kN, kN, GDT_Float32, 0, 0),
            CE_None);
  GDALClose(ds);
}

TEST(Sensor, Sentinel1GeoreferencedByGcpsOnly) {
  test::TempDir dir;
  const std::string key = "20190615t171235-20190615t171300-027687-031ffa";
  auto vv = [](int l, int p) { return 0.001 * (l + 1) + 0.00001 * p; };
  auto vh = [](int l, int p) { return 0.0002 * (p + 1) + 0.000001 * l; };
  write_gcp_raster(dir / ("s1b-iw-grd-vv-" + key + "-001.tiff"), vv);
  write_gcp_raster(dir / ("s1b-iw-grd-vh-" + key + "-002.tiff"), vh);
  const Scene s = open_scene((dir / ("s1b-iw-grd-vv-" + key + "-001.tiff")).string(), "auto");
  EXPECT_EQ(s.sensor, "sentinel1_grd");
  EXPECT_NEAR(s.bounds[0], 10, 1e-9);
  EXPECT_NEAR(s.bounds[1], 45 - 0.0002 * kN, 1e-9);
  EXPECT_NEAR(s.bounds[2], 10 + 0.0003 * kN, 1e-9);
  EXPECT_NEAR(s.bounds[3], 45, 1e-9);
  // 10 m UTM 32N tile in the middle of the 0.012 x 0.008 degree footprint, nearest, exact transforms.
  const TileGrid g = make_grid(10.006, 44.996, 41, 10, "UTM");
  SceneReadOptions o;
  o.resampling = Resampling::nearest;
  o.error_threshold = 0;
  o.bands = {"VV", "VH", "VV_DB"};
  const WarpedTile t = read_scene(s, g, o);
  ASSERT_EQ(t.bands, 3);
  OGRSpatialReference from, to;
  from.SetFromUserInput(g.crs.c_str());
  to.SetWellKnownGeogCS("WGS84");
  from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  to.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&from, &to));
  int checked = 0;
  for (int r = 0; r < g.size; ++r) {
    for (int c = 0; c < g.size; ++c) {
      double x = g.min_x() + (c + 0.5) * g.res, y = g.max_y() - (r + 0.5) * g.res;
      ASSERT_TRUE(ct->Transform(1, &x, &y));
      const double p = (x - 10) / 0.0003, l = (45 - y) / 0.0002;
      // The GCP polynomial reproduces the lattice to ~1e-9 pixel: skip centres on a pixel edge.
      if (std::abs(p - std::round(p)) < 1e-4 || std::abs(l - std::round(l)) < 1e-4) continue;
      const int pi = static_cast<int>(std::floor(p)), li = static_cast<int>(std::floor(l));
      ASSERT_TRUE(pi >= 0 && li >= 0 && pi < kN && li < kN) << r << "," << c;
      EXPECT_FLOAT_EQ(at(t, 0, r, c), static_cast<float>(vv(li, pi))) << r << "," << c;
      EXPECT_FLOAT_EQ(at(t, 1, r, c), static_cast<float>(vh(li, pi))) << r << "," << c;
      EXPECT_NEAR(at(t, 2, r, c), 10 * std::log10(static_cast<float>(vv(li, pi))), 1e-4) << r << "," << c;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1500);
}

TEST(Sensor, NaipBandsAndAverageWhenDownsampling) {
  test::TempDir dir;
  const fs::path f = dir / "m_3612001_ne_10_060_20160712.tif";
  write_raster(
      f, [](int r, int c) { return double((r * 7 + c * 3) % 200); }, GDT_UInt16, "EPSG:32632", 30, 4);
  const Scene s = open_scene(f.string(), "auto");
  EXPECT_EQ(s.sensor, "naip");
  EXPECT_EQ(s.date, "2016-07-12");
  EXPECT_EQ(s.band_names(), (std::vector<std::string>{"RED", "GREEN", "BLUE", "NIR"}));
  // NAIP's native 0.6 m against a 60 m grid: the default resampling is average.
  TileGrid g = scene_grid();
  g.size = 20;
  g.res = 60;
  SceneReadOptions o;
  o.bands = {"NIR"};
  const WarpedTile t = read_scene(s, g, o);
  WarpOptions w;
  w.bands = {4};
  w.resampling = Resampling::average;
  const WarpedTile avg = warp_to_grid(f.string(), g, w);
  ASSERT_EQ(t.values.size(), avg.values.size());
  for (std::size_t p = 0; p < t.values.size(); ++p) EXPECT_EQ(t.values[p], avg.values[p]) << p;
  // Each 60 m pixel averages 2 x 2 source pixels of the 4th band (value + 3000).
  const double want = ((7 * 0 + 0) % 200 + (7 * 0 + 3) % 200 + (7 * 1 + 0) % 200 + (7 * 1 + 3) % 200) / 4.0 + 3000;
  EXPECT_NEAR(at(t, 0, 0, 0), want, 1e-4);
}

TEST(Sensor, CatalogListsWhatItCannotUseAndRoundTrips) {
  test::TempDir dir;
  write_c2_l2(dir / "a", "20200101", 0, 3);
  std::ofstream(dir / "notes.txt") << "hello";
  // PlanetScope with 3 bands: the profile expects 4.
  write_raster(
      dir / "20170601_101010_1005_3B_AnalyticMS_SR.tif", [](int, int) { return 1.0; }, GDT_UInt16, "EPSG:32632", 3, 3);
  // A raster without CRS, under a Landsat name.
  fs::create_directories(dir / "nocrs");
  write_raster(
      dir / "nocrs" / "LC08_L2SP_195025_20200101_20200105_02_T1_SR_B2.TIF", [](int, int) { return 9000.0; }, GDT_UInt16,
      nullptr);
  const Catalog c = build_catalog({dir.path().string()});
  ASSERT_EQ(c.scenes.size(), 1u);
  std::map<std::string, std::string> why;
  for (const auto& u : c.unrecognised) why[fs::path(u.path).filename().string()] = u.reason;
  EXPECT_NE(why["notes.txt"].find("the name does not match a sensor profile"), std::string::npos);
  EXPECT_NE(why["20170601_101010_1005_3B_AnalyticMS_SR.tif"].find("expects 4"), std::string::npos)
      << why["20170601_101010_1005_3B_AnalyticMS_SR.tif"];
  EXPECT_NE(why["LC08_L2SP_195025_20200101_20200105_02_T1_SR_B2.TIF"].find("no coordinate reference system"),
            std::string::npos);
  write_catalog((dir / "cat.json").string(), c);
  const Catalog back = read_catalog((dir / "cat.json").string());
  ASSERT_EQ(back.scenes.size(), 1u);
  EXPECT_EQ(back.scenes[0].bands.size(), c.scenes[0].bands.size());
  EXPECT_EQ(back.scenes[0].qa()->mask.size(), 4u);
  const auto& b = c.scenes[0].bounds;
  SceneQuery inside;
  inside.box = std::array<double, 4>{(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, (b[0] + b[2]) / 2, (b[1] + b[3]) / 2};
  EXPECT_EQ(query_catalog(back, inside).size(), 1u);
  SceneQuery outside = inside;
  (*outside.box)[0] = (*outside.box)[2] = b[2] + 0.01;
  EXPECT_EQ(query_catalog(back, outside).size(), 0u);
  std::ofstream(dir / "bad.json") << "{\"format\": \"sbench-catalog\", \"version\": 1, \"scenes\": [{}]}";
  EXPECT_THROW(read_catalog((dir / "bad.json").string()), FormatError);
}

TEST(Sensor, MtlFileIsRequiredForLevel1AndParsed) {
  test::TempDir dir;
  write_raster(dir / "LC08_L1TP_195025_20130707_20170503_01_T1_B2.TIF", [](int, int) { return 7000.0; });
  EXPECT_THROW(
      {
        try {
          open_scene((dir / "LC08_L1TP_195025_20130707_20170503_01_T1_B2.TIF").string(), "auto");
        } catch (const InputError& e) {
          EXPECT_NE(std::string(e.what()).find("no MTL file"), std::string::npos) << e.what();
          throw;
        }
      },
      InputError);
  std::ofstream(dir / "LC08_L1TP_195025_20130707_20170503_01_T1_MTL.txt")
      << "GROUP = L1_METADATA_FILE\n  GROUP = IMAGE_ATTRIBUTES\n    SUN_ELEVATION = 30.0\n  END_GROUP = "
         "IMAGE_ATTRIBUTES\n    REFLECTANCE_MULT_BAND_2 = 2.0000E-05\n    REFLECTANCE_ADD_BAND_2 = -0.100000\n"
         "    FILE_NAME_BAND_2 = \"x.TIF\"\nEND_GROUP = L1_METADATA_FILE\n";
  const auto mtl = read_mtl((dir / "LC08_L1TP_195025_20130707_20170503_01_T1_MTL.txt").string());
  EXPECT_EQ(mtl.at("FILE_NAME_BAND_2"), "x.TIF");
  const Scene s = open_scene((dir / "LC08_L1TP_195025_20130707_20170503_01_T1_B2.TIF").string(), "auto");
  SceneReadOptions o;
  o.bands = {"BLUE"};
  const WarpedTile t = read_scene(s, scene_grid(), o);
  // (7000 x 2e-5 - 0.1) / sin(30 degrees) = 0.08
  EXPECT_NEAR(at(t, 0, 4, 4), 0.08, 1e-6);
}

// Real Level-1 scenes: TOA reflectance and brightness temperature against gdalwarp + the MTL
// parsed by Python.
const std::string kSat = std::string(SBENCH_TESTDATA) + "/usr/lib/R/site-library/satellite/";

TEST(SensorRealImagery, Level1ReflectanceAndTemperatureMatchAnIndependentComputation) {
  struct Case {
    std::string file, sensor, bands, qa;
    double lon, lat;
  };
  const std::vector<Case> cases = {
      {kSat + "extdata/LC08_L1TP_195025_20130707_20170503_01_T1_B2.TIF", "landsat8_l1", "BLUE,NIR,TEMP1", "BQA", 8.7715,
       50.8027},
      {kSat + "extdata/LE07_L1TP_195025_20010730_20170204_01_T1_B3.TIF", "landsat7_l1", "RED,SWIR2,TEMP1", "BQA",
       8.7715, 50.8027},
      {kSat + "testdata/LT5/LT51670552010352MLK00_B4.tif", "landsat5_l1", "GREEN,NIR,TEMP1", "", 39.82, 6.83},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.file);
    ASSERT_TRUE(fs::exists(k.file)) << "run scripts/fetch-testdata.sh first";
    test::TempDir dir;
    const auto r = test::run_sbench({"-q",
                                     "tile",
                                     "--scene",
                                     k.file,
                                     "--sensor",
                                     k.sensor,
                                     "--bands",
                                     k.bands,
                                     "--lon",
                                     fmt::format("{}", k.lon),
                                     "--lat",
                                     fmt::format("{}", k.lat),
                                     "--size",
                                     "15",
                                     "--res",
                                     "30",
                                     "--crs",
                                     "UTM",
                                     "--resampling",
                                     "nearest",
                                     "--no-mask",
                                     "--out",
                                     (dir / "t.tif").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto py = test::run_python("landsat_l1_check.py", {(dir / "t.tif").string(), k.file, k.bands});
    EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
    EXPECT_NE(py.out.find("0 problems"), std::string::npos) << py.out << py.err;
  }
}

}  // namespace
}  // namespace sbench::raster
