// The models beyond plain supervision against independent expectations: Tile2Vec's neighbour
// search against a brute-force search, its triplets and triplet loss against hand-computed
// values, and its linear probe on embeddings whose classes are known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "cnn_lstm.hpp"
#include "gp.hpp"
#include "maml.hpp"
#include "sbench/core/error.hpp"
#include "street_model.hpp"
#include "temporal_unet.hpp"
#include "test_support.hpp"
#include "tile2vec.hpp"

namespace sbench::learn {
namespace {

TEST(Tile2Vec, NearestNeighboursEqualABruteForceSearch) {
  // Clustered and spread points (duplicates included), as tiles of a survey area.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> lat, lon;
  for (int i = 0; i < 600; ++i) {
    const bool cluster = i % 3 == 0;
    lat.push_back(36.45 + (cluster ? 0.01 * u(rng) : 0.6 * u(rng)));
    lon.push_back(-120.25 + (cluster ? 0.01 * u(rng) : 0.6 * u(rng)));
  }
  lat.push_back(lat[5]);
  lon.push_back(lon[5]);
  const double c =
      std::cos(std::accumulate(lat.begin(), lat.end(), 0.0) / static_cast<double>(lat.size()) * M_PI / 180.0);
  for (std::size_t k : {1u, 5u, 8u}) {
    const auto got = nearest_neighbours(lat, lon, k);
    ASSERT_EQ(got.size(), lat.size());
    for (std::size_t i = 0; i < lat.size(); ++i) {
      std::vector<std::pair<double, std::size_t>> all;
      for (std::size_t j = 0; j < lat.size(); ++j) {
        if (j == i) continue;
        const double dx = (lon[i] - lon[j]) * c, dy = lat[i] - lat[j];
        all.emplace_back(dx * dx + dy * dy, j);
      }
      std::sort(all.begin(), all.end());
      ASSERT_EQ(got[i].size(), k);
      for (std::size_t m = 0; m < k; ++m) {
        EXPECT_EQ(got[i][m], all[m].second) << "point " << i << ", neighbour " << m << " of k = " << k;
      }
    }
  }
  EXPECT_EQ(nearest_neighbours({1.0, 2.0}, {3.0, 3.0}, 5)[0], (std::vector<std::size_t>{1}));
  // Points on a line (one longitude): the grid must not degenerate into millions of cells.
  std::vector<double> line_lat, line_lon;
  for (int i = 0; i < 2000; ++i) {
    line_lat.push_back(36.0 + 0.0001 * ((i * 7919) % 2000));
    line_lon.push_back(-120.0);
  }
  const auto on_line = nearest_neighbours(line_lat, line_lon, 2);
  for (std::size_t i = 0; i < on_line.size(); ++i) {  // one step away, then one or two (at the ends)
    ASSERT_EQ(on_line[i].size(), 2u);
    EXPECT_NEAR(std::abs(line_lat[i] - line_lat[on_line[i][0]]), 0.0001, 1e-9) << i;
    EXPECT_LE(std::abs(line_lat[i] - line_lat[on_line[i][1]]), 0.0002 + 1e-9) << i;
  }
}

TEST(Tile2Vec, TripletsDrawNeighboursNearAndDistantTilesElsewhere) {
  const std::vector<std::size_t> rows = {10, 11, 12, 13, 14, 15, 16, 17};
  const std::vector<std::vector<std::size_t>> near = {{1, 2}, {0}, {0, 3}, {2}, {5}, {4}, {7}, {6}};
  const std::vector<std::size_t> order = {3, 0, 7, 1, 6, 2, 5, 4};
  const auto t = triplet_rows(rows, near, order, 5, 2);
  ASSERT_EQ(t.size(), 24u);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t i = order[k];
    EXPECT_EQ(t[3 * k], rows[i]);
    const auto& n = near[i];
    EXPECT_TRUE(std::find(n.begin(), n.end(), t[3 * k + 1] - 10) != n.end()) << "anchor " << i;
    EXPECT_NE(t[3 * k + 2], rows[i]);
    EXPECT_TRUE(std::find(n.begin(), n.end(), t[3 * k + 2] - 10) == n.end()) << "anchor " << i;
  }
  EXPECT_EQ(triplet_rows(rows, near, order, 5, 2), t) << "a function of (seed, epoch)";
  EXPECT_NE(triplet_rows(rows, near, order, 5, 3), t);
}

TEST(Tile2Vec, TripletLossByHand) {
  // a = (0, 0), n = (3, 4): |a - n| = 5; d = (0, 6): |a - d| = 6. margin 2: max(0, 5 - 6 + 2) = 1.
  const auto a = torch::tensor({{0.0f, 0.0f}, {1.0f, 0.0f}});
  const auto n = torch::tensor({{3.0f, 4.0f}, {1.0f, 1.0f}});
  const auto d = torch::tensor({{0.0f, 6.0f}, {1.0f, 9.0f}});
  // second triple: |a - n| = 1, |a - d| = 9: max(0, 1 - 9 + 2) = 0. Mean 0.5.
  EXPECT_NEAR(triplet_loss(a, n, d, 2.0, 0.0).item<double>(), 0.5, 1e-6);
  // Norms: (0 + 5 + 6) and (1 + sqrt(2) + sqrt(82)): mean times 0.1 added.
  const double norms = (11.0 + 1.0 + std::sqrt(2.0) + std::sqrt(82.0)) / 2.0;
  EXPECT_NEAR(triplet_loss(a, n, d, 2.0, 0.1).item<double>(), 0.5 + 0.1 * norms, 1e-5);
}

TEST(Tile2Vec, TheProbeSeparatesEmbeddingsOfKnownClasses) {
  torch::manual_seed(3);
  Tile2Vec model(4, 5, 2);  // embeddings of 16
  // Three classes (codes 0, 2, 4 of 5) whose embeddings differ in the mean of one coordinate each.
  auto z = torch::randn({90, 16});
  auto y = torch::empty({90}, torch::kInt64);
  for (int i = 0; i < 90; ++i) {
    const int cls = (i % 3) * 2;
    y[i] = cls;
    z[i][cls] += 4.0f;
  }
  z = z * 3.0f + 7.0f;  // the probe standardizes
  model->fit_probe(z, y, 1e-4);
  model->eval();
  // The probe alone, through the standardization buffers: every training embedding classified right.
  auto named = model->named_buffers();
  const auto zs = (z - named["z_mean"]) / named["z_std"];
  auto params = model->named_parameters();
  const auto logits = torch::matmul(zs, params["probe.weight"].t()) + params["probe.bias"];
  EXPECT_TRUE(torch::equal(logits.argmax(1), y));
  EXPECT_NEAR(named["z_mean"][0].item<double>(), z.select(1, 0).mean().item<double>(), 1e-4);
  EXPECT_EQ(model->forward(torch::randn({2, 4, 32, 32})).sizes(), (std::vector<std::int64_t>{2, 5}));
}

TEST(CnnLstm, OneOutputPerSeriesAndTheLastHiddenStateAsFeatures) {
  torch::manual_seed(1);
  // Crop yield: 32 bins x 9 bands of histograms and the NDVI channel over 32 steps.
  CnnLstm m(32 * 9 + 1, 1, 32, 9, 8);
  const auto x = torch::randn({3, 32 * 9 + 1, 1, 32});
  EXPECT_EQ(m->forward(x).sizes(), (std::vector<std::int64_t>{3, 1}));
  EXPECT_EQ(m->features(x).sizes(), (std::vector<std::int64_t>{3, 16}));
  // The head reads the features.
  m->eval();
  EXPECT_TRUE(torch::allclose(m->forward(x), m->head()->forward(m->features(x))));
  // A step's histogram reaches the output only through later steps: changing the last step
  // changes the output, and the series is read in order (reversing time changes it too).
  auto later = x.clone();
  later.select(3, 31).add_(1.0);
  EXPECT_FALSE(torch::allclose(m->forward(x), m->forward(later)));
  EXPECT_FALSE(torch::allclose(m->forward(x), m->forward(x.flip(3))));
  EXPECT_THROW(CnnLstm(10, 1, 32, 9, 8), UsageError);
}

// The GP correction against tests/python/gp_reference.py, Rasmussen and Williams' eqs. 2.41-2.42 in
// their own form, on random features, by location and by group.
TEST(GaussianProcess, PosteriorMeanEqualsTheTextbookFormula) {
  torch::manual_seed(5);
  const auto f64 = torch::kFloat64;
  const std::int64_t n = 40, m = 12, d = 5;
  const auto h_tr = torch::randn({n, d}, f64), h_te = torch::randn({m, d}, f64);
  const auto y = torch::randn({n}, f64);
  const auto w = torch::randn({d}, f64), b = torch::randn({1}, f64);
  GpSites tr, te;
  tr.year = torch::randint(2005, 2017, {n}, f64);
  te.year = torch::randint(2005, 2017, {m}, f64);
  GpParams p;
  p.sigma = 0.8;
  p.r_loc = 0.4;
  p.r_year = 1.2;
  p.sigma_e = 0.3;
  p.sigma_b = 0.05;
  auto list = [](const torch::Tensor& t) {
    const auto c = t.contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  auto rows = [&](const torch::Tensor& t) {
    std::vector<std::vector<double>> out;
    for (std::int64_t i = 0; i < t.size(0); ++i) out.push_back(list(t[i]));
    return out;
  };
  test::TempDir dir;
  for (const bool by_loc : {true, false}) {
    nlohmann::json in = {{"params",
                          {{"sigma", p.sigma},
                           {"r_loc", p.r_loc},
                           {"r_year", p.r_year},
                           {"sigma_e", p.sigma_e},
                           {"sigma_b", p.sigma_b}}},
                         {"h_train", rows(h_tr)},
                         {"h_test", rows(h_te)},
                         {"y_train", list(y)},
                         {"year_train", list(tr.year)},
                         {"year_test", list(te.year)},
                         {"head_w", list(w)},
                         {"head_b", b.item<double>()}};
    if (by_loc) {
      tr.loc = torch::rand({n, 2}, f64) * 5 + torch::tensor({35.0, -95.0}, f64);
      te.loc = torch::rand({m, 2}, f64) * 5 + torch::tensor({35.0, -95.0}, f64);
      in["loc_train"] = rows(tr.loc);
      in["loc_test"] = rows(te.loc);
    } else {
      tr.loc = te.loc = torch::Tensor();
      tr.group = torch::randint(0, 6, {n}, torch::kInt64);
      te.group = torch::randint(0, 6, {m}, torch::kInt64);
      std::vector<std::int64_t> gt(tr.group.data_ptr<std::int64_t>(), tr.group.data_ptr<std::int64_t>() + n);
      std::vector<std::int64_t> ge(te.group.data_ptr<std::int64_t>(), te.group.data_ptr<std::int64_t>() + m);
      in["group_train"] = gt;
      in["group_test"] = ge;
    }
    test::write_file(dir / "gp.json", in.dump());
    const auto ref = nlohmann::json::parse(test::run_python("gp_reference.py", {(dir / "gp.json").string()}).out);
    const auto got = gp_correct(h_tr, y, tr, h_te, te, w, b, p);
    ASSERT_EQ(ref.size(), static_cast<std::size_t>(m));
    for (std::int64_t i = 0; i < m; ++i) {
      EXPECT_NEAR(got[i].item<double>(), ref[static_cast<std::size_t>(i)].get<double>(), 1e-8)
          << (by_loc ? "by location" : "by group") << ", example " << i;
    }
  }
}

TEST(Maml, EpisodesDrawTwoClassesOfOneRegionAndNeverQueryTheSupport) {
  // Region A: classes 1 (3 points), 4 (2 points), 7 (1 point, never usable); region B: one class.
  const std::vector<std::string> region = {"A", "A", "B", "A", "A", "A", "B", "A"};
  const std::vector<std::int64_t> label = {1, 4, 2, 1, 7, 4, 2, 1};
  const auto groups = group_by_region(region, label);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].classes, (std::vector<std::int64_t>{1, 4, 7}));
  EXPECT_EQ(groups[0].points[0], (std::vector<std::size_t>{0, 3, 7}));
  for (std::int64_t step = 0; step < 20; ++step) {
    const Episode e = sample_episode(groups, 3, step, 1, 10);
    ASSERT_EQ(e.support.size(), 2u);
    EXPECT_EQ(label[e.support[0]], 1) << "label 0: the smaller class code";
    EXPECT_EQ(label[e.support[1]], 4);
    EXPECT_EQ(e.query.size(), 3u) << "2 + 1 other points of classes 1 and 4";
    for (std::size_t q = 0; q < e.query.size(); ++q) {
      EXPECT_NE(e.query[q], e.support[0]);
      EXPECT_NE(e.query[q], e.support[1]);
      EXPECT_EQ(label[e.query[q]], e.query_label[q] == 0 ? 1 : 4);
    }
    const Episode again = sample_episode(groups, 3, step, 1, 10);
    EXPECT_EQ(again.support, e.support);
    EXPECT_EQ(again.query, e.query);
  }
  EXPECT_THROW(sample_episode(group_by_region({"B", "B"}, {2, 2}), 0, 0, 0, 5), InputError);
}

