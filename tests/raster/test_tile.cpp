// Tiles cut from synthetic scenes whose every pixel is known, checked against an independent
// computation through PROJ, and from real Landsat scenes, checked against gdalwarp.
#include <gdal.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <optional>

#include "sbench/core/error.hpp"
#include "sbench/raster/composite.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/warp.hpp"
#include "test_support.hpp"

namespace sbench::raster {
namespace {

// A 200 x 200 float32 scene at 30 m in UTM 32N whose pixel (row, col) holds row * 1000 + col
// (+ offset), origin (gt0, gt3).
void make_scene(const std::string& path, double gt0, double gt3, float offset = 0, const char* epsg = "EPSG:32632") {
  init_gdal();
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), 200, 200, 1, GDT_Float32, nullptr);
  double gt[6] = {gt0, 30, 0, gt3, 0, -30};
  GDALSetGeoTransform(ds, gt);
  OGRSpatialReference srs;
  srs.SetFromUserInput(epsg);
  char* wkt = nullptr;
  srs.exportToWkt(&wkt);
  GDALSetProjection(ds, wkt);
  CPLFree(wkt);
  std::vector<float> v(200 * 200);
  for (int r = 0; r < 200; ++r)
    for (int c = 0; c < 200; ++c) v[static_cast<std::size_t>(r * 200 + c)] = static_cast<float>(r * 1000 + c) + offset;
  ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, 200, 200, v.data(), 200, 200, GDT_Float32, 0, 0),
            CE_None);
  GDALClose(ds);
}

// The scene covers lon 11.856-11.934, lat 47.960-48.016 (zone 32N, next to the border with 33N at 12).
constexpr double kGt0 = 713000, kGt3 = 5322000;

// The tile pixel centre through PROJ into the scene's CRS, then the scene pixel that contains it.
struct Reference {
  std::unique_ptr<OGRCoordinateTransformation> ct;
  explicit Reference(const TileGrid& g) {
    OGRSpatialReference from, to;
    from.SetFromUserInput(g.crs.c_str());
    to.SetFromUserInput("EPSG:32632");
    from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    to.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    ct.reset(OGRCreateCoordinateTransformation(&from, &to));
  }
  // Fractional scene pixel coordinates (column, row) of tile pixel (r, c).
  std::pair<double, double> source(const TileGrid& g, int r, int c) const {
    double x = g.min_x() + (c + 0.5) * g.res, y = g.max_y() - (r + 0.5) * g.res;
    ct->Transform(1, &x, &y);
    return {(x - kGt0) / 30.0, (kGt3 - y) / 30.0};
  }
};

TEST(Tile, NearestEqualsTheSourcePixelUnderEachCentreAcrossUtmZones) {
  test::TempDir dir;
  const std::string scene = (dir / "scene.tif").string();
  make_scene(scene, kGt0, kGt3);
  // A grid in the neighbouring zone (33N) around the scene: part of it falls outside the scene.
  const TileGrid g = make_grid(11.93, 47.99, 61, 30, "EPSG:32633");
  WarpOptions w;
  w.resampling = Resampling::nearest;
  w.error_threshold = 0;  // every pixel through PROJ, no approximation
  const WarpedTile t = warp_to_grid(scene, g, w);
  Reference ref(g);
  int inside = 0, outside = 0;
  for (int r = 0; r < g.size; ++r) {
    for (int c = 0; c < g.size; ++c) {
      const auto [col, row] = ref.source(g, r, c);
      const float got = t.values[static_cast<std::size_t>(r * g.size + c)];
      if (col < 0 || row < 0 || col >= 200 || row >= 200) {
        EXPECT_TRUE(std::isnan(got)) << r << "," << c;
        ++outside;
      } else {
        const float want = static_cast<float>(std::floor(row) * 1000 + std::floor(col));
        EXPECT_EQ(got, want) << r << "," << c << " source " << col << "," << row;
        ++inside;
      }
    }
  }
  EXPECT_GT(inside, 100);
  EXPECT_GT(outside, 100) << "the grid should overhang the scene";
  EXPECT_NEAR(t.valid_fraction, static_cast<double>(inside) / (g.size * g.size), 1e-12);
}

