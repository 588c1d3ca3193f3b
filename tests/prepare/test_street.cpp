// sbench street import: a small release written by PIL at test time in the documented layout
// (tests/python/street_release.py), checked image by image against PIL's crop and resize and
// cluster by cluster; own images associated by the release's rules; bad files counted by name.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sbench