// The meta-gradient of second-order MAML is the derivative of the query loss after adaptation:
// checked against central differences in double precision; the first-order variant drops the
// second derivatives and differs.
TEST(Maml, TheMetaGradientEqualsFiniteDifferencesOfTheAdaptedLoss) {
  torch::manual_seed(11);
  MamlCnn net(3, 2);
  net->to(torch::kFloat64);
  const auto sx = torch::randn({2, 3, 1, 12}, torch::kFloat64), qx = torch::randn({6, 3, 1, 12}, torch::kFloat64);
  const auto sy = torch::tensor({0, 1}, torch::kInt64), qy = torch::tensor({0, 1, 1, 0, 1, 0}, torch::kInt64);
  MamlSettings ms;
  ms.inner_lr = 0.3;
  ms.inner_steps = 2;
  auto query_loss = [&](const std::vector<torch::Tensor>& start, bool create_graph) {
    const auto w = adapt(*net, start, sx, sy, ms, create_graph);
    return torch::nn::functional::cross_entropy(net->forward_with(qx, w), qy);
  };
  EXPECT_EQ(net->forward(qx).sizes(), (std::vector<std::int64_t>{6, 2})) << "two logits per point";
  EXPECT_EQ(net->forward_with(qx.squeeze(2), net->parameters()).sizes(), (std::vector<std::int64_t>{6, 2}));
  auto params = net->parameters();
  const auto exact = torch::autograd::grad({query_loss(params, true)}, params);
  const auto first = torch::autograd::grad({query_loss(params, false)}, params, {}, false, false, true);
  const double eps = 1e-6;
  double largest = 0, first_order_gap = 0;
  for (std::size_t k : {0u, 2u, 4u, 6u}) {  // a weight of each convolution and of the head
    auto flat = params[k].detach().view(-1);
    for (std::int64_t i = 0; i < 3; ++i) {
      const double keep = flat[i].item<double>();
      std::vector<torch::Tensor> plus, minus;
      for (const auto& p : params) {
        plus.push_back(p.detach().clone().requires_grad_(true));
        minus.push_back(p.detach().clone().requires_grad_(true));
      }
      plus[k].detach().view(-1)[i] = keep + eps;
      minus[k].detach().view(-1)[i] = keep - eps;
      const double numeric =
          (query_loss(plus, false).item<double>() - query_loss(minus, false).item<double>()) / (2 * eps);
      const double analytic = exact[k].view(-1)[i].item<double>();
      EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-4 * std::abs(numeric)) << "parameter " << k << " element " << i;
      largest = std::max(largest, std::abs(numeric));
      if (first[k].defined())
        first_order_gap = std::max(first_order_gap, std::abs(first[k].view(-1)[i].item<double>() - numeric));
    }
  }
  EXPECT_GT(largest, 1e-4) << "the check must not pass on zeros";
  EXPECT_GT(first_order_gap, 1e-5) << "first-order MAML drops the second derivatives";
}

