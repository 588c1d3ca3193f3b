// sbench prepare crop_type_kenya and crop_type_africa: a hand-built granule whose field pixels are
// known; synth -> prepare against independent builds (GDAL's Python bindings and numpy,
// tests/python/crop_type_{kenya,africa}_reference.py); the planted crop signal; shards, a killed
// and resumed run, and bad input.
#include <gdal.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "sbench/store/store.hpp"
#include "test_support.hpp"

namespace sbench {
namespace {

namespace fs = std::filesystem;

// The `sbench prepare ...` line synth prints, as arguments (with -q, without "sbench").
std::vector<std::string> synth(const std::string& task, const fs::path& dir, int n, int seed = 3) {
  const auto s = test::run_sbench(
      {"-q", "synth", task, "--out", dir.string(), "--n", std::to_string(n), "--seed", std::to_string(seed)});
  EXPECT_EQ(s.exit_code, 0) << s.err;
  const auto at = s.out.find("sbench prepare ");
  if (at == std::string::npos) return {};
  std::istringstream line(s.out.substr(at, s.out.find('\n', at) - at));
  std::vector<std::string> args = {"-q"};
  for (std::string w; line >> w;) args.push_back(w);
  args.erase(args.begin() + 1);
  return args;
}

std::map<std::string, std::size_t> counts(const fs::path& store) {
  store::StoreReader r(store);
  const auto j = nlohmann::json::parse(r.attributes().at("prepare_report"));
  std::map<std::string, std::size_t> out;
  for (const auto& [k, v] : j["counts"].items()) out[k] = v.get<std::size_t>();
  return out;
}

// One Level-1C granule of 13 band GeoTIFFs (B01..B12 with B8A) at 10 m, w x h pixels from (x0, y1)
// in UTM 36N, named as the band files of a SAFE; band b at (r, c) holds value(b, r, c) (0 = no data).
template <typename F>
void write_granule(const fs::path& dir, const std::string& stamp, double x0, double y1, F value, int w = 8, int h = 8) {
  static const char* names[13] = {"B01", "B02", "B03", "B04", "B05", "B06", "B07",
                                  "B08", "B8A", "B09", "B10", "B11", "B12"};
  fs::create_directories(dir);
  GDALAllRegister();
  OGRSpatialReference srs;
  srs.importFromEPSG(32636);
  char* text = nullptr;
  srs.exportToWkt(&text);
  const std::string wkt = text;
  CPLFree(text);
  for (int b = 0; b < 13; ++b) {
    const fs::path path = dir / ("T36NXF_" + stamp + "_" + names[b] + ".tif");
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), w, h, 1, GDT_UInt16, nullptr);
    ASSERT_NE(ds, nullptr);
    double gt[6] = {x0, 10, 0, y1, 0, -10};
    GDALSetGeoTransform(ds, gt);
    GDALSetProjection(ds, wkt.c_str());
    std::vector<std::uint16_t> v(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
    for (int r = 0; r < h; ++r) {
      for (int c = 0; c < w; ++c) v[static_cast<std::size_t>(r * w + c)] = value(b, r, c);
    }
    ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, w, h, v.data(), w, h, GDT_UInt16, 0, 0), CE_None);
    GDALClose(ds);
  }
}

