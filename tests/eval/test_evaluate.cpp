// `sbench eval` end to end: stores imported from releases built at test time, submissions written
// here, scores checked against perfect answers and against scipy, every invalid kind refused.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "sbench/core/error.hpp"
#include "sbench/eval/evaluate.hpp"
#include "sbench/store/import.hpp"
#include "sbench/store/store.hpp"
#include "test_support.hpp"

namespace sbench::eval {
namespace {

const TaskRegistry& reg() {
  return TaskRegistry::builtin();
}

class DhsEval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    test::run_python("dhs_release.py", {(dir_->path() / "release").string(), "40", "--smooth"});
    store::ImportOptions opt;
    opt.from = dir_->path() / "release";
    opt.out = dir_->path() / "dhs.h5";
    store::import_release(reg().get("poverty"), reg(), opt);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path store_path() { return dir_->path() / "dhs.h5"; }

  // A submission for every test cluster: truth * a + noise (NaN truth gets 0).
  static std::filesystem::path write_submission(
      const std::string& name, double a, double noise,
      const std::function<void(std::vector<std::pair<std::string, std::string>>&)>& edit = {}) {
    store::StoreReader s(store_path());
    const auto truth = s.read_numbers("asset_index");
    std::mt19937_64 rng(3);
    std::normal_distribution<double> g;
    std::vector<std::pair<std::string, std::string>> rows;
    for (auto i : s.indices("test")) {
      const double v = std::isnan(truth[i]) ? 0.0 : a * truth[i] + noise * g(rng);
      rows.emplace_back(s.ids()[i], fmt::format("{}", v));
    }
    if (edit) edit(rows);
    const auto path = dir_->path() / name;
    std::ofstream out(path);
    out << "id,asset_index\n";
    for (const auto& [id, v] : rows) out << id << ',' << v << '\n';
    return path;
  }
  static test::TempDir* dir_;
};
test::TempDir* DhsEval::dir_ = nullptr;

TEST_F(DhsEval, PerfectSubmissionScoresPerfectly) {
  const auto sub = write_submission("perfect.csv", 1.0, 0.0);
  store::StoreReader s(store_path());
  const auto r = evaluate(reg().get("1A"), s, read_submission(reg().get("1A"), sub), {});
  EXPECT_DOUBLE_EQ(r.metrics.at("r2"), 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("pearson_r"), 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("mse"), 0.0);
  EXPECT_EQ(r.n, 15u);  // test clusters (AM, ET, RW of 40) with an asset label
}

TEST_F(DhsEval, NoisySubmissionMatchesScipyAndReportsGroupsAndIntervals) {
  const auto sub = write_submission("noisy.csv", 0.8, 0.5);
  test::TempDir out;
  const auto cli = test::run_sbench({"eval", "poverty", "--pred", sub.string(), "--truth", store_path().string(),
                                     "--out", (out / "m.json").string(), "--bootstrap", "200", "--seed", "5",
                                     "--report", (out / "r.html").string()});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  // The report: the scatter of the scored clusters, residuals per group, the map (the store has
  // coordinates); its rendering is checked in test_report.cpp.
  const std::string html = test::read_file(out / "r.html");
  EXPECT_NE(html.find("Predicted versus true asset_index"), std::string::npos);
  EXPECT_NE(html.find("\"residuals_country\""), std::string::npos);
  EXPECT_NE(html.find("\"map\""), std::string::npos);
  EXPECT_NE(cli.out.find("report written to"), std::string::npos);
  const auto j = nlohmann::json::parse(test::read_file(out / "m.json"));
  const auto ref = test::run_python("eval_reference.py", {store_path().string(), sub.string(), "asset_index"});
  std::istringstream in(ref.out);
  double r2 = 0;
  std::size_t n = 0;
  in >> r2 >> n;
  EXPECT_NEAR(j["metrics"]["r2"].get<double>(), r2, 1e-12);
  EXPECT_EQ(j["n"].get<std::size_t>(), n);
  EXPECT_EQ(j["task"], "poverty");
  EXPECT_EQ(j["split"], "test");
  // Groups: urban / rural and countries, each with its worst value.
  EXPECT_TRUE(j["groups"]["urban"]["values"].contains("0"));
  EXPECT_TRUE(j["groups"]["urban"]["values"].contains("1"));
  EXPECT_EQ(j["groups"]["country"]["values"].size(), 3u);
  const double worst = j["groups"]["country"]["worst"]["r2"]["value"];
  for (const auto& [key, g] : j["groups"]["country"]["values"].items()) {
    if (!g["metrics"]["r2"].is_null()) {
      EXPECT_LE(worst, g["metrics"]["r2"].get<double>()) << key;
    }
  }
  // Bootstrap over countries, reproducible by seed, bracketing the estimate.
  EXPECT_EQ(j["bootstrap"]["unit"], "country");
  const auto lo = j["intervals"]["r2"][0].get<double>(), hi = j["intervals"]["r2"][1].get<double>();
  EXPECT_LE(lo, hi);
  const auto again = test::run_sbench({"eval", "1A", "--pred", sub.string(), "--truth", store_path().string(), "--out",
                                       (out / "m2.json").string(), "--bootstrap", "200", "--seed", "5"});
  ASSERT_EQ(again.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(test::read_file(out / "m2.json"))["intervals"], j["intervals"]);
  EXPECT_EQ(j["baselines"][0]["value"], 0.63);
  EXPECT_NE(j["leaderboard_row"].get<std::string>().find("r2 "), std::string::npos);
}

TEST_F(DhsEval, EveryKindOfInvalidSubmissionExitsOneWithoutOutput) {
  struct Case {
    const char* name;
    std::function<void(std::vector<std::pair<std::string, std::string>>&)> edit;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"unknown", [](auto& r) { r.emplace_back("XX-2000-1#-00000001", "0.5"); },
       "ids that are not in the store (e.g. XX-2000-1#-00000001)"},
      {"missing", [](auto& r) { r.erase(r.begin()); }, "ids of the test split without a prediction"},
      {"duplicate", [](auto& r) { r.push_back(r.front()); }, "ids listed more than once"},
      {"nan", [](auto& r) { r[1].second = "nan"; }, "predictions that are NaN or infinite"},
      {"inf", [](auto& r) { r[2].second = "inf"; }, "predictions that are NaN or infinite"},
      {"wrong_split", [](auto& r) { r.emplace_back("AL-2005-7#-00000000", "0.1"); },
       "ids of another split than 'test'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto sub = write_submission(std::string(c.name) + ".csv", 1.0, 0.0, c.edit);
    test::TempDir out;
    const auto r = test::run_sbench({"eval", "poverty", "--pred", sub.string(), "--truth", store_path().string(),
                                     "--out", (out / "m.json").string(), "--report", (out / "r.html").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(sub.string()), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(out / "m.json"));
    EXPECT_FALSE(std::filesystem::exists(out / "m.json.partial"));
    EXPECT_FALSE(std::filesystem::exists(out / "r.html"));
  }
  // A column that is not the task's target, and another task's store.
  test::TempDir out;
  test::write_file(out / "bad.csv", "id,wealth\nAM-2005-7#-00000005,1\n");
  const auto r = test::run_sbench({"eval", "poverty", "--pred", (out / "bad.csv").string(), "--truth",
                                   store_path().string(), "--out", (out / "m.json").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing column 'asset_index'"), std::string::npos) << r.err;
}

void make_crop_type_store(const test::TempDir& dir) {
  test::run_python("crop_type_release.py", {"make", dir.path().string()});
  store::ImportOptions opt;
  opt.from = dir.path();
  opt.out = dir / "ct.h5";
  store::import_release(reg().get("2B1"), reg(), opt);
}

TEST(DenseEval, MaskFolderScoresAsTheHdf5FormAndBadFoldersAreRefused) {
  test::TempDir dir;
  make_crop_type_store(dir);
  store::StoreReader s(dir / "ct.h5");
  // The in-memory form of the same predictions: the truth with the unlabelled class 0 set to 1.
  Submission ref;
  ref.path = dir / "pred.h5";
  ref.dense_shape = {64, 64};
  std::vector<std::uint8_t> t(64 * 64);
  for (auto i : s.indices("test")) {
    ref.ids.push_back(s.ids()[i]);
    s.read("truth", i, 1, t.data());
    for (auto v : t) ref.dense.push_back(v == 0 ? 1.0f : static_cast<float>(v));
  }
  EvalOptions keep;
  keep.keep_unlabelled = true;
  ASSERT_GE(ref.ids.size(), 2u);
  const auto want = evaluate(reg().get("2B1"), s, ref, keep);
  EXPECT_LT(want.metrics.at("accuracy"), 1.0);
  for (const char* format : {"png", "tif"}) {
    SCOPED_TRACE(format);
    const auto folder = dir / (std::string("masks_") + format);
    test::run_python("masks_from_store.py", {(dir / "ct.h5").string(), "truth", "test", folder.string(), format});
    const Submission sub = read_submission(reg().get("2B1"), folder);
    EXPECT_EQ(sub.ids.size(), ref.ids.size());
    const auto got = evaluate(reg().get("2B1"), s, sub, keep);
    EXPECT_EQ(got.metrics, want.metrics);
    EXPECT_EQ(got.n, want.n);
    // Through the CLI too.
    test::TempDir out;
    const auto cli = test::run_sbench({"eval", "2B1", "--pred", folder.string(), "--truth", (dir / "ct.h5").string(),
                                       "--out", (out / "m.json").string(), "--keep-unlabelled"});
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    EXPECT_DOUBLE_EQ(nlohmann::json::parse(test::read_file(out / "m.json"))["metrics"]["accuracy"].get<double>(),
                     want.metrics.at("accuracy"));
  }
  // A bad folder: a stray file, a truncated mask, a mask of the wrong size; every problem listed.
  const auto bad = dir / "masks_png";
  test::write_file(bad / "notes.txt", "x");
  const auto first = bad / (ref.ids[0] + ".png");
  const std::string bytes = test::read_file(first);
  test::write_file(first, bytes.substr(0, bytes.size() / 3));
  test::run_process({test::python(), "-c",
                     "import sys; from PIL import Image; Image.new('L', (32, 64)).save(sys.argv[1])",
                     (bad / (ref.ids[1] + ".png")).string()});
  test::TempDir out;
  const auto r = test::run_sbench({"eval", "2B1", "--pred", bad.string(), "--truth", (dir / "ct.h5").string(), "--out",
                                   (out / "m.json").string(), "--report", (out / "r.html").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("1 files that are not .png/.tif masks (e.g. notes.txt)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 masks that cannot be read"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(first.string() + ": truncated PNG"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 masks that are not 64 x 64 pixels (height x width) (e.g. " + ref.ids[1] + ".png is 64 x 32)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(out / "m.json"));
  EXPECT_FALSE(std::filesystem::exists(out / "r.html"));
  // A mask named after an id the store does not have: the usual id checks.
  const auto good = dir / "masks_tif";
  std::filesystem::rename(good / (ref.ids[0] + ".tif"), good / "XX-unknown.tif");
  try {
    evaluate(reg().get("2B1"), s, read_submission(reg().get("2B1"), good), keep);
    ADD_FAILURE() << "an unknown id was scored";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ids that are not in the store (e.g. XX-unknown)"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("without a prediction (e.g. " + ref.ids[0] + ")"), std::string::npos)
        << e.what();
  }
}

TEST(DenseEval, CropTypePixelsWithTheUnlabelledClassIgnoredOrKept) {
  test::TempDir dir;
  make_crop_type_store(dir);
  store::StoreReader s(dir / "ct.h5");
  // A submission built from the truth: perfect on labelled pixels, wrong on every unlabelled one.
  const auto test_ids = s.indices("test");
  Submission sub;
  sub.path = dir / "pred.h5";
  sub.dense_shape = {64, 64};
  std::vector<std::uint8_t> t(64 * 64);
  for (auto i : test_ids) {
    sub.ids.push_back(s.ids()[i]);
    s.read("truth", i, 1, t.data());
    for (auto v : t) sub.dense.push_back(v == 0 ? 1.0f : static_cast<float>(v));
  }
  const auto ignored = evaluate(reg().get("2B1"), s, sub, {});
  EXPECT_DOUBLE_EQ(ignored.metrics.at("accuracy"), 1.0);
  EXPECT_DOUBLE_EQ(ignored.metrics.at("f1_macro"), 1.0);
  EvalOptions keep;
  keep.keep_unlabelled = true;
  EXPECT_LT(evaluate(reg().get("2B1"), s, sub, keep).metrics.at("accuracy"), 1.0);
  // Out-of-range classes and a wrong shape are refused.
  Submission bad = sub;
  bad.dense[5] = 9;
  EXPECT_THROW(evaluate(reg().get("2B1"), s, bad, {}), InputError);
  Submission shape = sub;
  shape.dense_shape = {32, 128};
  try {
    evaluate(reg().get("2B1"), s, shape, {});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("predictions of shape (32, 128) instead of (64, 64)"), std::string::npos);
  }
}

}  // namespace
}  // namespace sbench::eval