TEST(Maml, EpisodicPredictionLabelsEveryPointAndKeepsTheSupport) {
  torch::manual_seed(2);
  MamlCnn net(2, 4);
  // Two regions: R1 with classes 3 and 5 (5 points each), R2 with class 9 only (3 points).
  std::vector<std::string> region;
  std::vector<std::int64_t> label;
  for (int i = 0; i < 10; ++i) {
    region.push_back("R1");
    label.push_back(i % 2 == 0 ? 3 : 5);
  }
  for (int i = 0; i < 3; ++i) {
    region.push_back("R2");
    label.push_back(9);
  }
  // Class 5 is bright in channel 1: one support point each is enough after adaptation.
  auto x = torch::zeros({13, 2, 1, 10});
  for (int i = 0; i < 13; ++i) x[i][label[static_cast<std::size_t>(i)] == 5 ? 1 : 0] += 2.0;
  MamlSettings ms;
  ms.inner_lr = 0.5;
  ms.inner_steps = 10;
  std::vector<bool> support;
  const auto pred = episodic_predict(*net, x, group_by_region(region, label), 13, ms, 4, support);
  ASSERT_EQ(pred.size(), 13u);
  EXPECT_EQ(std::count(support.begin(), support.end(), true), 3) << "one per class and region";
  for (std::size_t i = 0; i < 13; ++i) {
    EXPECT_EQ(pred[i], label[i]) << "point " << i;
  }
  EXPECT_EQ(episodic_predict(*net, x, group_by_region(region, label), 13, ms, 4, support), pred) << "seeded";
}