// A field over the centres of rows 2-3 and columns 1-3 (6 pixels) of a granule whose band b holds
// 1000 + 100 b + 10 r + c: its mean is 1000 + 100 b + 25 + 2 on 1 March 2017 (day 59). On 11 March
// (day 69) the pixel (2, 1) has no B04, so it is not clear: every band is the mean of the other
// five, 1000 + 100 b + 10 * 2.6 + 2.2, rounded. On 21 March four of the six pixels have no data:
// fewer than half clear, not observed; on 31 March three of six: half clear, observed (the means
// of the three). Beside it, fields that give a status: an unknown crop, one without a pixel
// centre, one 5 km away, one 12 km across.
TEST(CropTypeKenyaPrepare, FieldMeansOfKnownPixels) {
  test::TempDir d;
  const double x0 = 600000, y1 = 63000;
  auto base = [](int b, int r, int c) { return static_cast<std::uint16_t>(1000 + 100 * b + 10 * r + c); };
  write_granule(d / "s2", "20170301T075211", x0, y1, base);
  write_granule(d / "s2", "20170311T075211", x0, y1,
                [&](int b, int r, int c) { return b == 3 && r == 2 && c == 1 ? std::uint16_t{0} : base(b, r, c); });
  write_granule(d / "s2", "20170321T075211", x0, y1, [&](int b, int r, int c) {
    return r >= 2 && r <= 3 && c >= 1 && c <= 3 && !(r == 3 && c == 3) && !(r == 2 && c == 1) ? std::uint16_t{0}
                                                                                              : base(b, r, c);
  });
  write_granule(d / "s2", "20170331T075211", x0, y1, [&](int b, int r, int c) {
    return r == 2 && c >= 1 && c <= 3 ? std::uint16_t{0} : base(b, r, c);  // row 3 clear: 3 of 6
  });
  // Rows 2-3: y from y1 - 40 to y1 - 20; columns 1-3: x from x0 + 10 to x0 + 40 (edges 2 m in).
  auto box = [](const std::string& id, const std::string& crop, double a, double b, double c, double e) {
    return fmt::format(R"({{"type": "Feature", "properties": {{"fieldID": "{0}", "cropType": "{1}", "region": "Busia"}},
"geometry": {{"type": "Polygon", "coordinates": [[[{2}, {3}], [{4}, {3}], [{4}, {5}], [{2}, {5}], [{2}, {3}]]]}}}})",
                       id, crop, a, b, c, e);
  };
  test::write_file(d / "fields.geojson",
                   R"({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name":
"urn:ogc:def:crs:EPSG::32636"}}, "features": [)" +
                       box("f1", "Sugar Cane", x0 + 12, y1 - 22, x0 + 38, y1 - 38) + ", " +
                       box("f2", "Tea", x0 + 12, y1 - 52, x0 + 38, y1 - 68) + ", " +
                       box("f3", "Maize", x0 + 11, y1 - 11, x0 + 14, y1 - 14) + ", " +
                       box("f4", "Maize", x0 + 5000, y1 - 12, x0 + 5030, y1 - 38) + ", " +
                       box("f5", "Maize", x0 + 20, y1 - 62, x0 + 12020, y1 - 78) + "]}");
  const fs::path out = d / "k.h5";
  const auto p = test::run_sbench({"-q", "prepare", "crop_type_kenya", "--labels", (d / "fields.geojson").string(),
                                   "--imagery", (d / "s2").string(), "--out", out.string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  store::StoreReader r(out);
  ASSERT_EQ(r.size(), 1u);
  std::vector<float> x(14 * 365);
  std::vector<std::uint8_t> observed(365);
  r.read("x", 0, 1, x.data());
  r.read("observed", 0, 1, observed.data());
  for (int day = 0; day < 365; ++day) EXPECT_EQ(observed[day], day == 59 || day == 69 || day == 89 ? 1 : 0) << day;
  for (int b = 0; b < 13; ++b) {
    EXPECT_EQ(x[static_cast<std::size_t>(b) * 365 + 59], 1027 + 100 * b) << b;
    EXPECT_EQ(x[static_cast<std::size_t>(b) * 365 + 69], 1028 + 100 * b) << b;  // 1028.2 + 100 b
    EXPECT_EQ(x[static_cast<std::size_t>(b) * 365 + 79], 0) << b;
    EXPECT_EQ(x[static_cast<std::size_t>(b) * 365 + 89], 1032 + 100 * b) << b;  // row 3, columns 1-3
  }
  EXPECT_NEAR(x[13 * 365 + 59], 1727.0 / 1227.0 - 1, 1e-6);  // GCVI = B08 / B03 - 1
  EXPECT_EQ(r.read_strings("region").front(), "Busia");
  EXPECT_EQ(r.read_numbers("crop_type").front(), 7);  // sugarcane
  const auto c = counts(out);
  EXPECT_EQ(c.at("processed"), 1u);
  EXPECT_EQ(c.at("unknown_crop"), 1u);
  EXPECT_EQ(c.at("no_pixels"), 1u);
  EXPECT_EQ(c.at("outside_imagery"), 1u);
  EXPECT_EQ(c.at("field_too_large"), 1u);

  // A leap year: 1 March 2016 is day 60; 31 December 2016 has no column (not used, counted).
  write_granule(d / "s2016", "20160301T075211", x0, y1, base);
  write_granule(d / "s2016", "20161231T075211", x0, y1, base);
  const fs::path leap = d / "leap.h5";
  ASSERT_EQ(test::run_sbench({"-q", "prepare", "crop_type_kenya", "--labels", (d / "fields.geojson").string(),
                              "--imagery", (d / "s2016").string(), "--year", "2016", "--out", leap.string()})
                .exit_code,
            0);
  store::StoreReader l(leap);
  l.read("observed", 0, 1, observed.data());
  for (int day = 0; day < 365; ++day) EXPECT_EQ(observed[day], day == 60 ? 1 : 0) << day;
  EXPECT_EQ(nlohmann::json::parse(l.attributes().at("prepare_imagery"))["scenes_without_a_column"], 1);
}

// South Sudan (UTM 36N), by hand: a Sentinel-2 granule of 128 x 64 pixels over tiles (row 839,
// columns 500 and 501) on three dates and of 64 x 64 over column 500 on a fourth; band file k holds
// 1000 + 100 step + 10 k + (r + c) % 7. Fields: sorghum (rows 10-19, columns 10-19 of tile 500),
// groundnut given as code 4 (rows 30-39, columns 40-49), cotton (unlabelled, rows 50-59), maize in
// tile 501 (3 dates: too few), maize 6 km east (outside the imagery) and a Ghana field.
TEST(CropTypeAfricaPrepare, TileOfKnownPixelsAndStatuses) {
  test::TempDir d;
  const double x0 = 320000, y1 = 537600;
  const char* stamps[4] = {"20170105T081001", "20170125T081001", "20170214T081001", "20170306T081001"};
  for (int k = 0; k < 4; ++k) {
    write_granule(
        d / "s2", stamps[k], x0, y1,
        [k](int b, int r, int c) { return static_cast<std::uint16_t>(1000 + 100 * k + 10 * b + (r + c) % 7); },
        k < 3 ? 128 : 64, 64);
  }
  // The granule's pixel (r, c) has its centre at (x0 + 10 c + 5, y1 - 10 r - 5).
  auto box = [&](const std::string& crop, int r0, int c0, int r1, int c1) {
    const double a = x0 + 10 * c0 + 2, b = y1 - 10 * r0 - 2, e = x0 + 10 * (c1 + 1) - 2, f = y1 - 10 * (r1 + 1) + 2;
    return fmt::format(R"({{"type": "Feature", "properties": {{"country": "South Sudan", "crop": "{0}"}},
"geometry": {{"type": "Polygon", "coordinates": [[[{1}, {2}], [{3}, {2}], [{3}, {4}], [{1}, {4}], [{1}, {2}]]]}}}})",
                       crop, a, b, e, f);
  };
  // And a Ghana field (in the same file, so in UTM 36N coordinates), without imagery: Ghana's tiles
  // go on a grid of UTM 30N, South Sudan's of 36N.
  OGRSpatialReference wgs84, utm36;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  utm36.importFromEPSG(32636);
  std::unique_ptr<OGRCoordinateTransformation> to36(OGRCreateCoordinateTransformation(&wgs84, &utm36));
  std::string ring;
  for (const auto& [lon, lat] : std::vector<std::pair<double, double>>{
           {-0.850, 9.400}, {-0.849, 9.400}, {-0.849, 9.399}, {-0.850, 9.399}, {-0.850, 9.400}}) {
    double x = lon, y = lat;
    ASSERT_TRUE(to36->Transform(1, &x, &y));
    ring += fmt::format("{}[{:.3f}, {:.3f}]", ring.empty() ? "" : ", ", x, y);
  }
  const std::string ghana = R"({"type": "Feature", "properties": {"country": "ghana", "crop": "maize"}, "geometry":
{"type": "Polygon", "coordinates": [[)" +
                            ring + "]]}}";
  test::write_file(d / "fields.geojson",
                   R"({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name":
"urn:ogc:def:crs:EPSG::32636"}}, "features": [)" +
                       box("sorghum", 10, 10, 19, 19) + ", " + box("4", 30, 40, 39, 49) + ", " +
                       box("cotton", 50, 10, 59, 19) + ", " + box("maize", 10, 70, 19, 79) + ", " +
                       box("maize", 10, 610, 19, 619) + ", " + ghana + "]}");
  const fs::path out = d / "ss.h5";
  const auto p = test::run_sbench({"-q", "prepare", "crop_type_africa", "--labels", (d / "fields.geojson").string(),
                                   "--imagery", (d / "s2").string(), "--out", out.string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto c = counts(out);
  EXPECT_EQ(c.at("processed"), 1u);
  EXPECT_EQ(c.at("too_few_dates"), 1u);
  EXPECT_EQ(c.at("outside_imagery"), 2u);  // the maize 6 km east, the Ghana field
  store::StoreReader r(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r.ids().front(), "southsudan_000001");  // ghana_000000 is the Ghana field's tile
  const auto settings = nlohmann::json::parse(r.attributes().at("prepare_settings"));
  EXPECT_EQ(settings["crs"], nlohmann::json({{"ghana", "EPSG:32630"}, {"southsudan", "EPSG:32636"}})) << settings;
  EXPECT_EQ(r.read_strings("country").front(), "southsudan");
  std::vector<std::uint8_t> truth(64 * 64);
  r.read("truth", 0, 1, truth.data());
  for (int row = 0; row < 64; ++row) {
    for (int col = 0; col < 64; ++col) {
      const int want = row >= 10 && row <= 19 && col >= 10 && col <= 19   ? 1
                       : row >= 30 && row <= 39 && col >= 40 && col <= 49 ? 4
                                                                          : 0;
      EXPECT_EQ(truth[static_cast<std::size_t>(row * 64 + col)], want) << row << " " << col;
    }
  }
  std::vector<std::int32_t> s2(static_cast<std::size_t>(10) * 256 * 4096), dates(256), s1_dates(256);
  r.read("s2", 0, 1, s2.data());
  r.read("s2_dates", 0, 1, dates.data());
  r.read("s1_dates", 0, 1, s1_dates.data());
  EXPECT_EQ(std::vector<std::int32_t>(dates.begin(), dates.begin() + 5),
            (std::vector<std::int32_t>{20170105, 20170125, 20170214, 20170306, 0}));
  EXPECT_EQ(std::count(s1_dates.begin(), s1_dates.end(), 0), 256);  // no Sentinel-1 scenes: empty
  const int file_of[10] = {1, 2, 3, 4, 5, 6, 7, 8, 11, 12};         // BLUE (B02) ... SWIR2 (B12)
  for (int b = 0; b < 10; ++b) {
    for (int k = 0; k < 5; ++k) {
      for (int q : {0, 777, 4095}) {
        const std::int32_t want = k < 4 ? 1000 + 100 * k + 10 * file_of[b] + (q / 64 + q % 64) % 7 : 0;
        EXPECT_EQ(s2[static_cast<std::size_t>((b * 256 + k) * 4096 + q)], want) << b << " " << k << " " << q;
      }
    }
  }
}

class CropTypeKenyaSynth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    args_ = synth("crop_type_kenya", *dir_ / "raw", 14);
    ASSERT_FALSE(args_.empty());
    const auto p = test::run_sbench(args_);
    ASSERT_EQ(p.exit_code, 0) << p.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static test::TempDir* dir_;
  static std::vector<std::string> args_;
};
test::TempDir* CropTypeKenyaSynth::dir_ = nullptr;
std::vector<std::string> CropTypeKenyaSynth::args_;

