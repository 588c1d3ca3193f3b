// sbench prepare crop_yield: MODIS files built here whose every cell is known (so each histogram
// is a count the test makes itself), the release's calendar and land-cover years, bad input
// (missing composites and subdatasets, fill everywhere, regions outside the imagery), and sbench
// synth -> prepare with its planted signal, shards and a killed, resumed run.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "sbench/prepare/histograms.hpp"
#include "sbench/raster/eos.hpp"
#include "sbench/store/store.hpp"
#include "test_support.hpp"

namespace sbench {
namespace {

namespace fs = std::filesystem;
using raster::EosField;
using raster::EosGrid;
using raster::EosType;

constexpr double kPi = 3.14159265358979323846;
constexpr double kCell = raster::kModisTileMetres / 2400, kKm = raster::kModisTileMetres / 1200;
constexpr int kSide = 40;  // cells of 463 m per side of the imagery

// The imagery: 40 x 40 cells of tile h11v04 (Iowa), its corner on the 1 km grid.
struct Scene {
  double x0 = 0, y1 = 0;
  Scene() {
    const double ox = -18 * raster::kModisTileMetres, oy = 9 * raster::kModisTileMetres;
    const double R = raster::kModisSphereRadius, lat = 42.2 * kPi / 180, lon = -93.5 * kPi / 180;
    x0 = ox + std::floor((R * lon * std::cos(lat) - ox) / kKm) * kKm;
    y1 = oy - std::floor((oy - R * lat) / kKm) * kKm;
  }
  double cx(double col) const { return x0 + col * kCell; }  // x of a column edge (fractional: inside)
  double cy(double row) const { return y1 - row * kCell; }
  // lon/lat of a sinusoidal point, for the GeoJSON.
  static std::pair<double, double> lonlat(double x, double y) {
    const double R = raster::kModisSphereRadius, lat = y / R;
    return {x / (R * std::cos(lat)) * 180 / kPi, lat * 180 / kPi};
  }
};

// The triangle of region alpha, in cells (column, row) of the imagery.
const double kTri[3][2] = {{10.3, 3.2}, {37.1, 10.6}, {20.4, 28.3}};

bool in_triangle(double c, double r) {
  auto side = [&](int a, int b) {
    return (kTri[b][0] - kTri[a][0]) * (r - kTri[a][1]) - (kTri[b][1] - kTri[a][1]) * (c - kTri[a][0]);
  };
  const double s0 = side(0, 1), s1 = side(1, 2), s2 = side(2, 0);
  return (s0 > 0 && s1 > 0 && s2 > 0) || (s0 < 0 && s1 < 0 && s2 < 0);
}

// Bin k's middle as an integer DN of band b (the release's edges).
double mid_bin(int b, int k) {
  const auto& r = prepare::crop_yield_bin_ranges()[static_cast<std::size_t>(b)];
  return std::round(r.lo + (k + 0.5) * (r.hi - r.lo) / 32);
}
int bin_a(int b, int s) {
  return (s + b) % 32;
}
int bin_b(int b, int s) {
  return (s + 2 * b + 7) % 32;
}
int bin_out(int b, int s) {
  return (s + b + 16) % 32;
}
bool in_b_box(int r, int c) {
  return r >= 30 && c < 12;
}  // region beta's cells: fill everywhere
// Cropland: 2009 a pattern of 80%, 2010 the columns left of 24.
bool crop_2009(int r, int c) {
  return (r * 7 + c * 3) % 5 != 0;
}
bool crop_2010(int, int c) {
  return c < 24;
}

class CropYieldPrepare : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    write_inputs(dir_->path());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static void write_inputs(const fs::path& d) {
    const Scene sc;
    fs::create_directories(d / "modis");
    const EosGrid g500{"MOD_Grid_500m_Surface_Reflectance", kSide, kSide, sc.x0, sc.y1, sc.cx(kSide), sc.cy(kSide)};
    const EosGrid g1k{"MODIS_Grid_8Day_1km_LST", kSide / 2, kSide / 2, sc.x0, sc.y1, sc.cx(kSide), sc.cy(kSide)};
    for (int year : {2009, 2010}) {
      EosField lc{"LC_Type1", EosType::u8, 255, 1, 0, {}};
      for (int r = 0; r < kSide; ++r) {
        for (int c = 0; c < kSide; ++c)
          lc.values.push_back((year == 2009 ? crop_2009(r, c) : crop_2010(r, c)) ? 12 : 10);
      }
      EosField qc = lc;
      qc.name = "QC";
      EosGrid g = g500;
      g.name = "MCD12Q1";
      raster::write_modis_hdf4(d / "modis" / fmt::format("MCD12Q1.A{}001.h11v04.061.2021001000000.hdf", year), g,
                               {lc, qc});
    }
    for (int s = 0; s < 32; ++s) {
      const int t = prepare::crop_yield_composite(6, 2010, s);
      const std::string date = prepare::modis_composite_date(t);
      const std::string stamp = fmt::format("A{}{:03d}", date.substr(0, 4), 1 + 8 * ((27 + t) % 46));
      std::vector<EosField> sr;
      for (int b = 0; b < 7; ++b) {
        if (s == 12 && b == 2) continue;  // this composite lacks sur_refl_b03
        EosField f{fmt::format("sur_refl_b0{}", b + 1), EosType::i16, -28672, 1, 0, {}};
        for (int r = 0; r < kSide; ++r) {
          for (int c = 0; c < kSide; ++c) {
            double v = in_triangle(c + 0.5, r + 0.5) ? mid_bin(b, (r + c) % 2 ? bin_b(b, s) : bin_a(b, s))
                                                     : mid_bin(b, bin_out(b, s));
            if (in_b_box(r, c) || (s == 3 && c % 5 == 0)) v = -28672;
            f.values.push_back(v);
          }
        }
        sr.push_back(std::move(f));
      }
      if (s != 9) {  // composite 9 is missing
        raster::write_modis_hdf4(d / "modis" / fmt::format("MOD09A1.{}.h11v04.061.2021001000000.hdf", stamp), g500, sr);
      }
      EosField day{"LST_Day_1km", EosType::u16, 0, 1, 0, {}}, night{"LST_Night_1km", EosType::u16, 0, 1, 0, {}};
      for (int r = 0; r < kSide / 2; ++r) {
        for (int c = 0; c < kSide / 2; ++c) {
          const bool b_box = r >= 15 && c < 6;
          const bool odd = (r + c) % 2;
          const double dv = mid_bin(7, odd ? bin_b(7, s) : bin_a(7, s)),
                       nv = mid_bin(8, odd ? bin_b(8, s) : bin_a(8, s));
          day.values.push_back(b_box || (s == 4 && c % 3 == 0) ? 0 : dv);
          night.values.push_back(b_box ? 0 : nv);
        }
      }
      raster::write_modis_hdf4(d / "modis" / fmt::format("MYD11A2.{}.h11v04.061.2021001000000.hdf", stamp), g1k,
                               {day, night});
    }
    // A composite off the 8-day grid (day 10), counted and not used.
    raster::write_modis_hdf4(d / "modis" / "MYD11A2.A2010010.h11v04.061.2021001000000.hdf", g1k,
                             {EosField{"LST_Day_1km", EosType::u16, 0, 1, 0, std::vector<double>(400, 15000)},
                              EosField{"LST_Night_1km", EosType::u16, 0, 1, 0, std::vector<double>(400, 14000)}});
    // Regions: alpha (the triangle), beta (the fill box), gamma (far outside the imagery).
    auto ring = [&](const std::vector<std::pair<double, double>>& cells) {
      std::string out;
      for (std::size_t i = 0; i <= cells.size(); ++i) {
        const auto& p = cells[i % cells.size()];
        const auto [lon, lat] = Scene::lonlat(sc.cx(p.first), sc.cy(p.second));
        out += fmt::format("{}[{:.12f}, {:.12f}]", i ? ", " : "", lon, lat);
      }
      return out;
    };
    auto feature = [&](const std::string& name, const std::string& coords) {
      return fmt::format(R"({{"type": "Feature", "properties": {{"region": "{}"}}, "geometry": {{"type": "Polygon", )"
                         R"("coordinates": [[{}]]}}}})",
                         name, coords);
    };
    test::write_file(
        d / "regions.geojson",
        fmt::format(
            R"({{"type": "FeatureCollection", "features": [{}, {}, {}]}})",
            feature("alpha_xx", ring({{kTri[0][0], kTri[0][1]}, {kTri[1][0], kTri[1][1]}, {kTri[2][0], kTri[2][1]}})),
            feature("beta_xx", ring({{2.2, 31.2}, {9.8, 31.2}, {9.8, 38.8}, {2.2, 38.8}})),
            feature("gamma_xx", "[-80.0, 30.0], [-79.9, 30.0], [-79.9, 30.1], [-80.0, 30.0]")));
    test::write_file(d / "yields.csv",
                     "country,region,year,yield\n"
                     "usa,alpha_xx,2010,3.5\n"
                     "usa,beta_xx,2010,2.5\n"
                     "usa,gamma_xx,2010,2.0\n"
                     "usa,delta_xx,2010,1.0\n"
                     "usa,alpha_xx,2001,3.0\n"
                     "usa,alpha_xx,2011,\n");
  }

