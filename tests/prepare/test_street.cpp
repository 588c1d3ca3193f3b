// sbench street import: a small release written by PIL at test time in the documented layout
// (tests/python/street_release.py), checked image by image against PIL's crop and resize and
// cluster by cluster; own images associated by the release's rules; bad files counted by name.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sbench/store/store.hpp"
#include "sbench/store/street.hpp"
#include "test_support.hpp"

namespace sbench {
namespace {

namespace fs = std::filesystem;

// Pearson's r of two series, from its definition.
double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    mx += x[i] / static_cast<double>(x.size()), my += y[i] / static_cast<double>(x.size());
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx), syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

class StreetImport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    // A DHS store of six clusters from synth -> prepare.
    const auto s = test::run_sbench({"-q", "synth", "poverty", "--out", (*dir_ / "dhs").string(), "--n", "6"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    const auto p = test::run_sbench(
        {"-q", "prepare", "poverty", "--labels", (*dir_ / "dhs" / "dhs_final_labels.csv").string(), "--imagery",
         (*dir_ / "dhs" / "landsat").string(), (*dir_ / "dhs" / "nightlights").string(), "--out", store().string()});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    test::run_python("street_release.py", {"write", store().string(), (*dir_ / "street").string(), "64"});
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path store() { return *dir_ / "dhs.h5"; }
  static std::map<std::string, std::size_t> counts(const fs::path& out) {
    const auto j = nlohmann::json::parse(store::read_street_index(out).report);
    std::map<std::string, std::size_t> c;
    for (const auto& [k, v] : j["counts"].items()) c[k] = v.get<std::size_t>();
    return c;
  }
  static test::TempDir* dir_;
};
test::TempDir* StreetImport::dir_ = nullptr;

TEST_F(StreetImport, ReleaseLayoutImageByImageAndBadFilesByName) {
  const fs::path out = *dir_ / "release.h5";
  const auto r = test::run_sbench({"street", "import", "--store", store().string(), "--out", out.string(), "--from",
                                   (*dir_ / "street").string(), "--size", "64"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  test::run_python("street_release.py", {"check", (*dir_ / "street").string(), out.string(), "release"});
  const auto c = counts(out);
  EXPECT_EQ(c.at("imported"), 9u);
  EXPECT_EQ(c.at("broken_image"), 2u);            // truncated, and a PNG named .jpeg
  EXPECT_EQ(c.at("image_without_metadata"), 1u);  // 2000003.jpeg
  EXPECT_EQ(c.at("metadata_without_image"), 1u);  // row 2000004
  EXPECT_EQ(c.at("unknown_cluster"), 1u);         // a folder that is no cluster of the store
  EXPECT_EQ(c.at("cluster_without_images"), 3u);
  EXPECT_EQ(c.at("bad_metadata"), 1u);                                // latitude "abc"
  EXPECT_EQ(c.at("not_a_jpeg_name"), 1u);                             // a .json beside the photos
  EXPECT_EQ(c.at("duplicate_id"), 1u);                                // one id as .jpeg and .jpg
  EXPECT_NE(r.out.find("2000001.jpeg"), std::string::npos) << r.out;  // named
  EXPECT_NE(r.err.find("Premature end of JPEG file"), std::string::npos) << r.err;
  // The index: per example of the store, its range of images; the rest of the store unchanged.
  const auto index = store::read_street_index(out);
  store::StoreReader in(store()), with(out);
  ASSERT_EQ(index.first.size(), in.size());
  EXPECT_EQ(with.ids(), in.ids());
  EXPECT_EQ(index.size, 64);
  std::vector<std::uint8_t> px(3 * 64 * 64);
  store::read_street_images(out, index.first[1], 1, px.data());
  EXPECT_GT(*std::max_element(px.begin(), px.end()), 0);
  test::run_python("compare_stores.py", {store().string(), out.string(), "--skip", "street"});
  // Importing again into the result, or into an existing file, is refused.
  const auto again = test::run_sbench({"street", "import", "--store", out.string(), "--out",
                                       (*dir_ / "again.h5").string(), "--from", (*dir_ / "street").string()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already has street-level images"), std::string::npos) << again.err;
  EXPECT_FALSE(fs::exists(*dir_ / "again.h5"));
  EXPECT_FALSE(fs::exists(*dir_ / "again.h5.partial"));
}

TEST_F(StreetImport, OwnImagesFollowTheReleaseRules) {
  const fs::path out = *dir_ / "own.h5";
  const auto r = test::run_sbench({"-q", "street", "import", "--store", store().string(), "--out", out.string(),
                                   "--images", (*dir_ / "street" / "own" / "images").string(), "--metadata",
                                   (*dir_ / "street" / "own" / "metadata.csv").string(), "--size", "64",
                                   "--max-per-cluster", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The nearest three of the five within 0.1 degree and 3 years, nearest first.
  test::run_python("street_release.py", {"check", (*dir_ / "street").string(), out.string(), "own"});
  const auto c = counts(out);
  EXPECT_EQ(c.at("imported"), 3u);
  EXPECT_EQ(c.at("over_limit"), 2u);
  EXPECT_EQ(c.at("outside_window"), 2u);  // 0.2 degree away; 5 years after the survey
  EXPECT_EQ(c.at("image_without_metadata"), 1u);
}

TEST_F(StreetImport, BadUseIsAClearError) {
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"street",         "import", "--store",
                                  store().string(), "--out",  (*dir_ / "bad.h5").string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return test::run_sbench(a);
  };
  auto r = run({});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("give either --from"), std::string::npos) << r.err;
  r = run({"--images", (*dir_ / "street" / "own" / "images").string()});
  EXPECT_NE(r.err.find("--images needs --metadata"), std::string::npos) << r.err;
  // A folder without the release's layout.
  r = run({"--from", (*dir_ / "street" / "own").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no metadata/ and imagery/ folders"), std::string::npos) << r.err;
  // Metadata without a latitude column names the file and the column.
  test::write_file(*dir_ / "nolat.csv", "id,lon,year\na,1,2010\n");
  r = run({"--images", (*dir_ / "street" / "own" / "images").string(), "--metadata", (*dir_ / "nolat.csv").string()});
  EXPECT_NE(r.err.find("nolat.csv: no latitude column"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(*dir_ / "bad.h5"));
  EXPECT_FALSE(fs::exists(*dir_ / "bad.h5.partial"));
}

// synth --street writes photos of every third cluster in the release's layout, with the planted
// relation (lighter, greyer ground and walls with development); the other files do not change. The
// imported store scores submissions on the clusters with and without street images (eval's group
// street_images).
TEST(StreetSynth, PlantedPhotosImportAndScoreOnTheirSubset) {
  test::TempDir d;
  for (const char* name : {"plain", "street"}) {
    std::vector<std::string> a = {"-q", "synth", "poverty", "--out", (d / name).string(), "--n", "36", "--seed", "2"};
    if (std::string(name) == "street") a.push_back("--street");
    const auto r = test::run_sbench(a);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (std::string(name) == "street") {
      EXPECT_NE(r.out.find("sbench street import --store"), std::string::npos);
    }
  }
  EXPECT_FALSE(fs::exists(d / "plain" / "mapillary"));
  EXPECT_EQ(test::read_file(d / "plain" / "dhs_final_labels.csv"),
            test::read_file(d / "street" / "dhs_final_labels.csv"));
  const auto p = test::run_sbench(
      {"-q", "prepare", "poverty", "--labels", (d / "street" / "dhs_final_labels.csv").string(), "--imagery",
       (d / "street" / "landsat").string(), (d / "street" / "nightlights").string(), "--out", (d / "dhs.h5").string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto s =
      test::run_sbench({"-q", "street", "import", "--store", (d / "dhs.h5").string(), "--out",
                        (d / "street.h5").string(), "--from", (d / "street" / "mapillary").string(), "--size", "64"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const auto index = store::read_street_index(d / "street.h5");
  store::StoreReader r(d / "street.h5");
  const auto asset = r.read_numbers("asset_index");
  // Per cluster with photos: the mean of the lower half (ground, walls) against the asset index.
  std::vector<double> x, y;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (index.count[i] == 0 || !std::isfinite(asset[i])) continue;
    std::vector<std::uint8_t> px(static_cast<std::size_t>(index.count[i]) * 3 * 64 * 64);
    store::read_street_images(d / "street.h5", index.first[i], index.count[i], px.data());
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t k = 0; k < px.size(); ++k) {
      if ((k % (64 * 64)) / 64 >= 32) sum += px[k], ++n;
    }
    x.push_back(sum / static_cast<double>(n));
    y.push_back(asset[i]);
  }
  ASSERT_GE(x.size(), 4u);
  EXPECT_GT(pearson(x, y), 0.8);
  // Eval: the train split (more clusters than test at this size) scored whole and on the clusters
  // with and without photos.
  std::string csv = "id,asset_index\n";
  std::size_t with = 0, without = 0;
  std::vector<double> pw, tw;  // prediction and truth on the clusters with photos
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.splits()[i] != store::kTrain || !std::isfinite(asset[i])) continue;
    const double pred = asset[i] + 0.3 * static_cast<double>(i % 3);
    csv += fmt::format("{},{:.17g}\n", r.ids()[i], pred);
    (index.count[i] > 0 ? with : without) += 1;
    if (index.count[i] > 0) pw.push_back(pred), tw.push_back(asset[i]);
  }
  test::write_file(d / "pred.csv", csv);
  const auto e = test::run_sbench({"-q", "eval", "poverty", "--pred", (d / "pred.csv").string(), "--truth",
                                   (d / "street.h5").string(), "--split", "train", "--out", (d / "m.json").string(),
                                   "--report", (d / "r.html").string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto m = nlohmann::json::parse(test::read_file(d / "m.json"));
  ASSERT_TRUE(m["groups"].contains("street_images")) << m.dump();
  EXPECT_EQ(m["groups"]["street_images"]["values"]["with"]["n"], with);
  if (without > 0) {
    EXPECT_EQ(m["groups"]["street_images"]["values"]["without"]["n"], without);
  }
  ASSERT_GE(with, 3u);
  // The subset's r2 (squared Pearson, the card's metric) computed here from the rows with photos.
  const double r2_with = pearson(pw, tw) * pearson(pw, tw);
  EXPECT_NEAR(m["groups"]["street_images"]["values"]["with"]["metrics"]["r2"].get<double>(), r2_with, 1e-9);
  // The report shows the whole split and the subset, side by side.
  const auto html = test::read_file(d / "r.html");
  EXPECT_NE(html.find("<h2>Per street_images</h2>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>with</td><td>" + std::to_string(with) + "</td>"), std::string::npos);
}

}  // namespace
}  // namespace sbench