TEST_F(CropTypeKenyaSynth, SeriesEqualAnIndependentBuildAndCarryTheCropSignal) {
  const fs::path store_path = args_.back();
  test::run_python("crop_type_kenya_reference.py", {(*dir_ / "raw").string(), store_path.string()});
  const auto c = counts(store_path);
  EXPECT_EQ(c.at("processed"), 14u);
  EXPECT_EQ(c.at("missing_label"), 1u);    // the field without a crop
  EXPECT_EQ(c.at("outside_imagery"), 1u);  // the field 6 km away
  store::StoreReader r(store_path);
  ASSERT_EQ(r.size(), 14u);
  std::vector<float> x(14 * 14 * 365);
  std::vector<std::uint8_t> observed(14 * 365);
  r.read("x", 0, 14, x.data());
  r.read("observed", 0, 14, observed.data());
  const auto crop = r.read_numbers("crop_type");
  // 24 dates of 2017; the three with the swath's edge and no second granule leave the western
  // fields unobserved.
  std::size_t full = 0, partial = 0;
  for (std::size_t i = 0; i < 14; ++i) {
    const auto n = std::count(observed.begin() + static_cast<long>(i * 365),
                              observed.begin() + static_cast<long>((i + 1) * 365), 1);
    EXPECT_TRUE(n == 24 || n == 21) << i << ": " << n;
    (n == 24 ? full : partial) += 1;
  }
  EXPECT_GT(full, 0u);
  EXPECT_GT(partial, 0u);
  // Planted: maize (4) peaks near day 150, beans (1) near day 110: on day 152 (2 June, a date
  // every field saw) maize's GCVI is well above beans'.
  double maize = 0, beans = 0;
  for (std::size_t i = 0; i < 14; ++i) {
    const float g = x[(i * 14 + 13) * 365 + 152];
    if (crop[i] == 4) maize = g;
    if (crop[i] == 1) beans = g;
  }
  EXPECT_GT(maize, beans + 1.5);
  // Splits: train and test only (fold_random).
  const auto splits = r.splits();
  for (auto s : splits) EXPECT_TRUE(s == 0 || s == 2) << int(s);
}