// The temporal U-Net pools dates: their order does not matter, invalid dates do not count, and a
// sensor without any valid date contributes zeros.
TEST(TemporalUNet, PoolingIgnoresDateOrderAndInvalidDates) {
  torch::manual_seed(9);
  TemporalUNet net(std::vector<std::int64_t>{3, 2}, 4, 5, 4);
  net->eval();
  const std::int64_t n = 2, h = 20, w = 20;
  // Sensor 1: 4 x 3 planes + 4 validity planes; sensor 2: 4 x 2 + 4.
  auto x = torch::randn({n, 4 * 4 + 4 * 3, h, w});
  x.narrow(1, 12, 4).fill_(1.0);
  x.narrow(1, 12 + 3, 1).fill_(0.0);  // sensor 1's last date is padding
  x.narrow(1, 24, 4).fill_(1.0);
  const auto out = net->forward(x);
  EXPECT_EQ(out.sizes(), (std::vector<std::int64_t>{n, 5, h, w}));
  // Swap sensor 1's dates 0 and 2 (their bands move together; both valid).
  auto swapped = x.clone();
  swapped.narrow(1, 0, 3).copy_(x.narrow(1, 6, 3));
  swapped.narrow(1, 6, 3).copy_(x.narrow(1, 0, 3));
  EXPECT_TRUE(torch::allclose(net->forward(swapped), out, 1e-5, 1e-5));
  // The padded date's values are ignored.
  auto padded = x.clone();
  padded.narrow(1, 9, 3).fill_(100.0);
  EXPECT_TRUE(torch::allclose(net->forward(padded), out, 1e-5, 1e-5));
  // ... but a valid date's are not.
  auto changed = x.clone();
  changed.narrow(1, 3, 3).fill_(100.0);
  EXPECT_FALSE(torch::allclose(net->forward(changed), out, 1e-3, 1e-3));
  // No valid date for sensor 2: its pooled maps are zeros.
  auto none = x.clone();
  none.narrow(1, 24, 4).fill_(0.0);
  const auto pooled = net->pooled(none);
  EXPECT_EQ(pooled.size(1), 2 * 4 * 2);
  EXPECT_EQ(pooled.narrow(1, 8, 8).abs().max().item<float>(), 0.0f);
  EXPECT_THROW(net->forward(torch::randn({1, 27, h, w})), UsageError);
}

