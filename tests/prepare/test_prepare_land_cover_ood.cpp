// sbench prepare land_cover_ood: MODIS files built here whose every cell is known, so each point's
// series and label are checked against the cell under its stored position; the region filter, the
// meta-test group, a missing composite and fill; sbench synth -> prepare and its planted classes;
// shards merge to the single run's store.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

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
constexpr double kCell = raster::kModisTileMetres / 2400;
constexpr int kSide = 120;  // cells of the imagery (56 km)

void to_sinu(double lon, double lat, double& x, double& y) {
  x = raster::kModisSphereRadius * lon * kPi / 180 * std::cos(lat * kPi / 180);
  y = raster::kModisSphereRadius * lat * kPi / 180;
}

struct Imagery {
  double x0 = 0, y1 = 0;
  Imagery() {
    const double ox = -18 * raster::kModisTileMetres, oy = 9 * raster::kModisTileMetres;
    double x = 0, y = 0;
    to_sinu(10.0, 51.2, x, y);  // the upper-left corner, on a cell corner
    x0 = ox + std::floor((x - ox) / kCell) * kCell;
    y1 = oy - std::floor((oy - y) / kCell) * kCell;
  }
  // Region centres, at cells (col, row) of the imagery.
  std::pair<double, double> lonlat_at(double col, double row) const {
    const double x = x0 + col * kCell, y = y1 - row * kCell;
    const double phi = y / raster::kModisSphereRadius;
    return {x / (raster::kModisSphereRadius * std::cos(phi)) * 180 / kPi, phi * 180 / kPi};
  }
};

// Regions: A and B mixed, C one class, D 90% one class (centres in cells of the imagery).
const double kCentre[4][2] = {{30, 30}, {90, 30}, {30, 90}, {90, 90}};
int region_of(int r, int c) {
  return (c >= 60 ? 1 : 0) + (r >= 60 ? 2 : 0);
}
int igbp(int r, int c) {
  switch (region_of(r, c)) {
    case 0:
    case 1: return 1 + ((r / 2 + c / 2) % 3) * 4;  // 1, 5, 9
    case 2: return 16;
    default: return (r + c) % 10 == 0 ? 10 : 12;
  }
}
double dn(int b, int t, int r, int c) {
  return 1 + b * 1000 + t * 20 + (r * 3 + c * 5) % 19;
}
bool filled(int t, int c) {
  return t == 5 && c % 4 == 0;
}

class LandCoverOodPrepare : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    const fs::path d = dir_->path();
    const Imagery im;
    fs::create_directories(d / "modis");
    const EosGrid grid{
        "MOD_Grid_500m_Surface_Reflectance", kSide, kSide, im.x0, im.y1, im.x0 + kSide * kCell, im.y1 - kSide * kCell};
    EosField lc{"LC_Type1", EosType::u8, 255, 1, 0, {}};
    for (int r = 0; r < kSide; ++r) {
      for (int c = 0; c < kSide; ++c) lc.values.push_back(igbp(r, c));
    }
    EosField qc = lc;
    qc.name = "QC";
    EosGrid lg = grid;
    lg.name = "MCD12Q1";
    raster::write_modis_hdf4(d / "modis" / "MCD12Q1.A2018001.h18v03.061.2019001000000.hdf", lg, {lc, qc});
    raster::write_modis_hdf4(d / "modis" / "MCD12Q1.A2017001.h18v03.061.2019001000000.hdf", lg, {lc, qc});
    for (int t = 0; t < 46; ++t) {
      if (t == 7) continue;  // a missing composite
      std::vector<EosField> sr;
      for (int b = 0; b < 7; ++b) {
        EosField f{fmt::format("sur_refl_b0{}", b + 1), EosType::i16, -28672, 1, 0, {}};
        for (int r = 0; r < kSide; ++r) {
          for (int c = 0; c < kSide; ++c) f.values.push_back(filled(t, c) ? -28672 : dn(b, t, r, c));
        }
        sr.push_back(std::move(f));
      }
      raster::write_modis_hdf4(d / "modis" / fmt::format("MOD09A1.A2018{:03d}.h18v03.061.2019001000000.hdf", 1 + 8 * t),
                               grid, sr);
    }
    std::string csv = "region,region_group,lon,lat\n";
    const char* names[] = {"a_0001", "b_0001", "c_0001", "d_0001"};
    const char* groups[] = {"europe", "sub_saharan_africa", "europe", "asia"};
    for (int k = 0; k < 4; ++k) {
      const auto [lon, lat] = im.lonlat_at(kCentre[k][0], kCentre[k][1]);
      csv += fmt::format("{},{},{:.10f},{:.10f}\n", names[k], groups[k], lon, lat);
    }
    csv += "e_0001,asia,100.0,30.0\n";  // outside the imagery
    test::write_file(d / "regions.csv", csv);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::vector<std::string> args(const fs::path& out) {
    const fs::path d = dir_->path();
    return {"-q",
            "prepare",
            "land_cover_ood",
            "--labels",
            (d / "regions.csv").string(),
            "--imagery",
            (d / "modis").string(),
            "--out",
            out.string()};
  }
  static test::TempDir* dir_;
};

