// Every metric against hand-worked cases and against scikit-learn / scipy on random data.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "sbench/eval/metrics.hpp"
#include "test_support.hpp"

namespace sbench::eval {
namespace {

using I = std::vector<std::int64_t>;
using D = std::vector<double>;

TEST(Metrics, HandWorkedRegression) {
  EXPECT_DOUBLE_EQ(pearson_r({1, 2, 3}, {2, 4, 6}), 1.0);
  EXPECT_DOUBLE_EQ(pearson_r({1, 2, 3}, {6, 4, 2}), -1.0);
  EXPECT_DOUBLE_EQ(r2_pearson({1, 2, 3}, {6, 4, 2}), 1.0) << "r^2 is the square of r, whatever its sign";
  EXPECT_TRUE(std::isnan(pearson_r({5, 5, 5}, {1, 2, 3}))) << "constant predictions have no correlation";
  // scikit-learn's r2_score documentation example.
  EXPECT_NEAR(r2_score({2.5, 0.0, 2, 8}, {3, -0.5, 2, 7}), 0.9486081370449679, 1e-15);
  EXPECT_DOUBLE_EQ(r2_score({5, 5, 5}, {1, 2, 3}), -13.5);  // 1 - (16 + 9 + 4) / (1 + 0 + 1)
  EXPECT_DOUBLE_EQ(r2_score({2, 2}, {2, 2}), 1.0);
  EXPECT_DOUBLE_EQ(r2_score({1, 3}, {2, 2}), 0.0);
  EXPECT_DOUBLE_EQ(mse({1, 2}, {3, 2}), 2.0);
  EXPECT_DOUBLE_EQ(rmse({1, 2}, {3, 2}), std::sqrt(2.0));
}

TEST(Metrics, HandWorkedClassification) {
  // scikit-learn's f1_score example: classes 0, 1, 2; F1 per class 0.8, 0, 0.
  const I t = {0, 1, 2, 0, 1, 2}, p = {0, 2, 1, 0, 0, 1};
  EXPECT_NEAR(f1_macro(p, t), 0.26666666666666666, 1e-15);
  // A class absent from the truth (3 predicted once) does not count unless all classes are asked for.
  const I t2 = {0, 0, 1, 1}, p2 = {0, 3, 1, 1};
  EXPECT_DOUBLE_EQ(f1_macro(p2, t2), (2.0 / 3.0 + 1.0) / 2.0);
  EXPECT_DOUBLE_EQ(f1_macro(p2, t2, {std::nullopt, true, 4}), (2.0 / 3.0 + 1.0 + 0 + 0) / 4.0);
  // Ignoring the unlabelled class 0.
  const I t3 = {0, 0, 1, 2, 2}, p3 = {1, 2, 1, 2, 1};
  EXPECT_DOUBLE_EQ(accuracy(p3, t3, {0, false, 3}), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(accuracy(p3, t3), 2.0 / 5.0);
  // kappa: p_o = 0.75, p_e = 0.5.
  EXPECT_DOUBLE_EQ(cohen_kappa({0, 1, 1, 1}, {0, 0, 1, 1}), 0.5);
  // Binary, positive class 1: tp 1, fp 1, fn 1.
  EXPECT_DOUBLE_EQ(precision({1, 1, 0, 0}, {1, 0, 1, 0}), 0.5);
  EXPECT_DOUBLE_EQ(recall({1, 1, 0, 0}, {1, 0, 1, 0}), 0.5);
  EXPECT_DOUBLE_EQ(f1({1, 1, 0, 0}, {1, 0, 1, 0}), 0.5);
  EXPECT_DOUBLE_EQ(precision({0, 0}, {1, 0}), 0.0) << "no predicted positive: 0 as zero_division";
  // AUROC: scikit-learn's example, and all-tied scores.
  EXPECT_DOUBLE_EQ(auroc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(auroc({0.5, 0.5, 0.5, 0.5}, {0, 1, 0, 1}), 0.5);
  EXPECT_TRUE(std::isnan(auroc({0.2, 0.3}, {1, 1})));
  // Dice pooled over pixels, threshold 0.5 exclusive.
  EXPECT_DOUBLE_EQ(dice({0.6, 0.4, 0.9, 0.5}, {1, 1, 0, 0}), 0.5);
  EXPECT_DOUBLE_EQ(dice({1, 1}, {1, 1}), 1.0);
}

TEST(Metrics, AgreeWithScikitLearnOnRandomData) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> gauss;
  nlohmann::json cases = nlohmann::json::array();
  for (int c = 0; c < 4; ++c) {
    D t(500), p(500);
    for (std::size_t i = 0; i < t.size(); ++i) {
      t[i] = gauss(rng);
      p[i] = 0.6 * t[i] + gauss(rng) * (0.3 + c * 0.3);
    }
    cases.push_back({{"kind", "regression"}, {"pred", p}, {"truth", t}});
  }
  for (int c = 0; c < 4; ++c) {
    I t(400), p(400);
    D s(400);
    for (std::size_t i = 0; i < t.size(); ++i) {
      t[i] = gauss(rng) > 0.3;
      s[i] = std::round((0.5 + 0.3 * (t[i] ? 1 : -1) * (c + 1) / 4.0 + 0.3 * gauss(rng)) * 20) / 20;  // many ties
      p[i] = s[i] > 0.5;
    }
    cases.push_back({{"kind", "binary"}, {"pred", p}, {"truth", t}, {"scores", s}});
  }
  for (int c = 0; c < 4; ++c) {
    I t(600), p(600);
    for (std::size_t i = 0; i < t.size(); ++i) {
      t[i] = static_cast<std::int64_t>(rng() % 5);
      if (c == 1 && t[i] == 3) t[i] = 2;  // a class absent from the truth
      p[i] = rng() % 3 == 0 ? static_cast<std::int64_t>(rng() % 5) : t[i];
    }
    nlohmann::json e = {{"kind", "multiclass"}, {"pred", p}, {"truth", t}, {"num_classes", 5}};
    e["ignore"] = c == 2 ? nlohmann::json(0) : nlohmann::json(nullptr);
    cases.push_back(e);
  }
  test::TempDir dir;
  test::write_file(dir / "cases.json", cases.dump());
  const auto r = test::run_python("metrics_reference.py", {(dir / "cases.json").string()});
  const auto ref = nlohmann::json::parse(r.out);
  ASSERT_EQ(ref.size(), cases.size());
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const auto& c = cases[k];
    const auto& want = ref[k];
    auto near = [&](const char* name, double got) {
      EXPECT_NEAR(got, want[name].get<double>(), 1e-12) << name << " case " << k;
    };
    if (c["kind"] == "regression") {
      const D p = c["pred"], t = c["truth"];
      near("pearson_r", pearson_r(p, t));
      near("r2", r2_pearson(p, t));
      near("r2_score", r2_score(p, t));
      near("mse", mse(p, t));
      near("rmse", rmse(p, t));
    } else if (c["kind"] == "binary") {
      const I p = c["pred"], t = c["truth"];
      const D s = c["scores"];
      near("accuracy", accuracy(p, t));
      near("precision", precision(p, t));
      near("recall", recall(p, t));
      near("f1", f1(p, t));
      near("auroc", auroc(s, t));
      std::vector<std::uint8_t> mask(t.begin(), t.end());
      near("dice", dice(s, mask));
    } else {
      const I p = c["pred"], t = c["truth"];
      ClassOptions o;
      if (!c["ignore"].is_null()) o.ignore = c["ignore"].get<std::int64_t>();
      o.num_classes = 5;
      near("accuracy", accuracy(p, t, o));
      near("f1_macro", f1_macro(p, t, o));
      near("kappa", cohen_kappa(p, t, o));
      o.all_classes = true;
      near("f1_macro_all", f1_macro(p, t, o));
    }
  }
}

}  // namespace
}  // namespace sbench::eval