TEST_F(CropTypeKenyaSynth, ShardsMergeToTheSingleRun) {
  ASSERT_NO_FATAL_FAILURE(test::shards_merge_and_compare(args_, dir_->path(), {2, 0, 1}, args_.back()));
}

TEST_F(CropTypeKenyaSynth, BadInputNamesTheFileAndTheField) {
  const fs::path raw = *dir_ / "raw";
  auto run = [&](const std::string& labels, const std::string& imagery) {
    return test::run_sbench(
        {"prepare", "crop_type_kenya", "--labels", labels, "--imagery", imagery, "--out", (*dir_ / "bad.h5").string()});
  };
  // A field without an id.
  test::write_file(
      *dir_ / "noid.geojson",
      R"({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"cropType": "Maize"},
"geometry": {"type": "Polygon", "coordinates": [[[34.56, 0.57], [34.561, 0.57], [34.561, 0.569], [34.56, 0.57]]]}}]})");
  auto p = run((*dir_ / "noid.geojson").string(), (raw / "sentinel2").string());
  EXPECT_NE(p.exit_code, 0);
  EXPECT_NE(p.err.find("noid.geojson"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("fieldID"), std::string::npos) << p.err;
  // Two fields with one id.
  std::string two = test::read_file(raw / "fields.geojson");
  const auto at = two.find("\"fieldID\": 2,");
  ASSERT_NE(at, std::string::npos);
  two.replace(at, 13, "\"fieldID\": 1,");
  test::write_file(*dir_ / "dup.geojson", two);
  p = run((*dir_ / "dup.geojson").string(), (raw / "sentinel2").string());
  EXPECT_NE(p.exit_code, 0);
  EXPECT_NE(p.err.find("field id '1'"), std::string::npos) << p.err;
  // No scene of the year.
  p = test::run_sbench({"prepare", "crop_type_kenya", "--labels", (raw / "fields.geojson").string(), "--imagery",
                        (raw / "sentinel2").string(), "--year", "2019", "--out", (*dir_ / "bad.h5").string()});
  EXPECT_NE(p.exit_code, 0);
  EXPECT_NE(p.err.find("no Sentinel-2 scene between 2019-01-01 and 2019-12-31"), std::string::npos) << p.err;
  EXPECT_FALSE(fs::exists(*dir_ / "bad.h5"));
}