test::TempDir* LandCoverOodPrepare::dir_ = nullptr;

TEST_F(LandCoverOodPrepare, EveryPointIsItsCellsSeriesAndLabel) {
  const fs::path out = dir_->path() / "hand.h5";
  const auto p = test::run_sbench(args(out));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  store::StoreReader r(out);
  ASSERT_EQ(r.size(), 1000u);  // regions a and b, 500 points each
  const auto report = nlohmann::json::parse(r.attributes().at("prepare_report"));
  EXPECT_EQ(report["counts"]["processed"], 1000) << report.dump();
  EXPECT_EQ(report["samples"]["region_single_class"], nlohmann::json({"c_0001"})) << report.dump();
  EXPECT_EQ(report["samples"]["region_dominant_class"], nlohmann::json({"d_0001"})) << report.dump();
  EXPECT_EQ(report["samples"]["outside_imagery"], nlohmann::json({"e_0001"})) << report.dump();
  const auto imagery = nlohmann::json::parse(r.attributes().at("prepare_imagery"));
  EXPECT_EQ(imagery["missing_composites"], nlohmann::json({"2018-057"})) << imagery.dump();
  EXPECT_EQ(imagery["scenes_of_other_years"], 1) << imagery.dump();

  std::vector<float> x(1000 * 8 * 46);
  r.read("x", 0, 1000, x.data());
  const auto ids = r.ids();
  const auto regions = r.read_strings("region");
  const auto groups = r.read_strings("region_group");
  const std::vector<double> lat = r.read_numbers("lat"), lon = r.read_numbers("lon"),
                            label = r.read_numbers("land_cover");
  const std::vector<std::uint8_t>& split = r.splits();
  const Imagery im;
  std::map<std::string, std::set<int>> classes;
  for (std::size_t i = 0; i < 1000; ++i) {
    const std::string region = i < 500 ? "a_0001" : "b_0001";
    ASSERT_EQ(ids[i], fmt::format("{}_{:03d}", region, i % 500));
    EXPECT_EQ(regions[i], region);
    EXPECT_EQ(groups[i], i < 500 ? "europe" : "sub_saharan_africa");
    if (i >= 500) {
      EXPECT_EQ(split[i], 2) << "sub-Saharan Africa is meta-test";
    } else {
      EXPECT_EQ(split[i], split[0]) << "a region's points share a split";
    }
    // The cell under the stored position, and the point inside its region's 10 km square.
    double px = 0, py = 0;
    to_sinu(lon[i], lat[i], px, py);
    const int c = static_cast<int>(std::floor((px - im.x0) / kCell)),
              rr = static_cast<int>(std::floor((im.y1 - py) / kCell));
    const double cx = im.x0 + kCentre[i < 500 ? 0 : 1][0] * kCell, cy = im.y1 - kCentre[i < 500 ? 0 : 1][1] * kCell;
    EXPECT_LE(std::abs(px - cx), 5000.001);
    EXPECT_LE(std::abs(py - cy), 5000.001);
    ASSERT_TRUE(c >= 0 && c < kSide && rr >= 0 && rr < kSide);
    EXPECT_EQ(label[i], igbp(rr, c)) << ids[i];
    classes[region].insert(static_cast<int>(label[i]));
    const float* s = x.data() + i * 8 * 46;
    for (int t = 0; t < 46; ++t) {
      if (t == 7 || filled(t, c)) {
        for (int b = 0; b < 8; ++b) EXPECT_TRUE(std::isnan(s[b * 46 + t])) << ids[i] << " t " << t << " b " << b;
        continue;
      }
      for (int b = 0; b < 7; ++b) ASSERT_NEAR(s[b * 46 + t], dn(b, t, rr, c) * 1e-4, 1e-7) << ids[i] << " t " << t;
      const double red = dn(0, t, rr, c) * 1e-4, nir = dn(1, t, rr, c) * 1e-4;
      ASSERT_NEAR(s[7 * 46 + t], (nir - red) / (nir + red), 1e-6) << ids[i] << " t " << t;
    }
  }
  EXPECT_EQ(classes["a_0001"], (std::set<int>{1, 5, 9}));
  EXPECT_EQ(classes["b_0001"], (std::set<int>{1, 5, 9}));
}