TEST(Tile, BilinearFollowsTheLinearFieldAndSouthUpFlipsRows) {
  test::TempDir dir;
  const std::string scene = (dir / "scene.tif").string();
  make_scene(scene, kGt0, kGt3);
  const TileGrid g = make_grid(11.90, 47.985, 41, 25, "EPSG:3857");
  WarpOptions w;
  w.error_threshold = 0;
  const WarpedTile t = warp_to_grid(scene, g, w);
  Reference ref(g);
  int checked = 0;
  for (int r = 0; r < g.size; ++r) {
    for (int c = 0; c < g.size; ++c) {
      const auto [col, row] = ref.source(g, r, c);
      if (col < 1 || row < 1 || col > 199 || row > 199) continue;
      // Bilinear interpolation of a linear field is the field itself at the fractional position.
      const double want = (row - 0.5) * 1000 + (col - 0.5);
      EXPECT_NEAR(t.values[static_cast<std::size_t>(r * g.size + c)], want, 0.05) << r << "," << c;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
  const TileGrid s = make_grid(11.90, 47.985, 41, 25, "EPSG:3857", true);
  const WarpedTile flipped = warp_to_grid(scene, s, w);
  for (int r = 0; r < g.size; ++r) {
    EXPECT_EQ(flipped.values[static_cast<std::size_t>(r * g.size + 20)],
              t.values[static_cast<std::size_t>((g.size - 1 - r) * g.size + 20)]);
  }
}

TEST(Tile, MedianCompositeOfScenesWithMissingPixels) {
  WarpedTile a, b, c;
  for (WarpedTile* t : {&a, &b, &c}) {
    t->bands = 1;
    t->size = 2;
  }
  const float nan = std::nanf("");
  a.values = {1, nan, 5, nan};
  b.values = {3, 2, nan, nan};
  c.values = {2, 4, 9, nan};
  const auto m = composite({a, b, c}, Composite::median);
  EXPECT_EQ(m.values[0], 2);  // median of 1, 3, 2
  EXPECT_EQ(m.values[1], 3);  // mean of the middle pair 2, 4
  EXPECT_EQ(m.values[2], 7);  // 5, 9
  EXPECT_TRUE(std::isnan(m.values[3]));
  EXPECT_DOUBLE_EQ(m.valid_fraction, 0.75);
  EXPECT_EQ(composite({a, b, c}, Composite::first).values[1], 2);
  EXPECT_FLOAT_EQ(composite({a, b, c}, Composite::mean).values[1], 3);
}

TEST(Tile, BadInputIsAnErrorNamingTheFileOrPoint) {
  test::TempDir dir;
  EXPECT_THROW(make_grid(10, 95, 10, 30, "UTM"), UsageError);
  EXPECT_THROW(make_grid(10, 45, 0, 30, "UTM"), UsageError);
  EXPECT_THROW(make_grid(10, 45, 10001, 30, "UTM"), UsageError);
  EXPECT_THROW(make_grid(10, 45, 10, 30, "EPSG:4326"), UsageError) << "a geographic CRS has no metres";
  EXPECT_THROW(make_grid(10, 45, 10, 30, "EPSG:999999"), UsageError);
  const TileGrid g = make_grid(11.96, 47.985, 11, 30, "UTM");
  EXPECT_EQ(g.crs, "EPSG:32632");
  EXPECT_THROW(warp_to_grid((dir / "missing.tif").string(), g), InputError);
  test::write_file(dir / "corrupt.tif", "II*\0garbage");
  EXPECT_THROW(warp_to_grid((dir / "corrupt.tif").string(), g), InputError);
  // A raster without a CRS.
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), (dir / "nocrs.tif").c_str(), 4, 4, 1, GDT_Byte, nullptr);
  GDALClose(ds);
  try {
    warp_to_grid((dir / "nocrs.tif").string(), g);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nocrs.tif: the raster has no coordinate reference system"),
              std::string::npos);
  }
  make_scene((dir / "s.tif").string(), kGt0, kGt3);
  WarpOptions w;
  w.bands = {2};
  EXPECT_THROW(warp_to_grid((dir / "s.tif").string(), g, w), InputError);
  // A point no scene covers: "no imagery", exit 1, no file.
  const auto r = test::run_sbench({"tile", "--scene", (dir / "s.tif").string(), "--lon", "30", "--lat", "10", "--size",
                                   "9", "--res", "30", "--out", (dir / "t.tif").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no imagery"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "t.tif"));
}

// sbench's own nearest and bilinear kernels against GDAL's warper on the same grid: identical
// values, inside the scene, at its edges, and around nodata pixels (which both leave out of the
// bilinear weights).
TEST(Tile, DirectKernelsEqualGdalsWarper) {
  test::TempDir dir;
  const std::string scene = (dir / "scene.tif").string();
  make_scene(scene, kGt0, kGt3);
  for (const char* crs : {"EPSG:32633", "EPSG:3857", "EPSG:32632"}) {
    for (Resampling r : {Resampling::nearest, Resampling::bilinear}) {
      for (bool nodata : {false, true}) {
        SCOPED_TRACE(fmt::format("{} resampling {} nodata {}", crs, static_cast<int>(r), nodata));
        const TileGrid g = make_grid(11.93, 47.99, 61, 20, crs);  // overhangs the scene's east edge
        WarpOptions w;
        w.resampling = r;
        if (nodata) {
          // The value of the source pixel under the tile's centre: a nodata pixel inside the tile.
          const auto [col, row] = Reference(g).source(g, 30, 30);
          w.src_nodata = std::floor(row) * 1000 + std::floor(col);
        }
        const std::size_t direct_before = warp_counts().direct;
        const WarpedTile ours = warp_to_grid(scene, g, w);
        EXPECT_EQ(warp_counts().direct, direct_before + 1) << "the direct kernel did not run";
        w.force_warp = true;
        const WarpedTile gdal = warp_to_grid(scene, g, w);
        ASSERT_EQ(ours.values.size(), gdal.values.size());
        int differ = 0, valid = 0;
        for (std::size_t p = 0; p < ours.values.size(); ++p) {
          const float a = ours.values[p], b = gdal.values[p];
          valid += !std::isnan(a);
          if (!(a == b || (std::isnan(a) && std::isnan(b)))) {
            if (++differ <= 5) ADD_FAILURE() << "pixel " << p << ": ours " << a << ", GDAL " << b;
          }
        }
        EXPECT_EQ(differ, 0);
        EXPECT_GT(valid, 100);
        EXPECT_LT(valid, 61 * 61);
      }
    }
  }
}

// Many points: one HDF5 file, a status per point, tiles equal to the single-point GeoTIFFs.
TEST(Tile, PointsFileHasATileOrAStatusPerPoint) {
  test::TempDir dir;
  make_scene((dir / "a.tif").string(), kGt0, kGt3);
  make_scene((dir / "b.tif").string(), kGt0 + 3000, kGt3 - 3000, 0.5f);  // overlaps a.tif
  std::ofstream(dir / "points.csv") << "id,lon,lat\n"
                                       "in_a,11.87,48.00\n"
                                       "both,11.92,47.975\n"
                                       "far,30.0,10.0\n"
                                       "pole,11.9,95\n";
  const std::vector<std::string> common = {"--scene",     (dir / "a.tif").string(),
                                           "--scene",     (dir / "b.tif").string(),
                                           "--size",      "21",
                                           "--res",       "30",
                                           "--crs",       "EPSG:32632",
                                           "--composite", "mean"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"-q", "tile"};
    args.insert(args.end(), common.begin(), common.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_sbench(args);
  };
  auto r = with({"--points", (dir / "points.csv").string(), "--threads", "2", "--out", (dir / "t.h5").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(with({"--lon", "11.87", "--lat", "48.00", "--out", (dir / "in_a.tif").string()}).exit_code, 0);
  ASSERT_EQ(with({"--lon", "11.92", "--lat", "47.975", "--out", (dir / "both.tif").string()}).exit_code, 0);
  const auto py = test::run_python("tile_h5_check.py", {(dir / "t.h5").string(), "in_a=" + (dir / "in_a.tif").string(),
                                                        "both=" + (dir / "both.tif").string()});
  EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
  EXPECT_NE(py.out.find("in_a: ok"), std::string::npos) << py.out;
  EXPECT_NE(py.out.find("both: ok"), std::string::npos) << py.out;
  EXPECT_NE(py.out.find("far: no imagery"), std::string::npos) << py.out;
  EXPECT_NE(py.out.find("pole: bad point"), std::string::npos) << py.out;
  EXPECT_NE(py.out.find("0 problems"), std::string::npos) << py.out;
  // A corrupt file is an error naming it, and no output is left.
  std::ofstream(dir / "broken.tif") << "II*\0garbage";
  const auto bad = test::run_sbench({"tile", "--scene", (dir / "broken.tif").string(), "--lon", "11.9", "--lat", "48",
                                     "--size", "5", "--res", "30", "--out", (dir / "x.tif").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("broken.tif"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.tif"));
}

TEST(Tile, NoSceneInTheDateWindowIsNoImagery) {
  test::TempDir dir;
  // A Collection 2 Level-2 name dates the file 2020-01-01 (raw values 1000 r + c: rows 8 to 43
  // are in SR's valid range, so the point sits near the top edge).
  const auto f = dir / "LC08_L2SP_195025_20200101_20200105_02_T1_SR_B2.TIF";
  make_scene(f.string(), kGt0, kGt3);
  const auto r = test::run_sbench({"tile", "--scene", f.string(), "--sensor", "landsat8_c2_l2", "--lon", "11.9",
                                   "--lat", "48", "--size", "5", "--res", "30", "--start", "2021-01-01", "--end",
                                   "2021-12-31", "--out", (dir / "x.tif").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no imagery"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2021-01-01"), std::string::npos) << r.err;
  const auto ok = test::run_sbench({"tile",  "--scene",    f.string(),  "--sensor", "landsat8_c2_l2",
                                    "--lon", "11.9",       "--lat",     "48.0105",  "--size",
                                    "5",     "--res",      "30",        "--start",  "2019-06-01",
                                    "--end", "2020-06-01", "--no-mask", "--out",    (dir / "y.tif").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  const auto bad_date = test::run_sbench({"tile", "--scene", f.string(), "--lon", "11.9", "--lat", "48", "--size", "5",
                                          "--res", "30", "--start", "2020-13-01", "--out", (dir / "z.tif").string()});
  EXPECT_EQ(bad_date.exit_code, 2);
}

// Real scenes: the tile of `sbench tile` equals gdalwarp's on the same grid.
void compare_with_gdalwarp(const std::string& scene, double lon, double lat, int size, double res,
                           const std::string& crs, const std::string& resampling, const std::string& bands) {
  SCOPED_TRACE(scene);
  ASSERT_TRUE(std::filesystem::exists(scene)) << "run scripts/fetch-testdata.sh first";
  test::TempDir dir;
  std::vector<std::string> args = {"-q",           "tile",
                                   "--scene",      scene,
                                   "--lon",        fmt::format("{}", lon),
                                   "--lat",        fmt::format("{}", lat),
                                   "--size",       std::to_string(size),
                                   "--res",        fmt::format("{}", res),
                                   "--crs",        crs,
                                   "--resampling", resampling,
                                   "--out",        (dir / "ours.tif").string()};
  if (!bands.empty()) {
    args.push_back("--bands");
    args.push_back(bands);
  }
  const auto ours = test::run_sbench(args);
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  const TileGrid g = make_grid(lon, lat, size, res, crs);
  std::vector<std::string> warp = {"gdalwarp",
                                   "-q",
                                   "-t_srs",
                                   g.crs,
                                   "-te",
                                   fmt::format("{:.17g}", g.min_x()),
                                   fmt::format("{:.17g}", g.max_y() - size * res),
                                   fmt::format("{:.17g}", g.min_x() + size * res),
                                   fmt::format("{:.17g}", g.max_y()),
                                   "-ts",
                                   std::to_string(size),
                                   std::to_string(size),
                                   "-r",
                                   resampling,
                                   "-ot",
                                   "Float32",
                                   "-dstnodata",
                                   "nan",
                                   "-et",
                                   "0.125"};
  // gdalwarp of GDAL 3.6 has no -b: select the bands through a VRT, as a user would.
  std::string source = scene;
  if (!bands.empty()) {
    std::vector<std::string> sel = {"gdal_translate", "-q", "-of", "VRT"};
    for (std::size_t p = 0, q; p <= bands.size(); p = q + 1) {
      q = bands.find(',', p);
      if (q == std::string::npos) q = bands.size();
      sel.push_back("-b");
      sel.push_back(bands.substr(p, q - p));
    }
    source = (dir / "bands.vrt").string();
    sel.push_back(scene);
    sel.push_back(source);
    const auto tr = test::run_process(sel);
    ASSERT_EQ(tr.exit_code, 0) << tr.err;
  }
  warp.push_back(source);
  warp.push_back((dir / "gdal.tif").string());
  const auto gw = test::run_process(warp);
  ASSERT_EQ(gw.exit_code, 0) << gw.err;
  const auto cmp = test::run_python("gdal_compare.py", {(dir / "ours.tif").string(), (dir / "gdal.tif").string()});
  EXPECT_NE(cmp.out.find("0 problems"), std::string::npos) << cmp.out;
}

const std::string kSat = std::string(SBENCH_TESTDATA) + "/usr/lib/R/site-library/satellite/";

TEST(TileRealImagery, Landsat8And7And5AndStarsEqualGdalwarp) {
  compare_with_gdalwarp(kSat + "extdata/LC08_L1TP_195025_20130707_20170503_01_T1_B2.TIF", 8.7715, 50.8027, 25, 30,
                        "EPSG:3857", "bilinear", "");
  compare_with_gdalwarp(kSat + "extdata/LE07_L1TP_195025_20010730_20170204_01_T1_B3.TIF", 8.7715, 50.8027, 17, 45,
                        "UTM", "cubic", "");
  compare_with_gdalwarp(kSat + "testdata/LT5/LT51670552010352MLK00_B4.tif", 39.82, 6.83, 21, 30, "UTM", "nearest", "");
  compare_with_gdalwarp(std::string(SBENCH_TESTDATA) + "/usr/lib/R/site-library/stars/tif/L7_ETMs.tif", -34.87, -7.99,
                        31, 28.5, "UTM", "bilinear", "1,4,6");
}

}  // namespace
}  // namespace sbench::raster