  static std::vector<std::string> args(const fs::path& out) {
    const fs::path d = dir_->path();
    return {"-q",
            "prepare",
            "crop_yield",
            "--labels",
            (d / "yields.csv").string(),
            "--imagery",
            (d / "modis").string(),
            "--region",
            (d / "regions.geojson").string(),
            "--out",
            out.string()};
  }

  static test::TempDir* dir_;
};

test::TempDir* CropYieldPrepare::dir_ = nullptr;

TEST_F(CropYieldPrepare, HistogramsAreTheCountsOfTheKnownCells) {
  const fs::path out = dir_->path() / "hand.h5";
  auto loud = args(out);
  loud.erase(loud.begin());  // without -q: the warnings
  const auto p = test::run_sbench(loud);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  // Warned: the composite without sur_refl_b03 (by file) and the missing dates.
  EXPECT_NE(p.err.find("no BLUE subdataset(s): scene skipped"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("MOD09A1 2 of 32"), std::string::npos) << p.err;
  store::StoreReader r(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r.ids()[0], "alpha_xx_2010");
  const auto report = nlohmann::json::parse(r.attributes().at("prepare_report"));
  EXPECT_EQ(report["counts"]["processed"], 1) << report.dump();
  EXPECT_EQ(report["counts"]["empty_region"], 1) << report.dump();
  EXPECT_EQ(report["samples"]["empty_region"][0], "beta_xx_2010");
  EXPECT_EQ(report["counts"]["outside_imagery"], 1) << report.dump();
  EXPECT_EQ(report["counts"]["no_polygon"], 1) << report.dump();
  EXPECT_EQ(report["counts"]["year_before_calendar"], 1) << report.dump();
  EXPECT_EQ(report["counts"]["missing_yield"], 1) << report.dump();
  EXPECT_EQ(report["counts"]["missing_subdatasets"], 1) << report.dump();
  const auto imagery = nlohmann::json::parse(r.attributes().at("prepare_imagery"));
  EXPECT_EQ(imagery["scenes_off_the_8_day_grid"], 1) << imagery.dump();
  EXPECT_EQ(imagery["missing_mod09a1_dates"],
            nlohmann::json({prepare::modis_composite_date(321 + 9), prepare::modis_composite_date(321 + 12)}));

  std::vector<float> hist(32 * 32 * 9), ndvi(32);
  r.read("hist", 0, 1, hist.data());
  r.read("ndvi", 0, 1, ndvi.data());
  // The expectation: for each step and band, the cells whose centre is in the triangle and that are
  // cropland in that step's land-cover year (2009 for steps 0-26, 2010 after), without fill; their
  // values are the middles of bins a (even cells) and b (odd), LST by its 1 km cell.
  int checked = 0;
  for (int s = 0; s < 32; ++s) {
    for (int b = 0; b < 9; ++b) {
      std::vector<double> count(32, 0.0);
      double total = 0, ndvi_sum = 0, ndvi_n = 0;
      for (int r0 = 0; r0 < kSide; ++r0) {
        for (int c0 = 0; c0 < kSide; ++c0) {
          if (!in_triangle(c0 + 0.5, r0 + 0.5)) continue;
          if (!(s <= 26 ? crop_2009(r0, c0) : crop_2010(r0, c0))) continue;
          int k = -1;
          if (b < 7) {
            if (s == 9 || s == 12 || (s == 3 && c0 % 5 == 0)) continue;
            k = (r0 + c0) % 2 ? bin_b(b, s) : bin_a(b, s);
            if (b == 0) {
              const double red = mid_bin(0, k), nir = mid_bin(1, (r0 + c0) % 2 ? bin_b(1, s) : bin_a(1, s));
              ndvi_sum += (nir - red) / (nir + red);
              ++ndvi_n;
            }
          } else {
            if (b == 7 && s == 4 && (c0 / 2) % 3 == 0) continue;
            k = (r0 / 2 + c0 / 2) % 2 ? bin_b(b, s) : bin_a(b, s);
          }
          count[static_cast<std::size_t>(k)] += 1;
          total += 1;
        }
      }
      for (int k = 0; k < 32; ++k) {
        const double want = total > 0 ? count[static_cast<std::size_t>(k)] / total : 0.0;
        ASSERT_NEAR(
            hist[(static_cast<std::size_t>(k) * 32 + static_cast<std::size_t>(s)) * 9 + static_cast<std::size_t>(b)],
            want, 1e-6)
            << "bin " << k << " step " << s << " band " << b;
        ++checked;
      }
      if (b == 0) {
        if (ndvi_n == 0) {
          EXPECT_TRUE(std::isnan(ndvi[static_cast<std::size_t>(s)])) << s;
        } else {
          EXPECT_NEAR(ndvi[static_cast<std::size_t>(s)], ndvi_sum / ndvi_n, 1e-5) << s;
        }
      }
    }
  }
  EXPECT_EQ(checked, 32 * 32 * 9);
  // The missing and broken composites are empty columns (NDVI NaN), not zeros of a real count.
  EXPECT_TRUE(std::isnan(ndvi[9]));
  EXPECT_TRUE(std::isnan(ndvi[12]));
  float yield = 0;
  r.read("yield", 0, 1, &yield);
  EXPECT_FLOAT_EQ(yield, 3.5f);
}

TEST_F(CropYieldPrepare, BadInputStopsWithTheFileAndWhatWasExpected) {
  const fs::path d = dir_->path();
  // No --region: a usage error.
  auto no_region = args(d / "bad1.h5");
  no_region.erase(no_region.begin() + 7, no_region.begin() + 9);
  const auto a = test::run_sbench(no_region);
  EXPECT_NE(a.exit_code, 0);
  EXPECT_NE(a.err.find("--region FILE (the region polygons) is required"), std::string::npos) << a.err;
  // A country the task does not have, and a polygon without a name field.
  test::write_file(d / "bad_country.csv", "country,region,year,yield\nusa,alpha_xx,2010,3\nfrance,alpha_xx,2011,3\n");
  auto country = args(d / "bad2.h5");
  country[4] = (d / "bad_country.csv").string();
  const auto b = test::run_sbench(country);
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_NE(b.err.find((d / "bad_country.csv").string() + ": line 3: country 'france', expected one of usa, argentina, "
                                                          "brazil"),
            std::string::npos)
      << b.err;
  test::write_file(
      d / "unnamed.geojson",
      R"({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": 4}, )"
      R"("geometry": {"type": "Polygon", "coordinates": [[[-93, 42], [-92.9, 42], [-92.9, 42.1], [-93, 42]]]}}]})");
  auto unnamed = args(d / "bad3.h5");
  unnamed[8] = (d / "unnamed.geojson").string();
  const auto c = test::run_sbench(unnamed);
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find((d / "unnamed.geojson").string() + ": feature 0 has no region name"), std::string::npos)
      << c.err;
  // Imagery without land cover: nothing can be masked.
  fs::create_directories(d / "no_cover");
  for (const auto& e : fs::directory_iterator(d / "modis")) {
    if (e.path().filename().string().rfind("MCD12Q1", 0) != 0) fs::copy(e.path(), d / "no_cover" / e.path().filename());
  }
  auto no_cover = args(d / "bad4.h5");
  no_cover[6] = (d / "no_cover").string();
  const auto e = test::run_sbench(no_cover);
  EXPECT_EQ(e.exit_code, 1);
  EXPECT_NE(e.err.find("no MCD12Q1 land cover (LC_Type1) in " + (d / "no_cover").string()), std::string::npos) << e.err;
  for (const char* f : {"bad1.h5", "bad2.h5", "bad3.h5", "bad4.h5"}) EXPECT_FALSE(fs::exists(d / f)) << f;
}