TEST_F(LandCoverOodPrepare, ShardsMergeToTheSingleRun) {
  const fs::path d = dir_->path();
  const fs::path single = d / "single.h5";
  ASSERT_EQ(test::run_sbench(args(single)).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(test::shards_merge_and_compare(args(single), d, {2, 0, 1}, single));
}

// Killed once 32 points are journaled (4 regions of 500 points: most remain), then resumed.
TEST_F(LandCoverOodPrepare, KilledRunResumesToTheUninterruptedStore) {
  test::TempDir d;
  ASSERT_EQ(test::run_sbench(args(d / "single.h5")).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(test::kill_resume_and_compare(args(d / "killed.h5"), d / "single.h5"));
}

TEST_F(LandCoverOodPrepare, BadInputStopsWithTheFileAndWhatWasExpected) {
  const fs::path d = dir_->path();
  test::write_file(d / "nolon.csv", "region,region_group,lat\na,europe,51\n");
  auto a = args(d / "bad1.h5");
  a[4] = (d / "nolon.csv").string();
  const auto p1 = test::run_sbench(a);
  EXPECT_EQ(p1.exit_code, 1);
  EXPECT_NE(p1.err.find("missing column 'lon'"), std::string::npos) << p1.err;
  auto other_year = args(d / "bad2.h5");
  other_year.insert(other_year.end(), {"--year", "2016"});
  const auto p2 = test::run_sbench(other_year);
  EXPECT_EQ(p2.exit_code, 1);
  EXPECT_NE(p2.err.find("no MOD09A1 surface reflectance of 2016 in " + (d / "modis").string()), std::string::npos)
      << p2.err;
  test::write_file(d / "twice.csv", "region,region_group,lon,lat\na,europe,10,51\na,europe,10.1,51\n");
  auto t = args(d / "bad3.h5");
  t[4] = (d / "twice.csv").string();
  const auto p3 = test::run_sbench(t);
  EXPECT_EQ(p3.exit_code, 1);
  EXPECT_NE(p3.err.find((d / "twice.csv").string() + ": line 3: region a again"), std::string::npos) << p3.err;
  for (const char* f : {"bad1.h5", "bad2.h5", "bad3.h5"}) EXPECT_FALSE(fs::exists(d / f)) << f;
}

// Synth's regions, prepared: the barren region is filtered, the three sub-Saharan regions are
// meta-test, and the planted phenology separates the classes (a nearest-centroid rule on the
// mid-year NDVI beats chance by far).
TEST(LandCoverOodSynth, PreparedStoreHasTheRegionsAndTheirSeparableClasses) {
  test::TempDir d;
  const auto synth = test::run_sbench({"-q", "synth", "land_cover_ood", "--out", (d / "raw").string(), "--n", "8"});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  const auto at = synth.out.find("sbench prepare ");
  ASSERT_NE(at, std::string::npos) << synth.out;
  std::istringstream line(synth.out.substr(at, synth.out.find('\n', at) - at));
  std::vector<std::string> args = {"-q"};
  for (std::string w; line >> w;) args.push_back(w);
  args.erase(args.begin() + 1);
  args.insert(args.end() - 2, {"--sample", "200"});
  const auto prep = test::run_sbench(args);
  ASSERT_EQ(prep.exit_code, 0) << prep.err;
  store::StoreReader r(d / "raw.h5");
  ASSERT_EQ(r.size(), 7u * 200u);  // eight regions, the barren one filtered
  const auto report = nlohmann::json::parse(r.attributes().at("prepare_report"));
  EXPECT_EQ(report["samples"]["region_single_class"], nlohmann::json({"oce_0001"})) << report.dump();
  const auto groups = r.read_strings("region_group");
  const std::vector<std::uint8_t>& split = r.splits();
  std::set<std::string> test_groups;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (split[i] == 2) test_groups.insert(groups[i]);
  }
  EXPECT_EQ(test_groups, (std::set<std::string>{"sub_saharan_africa"}));
  // Per class, the mean NDVI course of the northern points; each point goes to the nearest class
  // course (NaN steps skipped).
  std::vector<float> x(r.size() * 8 * 46);
  r.read("x", 0, r.size(), x.data());
  const std::vector<double> label = r.read_numbers("land_cover"), lat = r.read_numbers("lat");
  std::map<int, std::vector<double>> sum, count;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (lat[i] < 0) continue;
    auto& s = sum[static_cast<int>(label[i])];
    auto& n = count[static_cast<int>(label[i])];
    s.resize(46), n.resize(46);
    for (std::size_t t = 0; t < 46; ++t) {
      const float v = x[i * 368 + 7 * 46 + t];
      if (std::isfinite(v) && v > -1 && v < 1) s[t] += v, n[t] += 1;
    }
  }
  std::size_t right = 0, total = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (lat[i] < 0) continue;
    int best = -1;
    double best_d = 1e300;
    for (const auto& [c, s] : sum) {
      double dist = 0;
      for (std::size_t t = 0; t < 46; ++t) {
        const float v = x[i * 368 + 7 * 46 + t];
        if (std::isfinite(v) && v > -1 && v < 1 && count[c][t] > 0) dist += std::pow(v - s[t] / count[c][t], 2);
      }
      if (dist < best_d) best_d = dist, best = c;
    }
    right += best == static_cast<int>(label[i]);
    ++total;
  }
  EXPECT_GT(static_cast<double>(right) / static_cast<double>(total), 0.8) << right << " of " << total;
}

}  // namespace
}  // namespace sbench