// 40 fields: killed once the first 32 are journaled, resumed to the uninterrupted run's store.
TEST(CropTypeKenyaResume, KilledRunResumesToTheUninterruptedStore) {
  test::TempDir d;
  const auto args = synth("crop_type_kenya", d / "raw", 40);
  ASSERT_FALSE(args.empty());
  ASSERT_EQ(test::run_sbench(args).exit_code, 0);
  auto killed = args;
  killed.back() = (d / "killed.h5").string();
  ASSERT_NO_FATAL_FAILURE(test::kill_resume_and_compare(killed, args.back()));
}

TEST(CropTypeAfricaSynth, TilesEqualAnIndependentBuildAndShardsMerge) {
  test::TempDir d;
  const auto args = synth("crop_type_africa", d / "raw", 12);
  ASSERT_FALSE(args.empty());
  const auto p = test::run_sbench(args);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const fs::path single = args.back();
  test::run_python("crop_type_africa_reference.py", {(d / "raw").string(), single.string()});
  store::StoreReader r(single);
  const std::size_t n = r.size();
  ASSERT_GT(n, 4u);
  // Planted: the NIR of maize pixels (2) at its peak (8 August 2016, step 4) is above that of
  // unlabelled ground (0).
  std::vector<std::int32_t> s2(static_cast<std::size_t>(10) * 256 * 64 * 64);
  std::vector<std::uint8_t> truth(64 * 64);
  double sum[2] = {0, 0};
  std::size_t num[2] = {0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    r.read("s2", i, 1, s2.data());
    r.read("truth", i, 1, truth.data());
    for (std::size_t q = 0; q < truth.size(); ++q) {
      const std::int32_t nir = s2[(6 * 256 + 4) * 4096 + q];
      if (nir == 0) continue;
      const int k = truth[q] == 2 ? 1 : truth[q] == 0 ? 0 : -1;
      if (k >= 0) sum[k] += nir, num[k] += 1;
    }
  }
  ASSERT_GT(num[1], 100u);
  EXPECT_GT(sum[1] / num[1], sum[0] / num[0] + 1000);
  // Every tile holds the country of its fields (the reference checks that tiles sharing a field
  // share a split).
  EXPECT_EQ(r.read_strings("country"), std::vector<std::string>(n, "ghana"));
  // The options: NDVI and GCVI channels and PlanetScope at 3 m, against the same reference.
  {
    auto o = args;
    const fs::path with = d / "options.h5";
    o.back() = with.string();
    o.insert(o.end(), {"--indices", "--planet-native"});
    ASSERT_EQ(test::run_sbench(o).exit_code, 0);
    store::StoreReader opt(with);
    EXPECT_EQ(opt.schema().field("planet_native").shape, (std::vector<std::int64_t>{4, 256, 212, 212}));
    EXPECT_EQ(opt.schema().field("s2_indices").bands, (std::vector<std::string>{"NDVI", "GCVI"}));
    test::run_python("crop_type_africa_reference.py", {(d / "raw").string(), with.string()});
  }
  // Two shards merge to the single run's store.
  ASSERT_NO_FATAL_FAILURE(test::shards_merge_and_compare(args, d.path(), {1, 0}, single));

  // Bad input: a field without a country, a country that is not a variant, no scene in the window.
  const std::string fields = test::read_file(d / "raw" / "fields.geojson");
  auto bad = [&](const std::string& from, const std::string& to, std::vector<std::string> extra = {}) {
    std::string text = fields;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos);
    if (at != std::string::npos) text.replace(at, from.size(), to);
    test::write_file(d / "bad.geojson", text);
    auto a = args;
    a.erase(a.begin());  // -q
    a[3] = (d / "bad.geojson").string();
    a.back() = (d / "bad.h5").string();
    a.insert(a.end(), extra.begin(), extra.end());
    return test::run_sbench(a);
  };
  auto e = bad("\"country\": \"ghana\"", "\"land\": \"ghana\"");
  EXPECT_NE(e.exit_code, 0);
  EXPECT_NE(e.err.find("bad.geojson: feature 1 has no country attribute"), std::string::npos) << e.err;  // FID = id
  e = bad("\"country\": \"ghana\"", "\"country\": \"kenya\"");
  EXPECT_NE(e.exit_code, 0);
  EXPECT_NE(e.err.find("has country 'kenya', expected ghana or southsudan"), std::string::npos) << e.err;
  e = bad("\"id\": 1,", "\"id\": 1,", {"--start", "2020-01-01", "--end", "2020-12-31"});
  EXPECT_NE(e.exit_code, 0);
  EXPECT_NE(e.err.find("no Sentinel-1, Sentinel-2 or PlanetScope scene between 2020-01-01"), std::string::npos)
      << e.err;
  EXPECT_FALSE(fs::exists(d / "bad.h5"));
}

// 150 fields: 42 tiles, killed once the first 32 are journaled, resumed to the uninterrupted store.
TEST(CropTypeAfricaResume, KilledRunResumesToTheUninterruptedStore) {
  test::TempDir d;
  const auto args = synth("crop_type_africa", d / "raw", 150);
  ASSERT_FALSE(args.empty());
  ASSERT_EQ(test::run_sbench(args).exit_code, 0);
  ASSERT_EQ(store::StoreReader(args.back()).size(), 42u);
  auto killed = args;
  killed.back() = (d / "killed.h5").string();
  ASSERT_NO_FATAL_FAILURE(test::kill_resume_and_compare(killed, args.back()));
}

}  // namespace
}  // namespace sbench
