// The night-lights KNN baseline against a scikit-learn rewrite of SustainBench's notebook
// (tests/python/knn_reference.py) on a store imported from a synthetic DHS release: the same
// validation r^2 for every k, the same k, the same test predictions; then predict -> eval.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sbench/baseline/knn_nightlights.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/store/import.hpp"
#include "sbench/store/store.hpp"
#include "test_support.hpp"

namespace sbench::baseline {
namespace {

TEST(KnnNightlights, NearestNeighboursOfAOneDimensionalFeature) {
  KnnSet s;
  s.x = {0.0, 1.0, 2.5, 4.0, 10.0};
  s.y = {1.0, 2.0, 3.0, 4.0, 5.0};
  EXPECT_DOUBLE_EQ(knn_predict(s, 1, 2.4), 3.0);
  EXPECT_DOUBLE_EQ(knn_predict(s, 2, 2.4), 2.5);  // 2.5 and 1.0
  EXPECT_DOUBLE_EQ(knn_predict(s, 3, 3.4), 3.0);  // 2.5, 4.0, 1.0
  EXPECT_DOUBLE_EQ(knn_predict(s, 2, 100), 4.5);  // beyond the right end
  EXPECT_DOUBLE_EQ(knn_predict(s, 9, 0), 3.0);    // k capped at the set: all five
  EXPECT_DOUBLE_EQ(knn_predict(s, 2, 0.5), 1.5);  // a tie: both at 0.5
  // Dark tiles: equal features are taken in store order, from the left and from the right.
  KnnSet dark;
  dark.x = {0.0, 0.0, 0.0, 2.0};
  dark.y = {1.0, 2.0, 3.0, 9.0};
  EXPECT_DOUBLE_EQ(knn_predict(dark, 1, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(knn_predict(dark, 2, 0.5), 1.5);
  EXPECT_DOUBLE_EQ(knn_predict(dark, 1, -1.0), 1.0);
  EXPECT_DOUBLE_EQ(knn_predict(dark, 4, 0.5), 3.75);
}

TEST(KnnNightlights, EqualsTheScikitLearnNotebookAndScoresThroughEval) {
  test::TempDir dir;
  test::run_python("dhs_release.py", {(dir / "release").string(), "40", "--smooth"});
  const auto store = dir / "dhs.h5";
  const auto imp =
      test::run_sbench({"import", "poverty", "--from", (dir / "release").string(), "--out", store.string()});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;

  const auto ref = test::run_python("knn_reference.py", {store.string(), "asset_index"});
  std::istringstream in(ref.out);
  std::string kind;
  int ref_k = 0;
  std::map<int, double> ref_val;
  std::map<std::string, double> ref_pred;
  while (in >> kind) {
    if (kind == "val") {
      int k = 0;
      double r2 = 0;
      in >> k >> r2;
      ref_val[k] = r2;
    } else if (kind == "k") {
      in >> ref_k;
    } else {
      std::string id;
      double p = 0;
      in >> id >> p;
      ref_pred[id] = p;
    }
  }
  ASSERT_GT(ref_k, 0) << ref.out;
  ASSERT_GE(ref_val.size(), 3u);

  const auto run = dir / "run";
  const auto train = test::run_sbench(
      {"train", "poverty", "--store", store.string(), "--out", run.string(), "--set", "model=knn_nightlights"});
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const auto model = nlohmann::json::parse(test::read_file(run / "model.json"));
  EXPECT_EQ(model["k"].get<int>(), ref_k);
  ASSERT_EQ(model["selection"].size(), ref_val.size());
  for (const auto& s : model["selection"]) {
    EXPECT_NEAR(s["val_r2"].get<double>(), ref_val.at(s["k"].get<int>()), 1e-12) << "k = " << s["k"];
  }

  const auto pred = dir / "pred.csv";
  const auto p =
      test::run_sbench({"predict", "--run", run.string(), "--store", store.string(), "--out", pred.string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  CsvReader csv(pred.string());
  CsvRow row;
  std::size_t n = 0;
  while (csv.next(row)) {
    ASSERT_TRUE(ref_pred.count(row[0])) << row[0];
    EXPECT_NEAR(std::stod(row[1]), ref_pred.at(row[0]), 1e-12) << row[0];
    ++n;
  }
  EXPECT_EQ(n, ref_pred.size());

  // The predictions are a valid submission.
  const auto ev = test::run_sbench(
      {"eval", "poverty", "--pred", pred.string(), "--truth", store.string(), "--out", (dir / "m.json").string()});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  EXPECT_TRUE(nlohmann::json::parse(test::read_file(dir / "m.json"))["metrics"]["r2"].is_number());

  // A model that does not exist: a clear usage error naming those that do.
  const auto none = test::run_sbench(
      {"train", "poverty", "--store", store.string(), "--out", (dir / "r2").string(), "--set", "model=svm"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find(
                "model 'svm' is not one of resnet18, resnet34, unet, cnn1d, cnn_lstm, maml, tile2vec, knn_nightlights"),
            std::string::npos)
      << none.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "r2"));
  // A task without night lights.
  const auto wrong = test::run_sbench({"train", "brick_kiln", "--store", store.string(), "--out", (dir / "r3").string(),
                                       "--set", "model=knn_nightlights"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("no NIGHTLIGHTS band"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace sbench::baseline
