// MODIS (HDF-EOS2, sinusoidal) and VIIRS Black Marble (HDF-EOS5, geographic) files written by NASA's
// HDF-EOS libraries, read back through sbench's scenes: every tile pixel is checked against the source
// pixel found independently (the pixel centre through PROJ into the grid's projection, then the grid
// cell from the corners that were written), with fill values and QA bits planted at known pixels.
#include <gtest/gtest.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "sbench/core/error.hpp"
#include "sbench/raster/catalog.hpp"
#include "sbench/raster/eos.hpp"
#include "sbench/raster/grid.hpp"
#include "sbench/raster/scene.hpp"
#include "test_support.hpp"

namespace sbench::raster {
namespace {

namespace fs = std::filesystem;

constexpr int kPx = 240;  // the synthetic grids: a 240 x 240 corner of a tile at the product's real pixel size

// Tile pixel (r, c) centre in `g`'s CRS, transformed into `to` (traditional x/y order).
struct Projector {
  std::unique_ptr<OGRCoordinateTransformation> ct;
  Projector(const TileGrid& g, const char* to_def) {
    OGRSpatialReference from, to;
    from.SetFromUserInput(g.crs.c_str());
    to.SetFromUserInput(to_def);
    from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    to.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    ct.reset(OGRCreateCoordinateTransformation(&from, &to));
  }
  std::pair<double, double> operator()(const TileGrid& g, int r, int c) const {
    double x = g.min_x() + (c + 0.5) * g.res, y = g.max_y() - (r + 0.5) * g.res;
    EXPECT_TRUE(ct->Transform(1, &x, &y));
    return {x, y};
  }
};

// MOD09A1 raw reflectance of band b (1..7) at grid pixel (r, c); fill on band 3 where (r + c) % 37 == 0.
double modis_raw(int b, int r, int c) {
  return (b == 3 && (r + c) % 37 == 0) ? -28672 : (r * kPx + c) % 15000 + b;
}

// sur_refl_state_500m at (r, c): cloudy, mixed, shadow, snow and "not set" (3, clear) at known places.
int modis_state(int r, int c) {
  if (c % 29 == 5) return 1;        // bits 0-1 = 01 cloudy
  if (c % 29 == 6) return 2;        // bits 0-1 = 10 mixed
  if (r % 31 == 7) return 1 << 2;   // cloud shadow
  if (c % 41 == 0) return 1 << 15;  // internal snow mask
  if (r % 23 == 3) return 3;        // "not set, assumed clear": not masked
  return 0;
}

bool modis_masked(int r, int c) {
  const int s = modis_state(r, c);
  return (s & 3) == 1 || (s & 3) == 2 || (s & 4) || (s & (1 << 15));
}

TEST(Eos, Mod09a1FromAnHdfEos2FileMatchesTheSinusoidalGridPixelByPixel) {
  test::TempDir dir;
  // The north-west corner of tile h21v08 (30-40 E, 0-10 N) at the real 500 m pixel: 1111950.5197 / 2400.
  const double ps = kModisTileMetres / 2400;
  EosGrid grid = modis_tile_grid("MOD_Grid_500m_Surface_Reflectance", 21, 8, kPx);
  grid.lrx = grid.ulx + kPx * ps;
  grid.lry = grid.uly - kPx * ps;
  std::vector<EosField> fields;
  for (int b = 1; b <= 7; ++b) {
    EosField f;
    f.name = "sur_refl_b0" + std::to_string(b);
    f.type = EosType::i16;
    f.fill = -28672;
    for (int r = 0; r < kPx; ++r)
      for (int c = 0; c < kPx; ++c) f.values.push_back(modis_raw(b, r, c));
    fields.push_back(std::move(f));
  }
  EosField state;
  state.name = "sur_refl_state_500m";
  state.type = EosType::u16;
  state.fill = 65535;
  for (int r = 0; r < kPx; ++r)
    for (int c = 0; c < kPx; ++c) state.values.push_back(modis_state(r, c));
  fields.push_back(std::move(state));
  const fs::path file = dir / "MOD09A1.A2010001.h21v08.061.2018010031522.hdf";
  write_modis_hdf4(file, grid, fields);

  const Scene s = open_scene(file.string(), "auto");
  EXPECT_EQ(s.sensor, "mod09a1");
  EXPECT_EQ(s.date, "2010-01-01");
  EXPECT_EQ(s.date_end, "2010-01-08");
  ASSERT_EQ(s.band_names(), (std::vector<std::string>{"RED", "NIR", "BLUE", "GREEN", "NIR2", "SWIR1", "SWIR2"}));
  ASSERT_NE(s.qa(), nullptr);
  // The corner block spans 9.0-10.0 N; its west edge is 30 E at 10 N and further east to the south.
  EXPECT_NEAR(s.bounds[3], 10.0, 1e-6);
  EXPECT_NEAR(s.bounds[1], 10.0 - kPx * ps / (kModisSphereRadius * M_PI / 180), 1e-6);

  // 500 m UTM 36N tile over the block's middle, nearest, every pixel through PROJ.
  const TileGrid g = make_grid(30.95, 9.5, 61, 500, "UTM");
  ASSERT_EQ(g.crs, "EPSG:32636");
  SceneReadOptions o;
  o.resampling = Resampling::nearest;
  o.error_threshold = 0;
  const WarpedTile t = read_scene(s, g, o);
  ASSERT_EQ(t.bands, 7);
  const Projector to_sinu(g, "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs");
  int masked = 0, filled = 0, checked = 0;
  for (int r = 0; r < g.size; ++r) {
    for (int c = 0; c < g.size; ++c) {
      const auto [x, y] = to_sinu(g, r, c);
      const int col = static_cast<int>(std::floor((x - grid.ulx) / ps));
      const int row = static_cast<int>(std::floor((grid.uly - y) / ps));
      ASSERT_TRUE(col >= 0 && row >= 0 && col < kPx && row < kPx) << r << "," << c;
      for (int b = 1; b <= 7; ++b) {
        const float got = t.values[static_cast<std::size_t>(((b - 1) * g.size + r) * g.size + c)];
        const double raw = modis_raw(b, row, col);
        if (modis_masked(row, col) || raw == -28672) {
          EXPECT_TRUE(std::isnan(got)) << "band " << b << " at " << r << "," << c;
          masked += modis_masked(row, col);
          filled += !modis_masked(row, col);
        } else {
          EXPECT_NEAR(got, raw * 0.0001, 1e-7) << "band " << b << " at " << r << "," << c;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(masked, 500);
  EXPECT_GT(filled, 10);
  EXPECT_GT(checked, 15000);
}

TEST(Eos, Myd11a2LandSurfaceTemperatureScaledToKelvin) {
  test::TempDir dir;
  const double ps = kModisTileMetres / 1200;  // 1 km products
  EosGrid grid = modis_tile_grid("MODIS_Grid_8Day_1km_LST", 21, 8, kPx);
  grid.lrx = grid.ulx + kPx * ps;
  grid.lry = grid.uly - kPx * ps;
  EosField day, night;
  day.name = "LST_Day_1km";
  night.name = "LST_Night_1km";
  day.type = night.type = EosType::u16;
  for (int r = 0; r < kPx; ++r) {
    for (int c = 0; c < kPx; ++c) {
      day.values.push_back(c == 17 ? 0 : 15000 + r * 10 + c % 10);  // 300 K + ...; column 17 unfilled
      night.values.push_back(14000 + r);
    }
  }
  const fs::path file = dir / "MYD11A2.A2012185.h21v08.061.2021210000000.hdf";
  write_modis_hdf4(file, grid, {day, night});
  const Scene s = open_scene(file.string(), "auto");
  EXPECT_EQ(s.sensor, "myd11a2");
  EXPECT_EQ(s.date, "2012-07-03");      // day 185 of a leap year
  EXPECT_EQ(s.date_end, "2012-07-10");  // an 8-day composite
  // At 9.5 N the block starts at 30.42 E (the sinusoidal x of 30 E at the equator); column 17 is near 30.58 E.
  const TileGrid g = make_grid(30.6, 9.5, 21, 1000, "UTM");
  SceneReadOptions o;
  o.resampling = Resampling::nearest;
  o.error_threshold = 0;
  const WarpedTile t = read_scene(s, g, o);
  ASSERT_EQ(t.bands, 2);
  const Projector to_sinu(g, "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs");
  int nan = 0;
  for (int r = 0; r < g.size; ++r) {
    for (int c = 0; c < g.size; ++c) {
      const auto [x, y] = to_sinu(g, r, c);
      const int col = static_cast<int>(std::floor((x - grid.ulx) / ps));
      const int row = static_cast<int>(std::floor((grid.uly - y) / ps));
      ASSERT_TRUE(col >= 0 && row >= 0 && col < kPx && row < kPx) << r << "," << c;
      const float d = t.values[static_cast<std::size_t>(r * g.size + c)];
      const float n = t.values[static_cast<std::size_t>((g.size + r) * g.size + c)];
      if (col == 17) {
        EXPECT_TRUE(std::isnan(d));
        ++nan;
      } else {
        EXPECT_NEAR(d, (15000 + row * 10 + col % 10) * 0.02, 1e-3) << r << "," << c;
      }
      EXPECT_NEAR(n, (14000 + row) * 0.02, 1e-3) << r << "," << c;
    }
  }
  EXPECT_GT(nan, 0) << "the tile should cross the unfilled column";
}

// VNP46A3 radiance at (r, c) of the synthetic 1 x 1 degree block; fill (65535) where r % 13 == 4.
double vnp_raw(int r, int c) {
  return r % 13 == 4 ? 65535 : (r * kPx + c) % 60000;
}

fs::path write_vnp46(const fs::path& dir, bool with_count) {
  // 30-31 E, 9-10 N at the real 15 arc-second pixel (2400 per 10 degrees).
  EosGrid grid = black_marble_tile_grid("VIIRS_Grid_DNB_2d", 21, 8, kPx);
  grid.lrx = grid.ulx + 1;
  grid.lry = grid.uly - 1;
  EosField rad;
  rad.name = "AllAngle_Composite_Snow_Free";
  rad.type = EosType::u16;
  rad.fill = 65535;
  rad.scale = 0.1;
  EosField num;
  num.name = "AllAngle_Composite_Snow_Free_Num";
  num.type = EosType::u8;
  num.fill = 255;
  for (int r = 0; r < kPx; ++r) {
    for (int c = 0; c < kPx; ++c) {
      rad.values.push_back(vnp_raw(r, c));
      num.values.push_back(7);
    }
  }
  const fs::path file = dir / "VNP46A3.A2015032.h21v08.001.2021125095311.h5";
  std::vector<EosField> fields{rad};
  if (with_count) fields.push_back(num);
  write_black_marble_h5(file, grid, fields);
  return file;
}

void check_vnp46(const fs::path& file) {
  const Scene s = open_scene(file.string(), "auto");
  EXPECT_EQ(s.sensor, "vnp46a3");
  EXPECT_EQ(s.date, "2015-02-01");
  EXPECT_EQ(s.date_end, "2015-02-28");  // a monthly composite
  ASSERT_EQ(s.band_names(), std::vector<std::string>{"NIGHTLIGHTS"});
  EXPECT_EQ(s.crs, "EPSG:4326");
  EXPECT_NEAR(s.bounds[0], 30, 1e-9);
  EXPECT_NEAR(s.bounds[1], 9, 1e-9);
  EXPECT_NEAR(s.bounds[2], 31, 1e-9);
  EXPECT_NEAR(s.bounds[3], 10, 1e-9);
  // 255 x 255 at 30 m in EPSG:3857, the DHS tiles' grid.
  const TileGrid g = make_grid(30.42, 9.61, 255, 30, "EPSG:3857");
  SceneReadOptions o;
  o.resampling = Resampling::nearest;
  o.error_threshold = 0;
  const WarpedTile t = read_scene(s, g, o);
  ASSERT_EQ(t.bands, 1);
  const Projector to_geo(g, "OGC:CRS84");
  int nan = 0, checked = 0;
  for (int r = 0; r < g.size; ++r) {
    for (int c = 0; c < g.size; ++c) {
      const auto [lon, lat] = to_geo(g, r, c);
      const int col = static_cast<int>(std::floor((lon - 30) * kPx));
      const int row = static_cast<int>(std::floor((10 - lat) * kPx));
      const float got = t.values[static_cast<std::size_t>(r * g.size + c)];
      const double raw = vnp_raw(row, col);
      if (raw == 65535) {
        EXPECT_TRUE(std::isnan(got)) << r << "," << c;
        ++nan;
      } else {
        EXPECT_NEAR(got, raw * 0.1, 1e-3) << r << "," << c;
        ++checked;
      }
    }
  }
  EXPECT_GT(nan, 1000);
  EXPECT_GT(checked, 40000);
}

TEST(Eos, Vnp46a3FromAnHdfEos5FileIsPlacedByItsBoundingBox) {
  test::TempDir dir;
  check_vnp46(write_vnp46(dir.path(), true));
}

TEST(Eos, Vnp46a3WithASingleArrayIsReadToo) {
  test::TempDir dir;
  check_vnp46(write_vnp46(dir.path(), false));
}

TEST(Eos, RenamedFilesAreRecognisedByTheGranuleIdInTheirMetadata) {
  test::TempDir dir;
  EosGrid grid = modis_tile_grid("MOD_Grid_500m_Surface_Reflectance", 21, 8, 24);
  EosField b1;
  b1.name = "sur_refl_b01";
  b1.values.assign(24 * 24, 500);
  EosField b2 = b1;
  b2.name = "sur_refl_b02";
  write_modis_hdf4(dir / "scene_a.hdf", grid, {b1, b2}, "MOD09A1.A2010009.h21v08.061.2018010031522.hdf");
  const fs::path vnp = write_vnp46(dir.path(), true);
  fs::rename(vnp, dir / "lights.h5");
  write_modis_hdf4(dir / "other.hdf", grid, {b1, b2}, "XYZ01.A2010009.h21v08.061.2018010031522.hdf");
  std::vector<Unrecognised> skipped;
  auto scenes = scan_scenes({dir.path().string()}, "auto", &skipped);
  std::sort(scenes.begin(), scenes.end(), [](const Scene& a, const Scene& b) { return a.sensor < b.sensor; });
  ASSERT_EQ(scenes.size(), 2u);
  EXPECT_EQ(scenes[0].sensor, "mod09a1");
  EXPECT_EQ(scenes[0].date, "2010-01-09");
  EXPECT_EQ(scenes[0].band_names(), (std::vector<std::string>{"RED", "NIR"}));
  EXPECT_EQ(scenes[1].sensor, "vnp46a3");
  EXPECT_EQ(scenes[1].date, "2015-02-01");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].path.find("other.hdf"), std::string::npos);
  EXPECT_NE(skipped[0].reason.find("granule id"), std::string::npos) << skipped[0].reason;
  // One file opened on its own (sbench tile --scene tile.hdf) is recognised the same way.
  EXPECT_EQ(open_scene((dir / "scene_a.hdf").string(), "auto").sensor, "mod09a1");
}

TEST(Eos, ScanFindsTheBlackMarbleProductWithoutSkippingIt) {
  test::TempDir dir;
  write_vnp46(dir.path(), true);
  std::vector<Unrecognised> skipped;
  const auto scenes = scan_scenes({dir.path().string()}, "auto", &skipped);
  ASSERT_EQ(scenes.size(), 1u);
  EXPECT_TRUE(skipped.empty());
  EXPECT_EQ(scenes[0].sensor, "vnp46a3");
  EXPECT_EQ(scenes[0].date_end, "2015-02-28");
}

}  // namespace
}  // namespace sbench::raster
