// sbench synth land_cover_rep -> prepare: every tile against an independent build (GDAL's Python
// bindings: the NAIP window and the CDL's mode, tests/python/land_cover_rep_reference.py), the
// planted classes, Tile2Vec triplets, shards, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "sbench/store/store.hpp"
#include "test_support.hpp"

namespace sbench {
namespace {

namespace fs = std::filesystem;

class LandCoverRepPrepare : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    const auto synth = test::run_sbench(
        {"-q", "synth", "land_cover_rep", "--out", (*dir_ / "raw").string(), "--n", "2", "--seed", "4"});
    ASSERT_EQ(synth.exit_code, 0) << synth.err;
    const auto at = synth.out.find("sbench prepare ");
    ASSERT_NE(at, std::string::npos) << synth.out;
    std::istringstream line(synth.out.substr(at, synth.out.find('\n', at) - at));
    args_ = {"-q"};
    for (std::string w; line >> w;) args_.push_back(w);
    args_.erase(args_.begin() + 1);  // "sbench"
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::vector<std::string> args(const fs::path& out, std::vector<std::string> extra = {}) {
    auto a = args_;
    a.back() = out.string();
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  static test::TempDir* dir_;
  static std::vector<std::string> args_;
};

test::TempDir* LandCoverRepPrepare::dir_ = nullptr;
std::vector<std::string> LandCoverRepPrepare::args_;

TEST_F(LandCoverRepPrepare, TilesAreTheImagesPixelsAndTheCdlMode) {
  const fs::path out = *dir_ / "grid.h5";
  const auto p = test::run_sbench(args(out));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  store::StoreReader r(out);
  // Two images of 800 x 600 px side by side: 16 x 6 tiles of 60 m (the grid is anchored on the
  // first image by name, the eastern one; the western one starts 8 tiles west of it).
  EXPECT_EQ(r.size(), 96u);
  EXPECT_EQ(r.schema().field("x").shape, (std::vector<std::int64_t>{4, 100, 100}));
  test::run_python("land_cover_rep_reference.py", {(*dir_ / "raw").string(), out.string()});
  // The planted looks: alfalfa (36) has the brightest NIR (210), water (111) the darkest (25);
  // fallow (61) the lowest NIR of the field crops (120).
  std::vector<std::uint8_t> x(r.size() * 4 * 100 * 100);
  r.read("x", 0, r.size(), x.data());
  const auto label = r.read_numbers("land_cover");
  std::map<int, std::pair<double, int>> nir;  // label -> (sum of tile means, tiles)
  for (std::size_t i = 0; i < r.size(); ++i) {
    double s = 0;
    for (std::size_t q = 0; q < 10000; ++q) s += x[(i * 4 + 3) * 10000 + q];
    nir[static_cast<int>(label[i])].first += s / 10000;
    nir[static_cast<int>(label[i])].second += 1;
  }
  EXPECT_GE(nir.size(), 5u);
  ASSERT_TRUE(nir.count(36) && nir.count(61)) << "seed 4 has alfalfa and fallow tiles";
  EXPECT_GT(nir[36].first / nir[36].second, 170);
  EXPECT_LT(nir[61].first / nir[61].second, 160);
  std::set<std::string> splits;
  for (auto s : r.splits()) splits.insert(s == 0 ? "train" : s == 1 ? "val" : "test");
  EXPECT_TRUE(splits.count("train"));
}

TEST_F(LandCoverRepPrepare, TripletsAndShards) {
  const fs::path out = *dir_ / "triplets.h5";
  const auto p = test::run_sbench(args(out, {"--triplets", "10"}));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  store::StoreReader r(out);
  ASSERT_EQ(r.size(), 30u);
  const auto lat = r.read_numbers("lat"), lon = r.read_numbers("lon");
  const auto& split = r.splits();
  for (std::size_t k = 0; k < 10; ++k) {
    EXPECT_EQ(r.ids()[3 * k], fmt::format("triplet_{:06d}_anchor", k));
    EXPECT_EQ(r.ids()[3 * k + 1], fmt::format("triplet_{:06d}_neighbor", k));
    EXPECT_EQ(r.ids()[3 * k + 2], fmt::format("triplet_{:06d}_distant", k));
    // The neighbour's centre within 100 m of the anchor's (metres from degrees at 36.75 N).
    const double dy = (lat[3 * k + 1] - lat[3 * k]) * 111000,
                 dx = (lon[3 * k + 1] - lon[3 * k]) * 111000 * std::cos(lat[3 * k] * M_PI / 180);
    EXPECT_LE(std::hypot(dx, dy), 101.0) << k;
    EXPECT_EQ(split[3 * k + 1], split[3 * k]);
    EXPECT_EQ(split[3 * k + 2], split[3 * k]);
  }
  // Shards of the triplet store merge to it.
  auto triplets = args(out);
  triplets.insert(triplets.end() - 2, {"--triplets", "10"});  // before "--out OUT"
  ASSERT_NO_FATAL_FAILURE(test::shards_merge_and_compare(triplets, dir_->path(), {1, 0}, out));
}

// Killed once 32 of the 96 tiles are journaled, then resumed.
TEST_F(LandCoverRepPrepare, KilledRunResumesToTheUninterruptedStore) {
  const fs::path single = *dir_ / "single.h5";
  ASSERT_EQ(test::run_sbench(args(single)).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(test::kill_resume_and_compare(args(*dir_ / "killed.h5"), single));
}

TEST_F(LandCoverRepPrepare, BadInputStopsWithTheFileAndWhatWasExpected) {
  // A CDL that is no raster, and imagery without NAIP: errors naming the file, no store.
  test::write_file(*dir_ / "not_a_raster.tif", "hello");
  auto a = args(*dir_ / "bad1.h5");
  a[4] = (*dir_ / "not_a_raster.tif").string();
  const auto p1 = test::run_sbench(a);
  EXPECT_EQ(p1.exit_code, 1);
  EXPECT_NE(p1.err.find((*dir_ / "not_a_raster.tif").string() + ": not a raster GDAL can open"), std::string::npos)
      << p1.err;
  fs::create_directories(*dir_ / "empty");
  auto b = args(*dir_ / "bad2.h5");
  b[6] = (*dir_ / "empty").string();
  const auto p2 = test::run_sbench(b);
  EXPECT_EQ(p2.exit_code, 1);
  EXPECT_NE(p2.err.find("no NAIP image"), std::string::npos) << p2.err;
  for (const char* f : {"bad1.h5", "bad2.h5"}) EXPECT_FALSE(fs::exists(*dir_ / f)) << f;
}

}  // namespace
}  // namespace sbench
