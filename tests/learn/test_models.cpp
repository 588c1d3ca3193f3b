// The models beyond plain supervision against independent expectations: Tile2Vec's neighbour
// search against a brute-force search, its triplets and triplet loss against hand-computed
// values, and its linear probe on embeddings whose classes are known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

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

}  // namespace
}  // namespace sbench::learn