// Street-view pooling (issue 9): a cluster's street images in any slot order give the same output;
// pixels of masked (padding) slots have no effect; attention weights sum to 1 over the images and are
// 0 on padding; a cluster without any image gives the finite learned "empty" vector.
TEST(StreetModels, PoolingIgnoresImageOrderAndPadding) {
  torch::manual_seed(3);
  for (const auto mode : {Pooling::mean, Pooling::attention, Pooling::gated_attention}) {
    StreetNet net(18, 1, 4, mode);
    FusedNet fused(18, 8, 1, 4, mode);
    net->eval();
    fused->eval();
    torch::NoGradGuard no_grad;
    const auto street = torch::randn({3, 5, 3, 32, 32});
    auto mask = torch::ones({3, 5});
    mask.index_put_({1, torch::indexing::Slice(3, 5)}, 0);  // cluster 1: three images, two padding slots
    mask.index_put_({2}, 0);                                // cluster 2: none
    const auto tiles = torch::randn({3, 8, 32, 32});
    const auto out = net->forward_street({}, street, mask);
    const auto fout = fused->forward_street(tiles, street, mask);
    ASSERT_TRUE(torch::isfinite(out).all().item<bool>());
    ASSERT_TRUE(torch::isfinite(fout).all().item<bool>());
    // Permute the slots (images and mask together).
    const auto perm = torch::tensor({4, 2, 0, 3, 1}, torch::kLong);
    const auto out_p = net->forward_street({}, street.index_select(1, perm), mask.index_select(1, perm));
    const auto fout_p = fused->forward_street(tiles, street.index_select(1, perm), mask.index_select(1, perm));
    EXPECT_TRUE(torch::allclose(out, out_p, 1e-5, 1e-5)) << static_cast<int>(mode);
    EXPECT_TRUE(torch::allclose(fout, fout_p, 1e-5, 1e-5)) << static_cast<int>(mode);
    // Other pixels in the padding slots (and anywhere for the empty cluster): same output.
    auto noisy = street.clone();
    noisy.index_put_({1, torch::indexing::Slice(3, 5)}, torch::randn({2, 3, 32, 32}) * 10);
    noisy.index_put_({2}, torch::randn({5, 3, 32, 32}) * 10);
    EXPECT_TRUE(torch::allclose(out, net->forward_street({}, noisy, mask), 1e-5, 1e-5)) << static_cast<int>(mode);
    // The weights of the pooling: 1 over each cluster's images, 0 on padding and for no images.
    net->forward_street({}, street, mask);
    const auto w = net->pool()->last_weights();
    EXPECT_NEAR(w[0].sum().item<float>(), 1.0f, 1e-5);
    EXPECT_NEAR(w[1].sum().item<float>(), 1.0f, 1e-5);
    EXPECT_EQ(w[1].index({torch::indexing::Slice(3, 5)}).abs().sum().item<float>(), 0.0f);
    EXPECT_EQ(w[2].abs().sum().item<float>(), 0.0f);
    if (mode == Pooling::mean) {
      EXPECT_NEAR(w[1][0].item<float>(), 1.0f / 3, 1e-6);
    }
  }
  EXPECT_THROW(parse_pooling("max"), UsageError);
}

}  // namespace
}  // namespace sbench::learn