// `sbench synth crop_yield --n N` into DIR/raw, then its printed prepare command (quiet), which
// leaves DIR/raw.h5; returns the prepare arguments.
std::vector<std::string> synth_and_prepare(const fs::path& dir, int n) {
  const auto synth = test::run_sbench(
      {"-q", "synth", "crop_yield", "--out", (dir / "raw").string(), "--n", std::to_string(n), "--seed", "3"});
  EXPECT_EQ(synth.exit_code, 0) << synth.err;
  const auto at = synth.out.find("sbench prepare ");
  if (at == std::string::npos) return {};
  std::istringstream line(synth.out.substr(at, synth.out.find('\n', at) - at));
  std::vector<std::string> args = {"-q"};
  for (std::string w; line >> w;) args.push_back(w);
  args.erase(args.begin() + 1);  // "sbench"
  EXPECT_EQ(args.back(), (dir / "raw").string() + ".h5");
  const auto prep = test::run_sbench(args);
  EXPECT_EQ(prep.exit_code, 0) << prep.err;
  return args;
}

// Synth's counties, prepared: the planted vigour shows in the mid-season NDVI as in the yields;
// shards merge to the single run's store.
TEST(CropYieldSynth, PreparedStoreCarriesThePlantedSignalAndShardsMerge) {
  test::TempDir d;
  const auto args = synth_and_prepare(d.path(), 10);
  ASSERT_FALSE(args.empty());
  const fs::path single = d / "raw.h5";
  store::StoreReader r(single);
  constexpr std::size_t kN = 20;
  ASSERT_EQ(r.size(), kN);                            // 10 counties x 2010 and 2011
  EXPECT_TRUE(r.find("obrien_ia_2010").has_value());  // O'Brien, cleaned as the release's keys
  EXPECT_TRUE(r.find("black hawk_ia_2011").has_value());
  std::vector<float> ndvi(kN * 32), yield(kN);
  r.read("ndvi", 0, kN, ndvi.data());
  r.read("yield", 0, kN, yield.data());
  // Mid-season NDVI (steps 10-21) against yield: both follow the planted vigour.
  std::vector<double> m(kN);
  for (std::size_t i = 0; i < kN; ++i) {
    for (std::size_t s = 10; s < 22; ++s) m[i] += ndvi[i * 32 + s] / 12;
  }
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < kN; ++i) mx += m[i] / kN, my += yield[i] / static_cast<double>(kN);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < kN; ++i) {
    sxy += (m[i] - mx) * (yield[i] - my), sxx += (m[i] - mx) * (m[i] - mx), syy += (yield[i] - my) * (yield[i] - my);
  }
  EXPECT_GT(sxy / std::sqrt(sxx * syy), 0.9);
  // Every step has a histogram (each column sums to 1).
  std::vector<float> hist(32 * 32 * 9);
  r.read("hist", 5, 1, hist.data());
  for (std::size_t s = 0; s < 32; ++s) {
    for (std::size_t b = 0; b < 9; ++b) {
      double sum = 0;
      for (std::size_t k = 0; k < 32; ++k) sum += hist[(k * 32 + s) * 9 + b];
      EXPECT_NEAR(sum, 1.0, 1e-5) << s << " " << b;
    }
  }

  // Shards 1/2 then 0/2, merged.
  ASSERT_NO_FATAL_FAILURE(test::shards_merge_and_compare(args, d.path(), {1, 0}, single));
}

// 30 counties (60 region-years): killed once the first 32 examples are journaled (28 remain), then
// resumed to the uninterrupted run's store.
TEST(CropYieldSynth, KilledRunResumesToTheUninterruptedStore) {
  test::TempDir d;
  const auto args = synth_and_prepare(d.path(), 30);
  ASSERT_FALSE(args.empty());
  auto killed = args;
  killed.back() = (d / "killed.h5").string();
  ASSERT_NO_FATAL_FAILURE(test::kill_resume_and_compare(killed, d / "raw.h5"));
}

}  // namespace
}  // namespace sbench
