// The tile loader and the ResNet against hand-computed expectations: shapes, the eight dihedral
// transforms of a 3 x 3 plane, every example once per pass in an order fixed by (seed, epoch),
// tiles equal to the stored ones normalized with the card's constants for their sensor group.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cnn1d.hpp"
#include "resnet.hpp"
#include "sbench/store/street.hpp"
#include "street_loader.hpp"
#include "test_support.hpp"
#include "tile_loader.hpp"
#include "tile_stores.hpp"
#include "unet.hpp"

namespace sbench::learn {
namespace {

TEST(ResNet, ForwardShapesForAnyChannelsAndHead) {
  torch::manual_seed(0);
  ResNet r18(18, 8, 1, 8);
  EXPECT_EQ(r18->forward(torch::randn({2, 8, 255, 255})).sizes(), (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(r18->features(torch::randn({2, 8, 255, 255})).sizes(), (std::vector<std::int64_t>{2, 64}));
  ResNet r34(34, 13, 2, 4);
  EXPECT_EQ(r34->forward(torch::randn({3, 13, 64, 64})).sizes(), (std::vector<std::int64_t>{3, 2}));
  ResNet pair(18, 16, 1, 4);  // poverty change: two 8-band tiles stacked
  EXPECT_EQ(pair->forward(torch::randn({1, 16, 255, 255})).sizes(), (std::vector<std::int64_t>{1, 1}));
  // torchvision's ResNet-18 at width 64 with 3 channels and 1000 classes has 11,689,512 parameters.
  ResNet tv(18, 3, 1000, 64);
  std::int64_t count = 0;
  for (const auto& p : tv->parameters()) count += p.numel();
  EXPECT_EQ(count, 11689512);
  ResNet tv34(34, 3, 1000, 64);
  count = 0;
  for (const auto& p : tv34->parameters()) count += p.numel();
  EXPECT_EQ(count, 21797672);  // torchvision resnet34
  EXPECT_EQ(tv->head_parameters().size(), 2u);
  EXPECT_EQ(tv->backbone_parameters().size() + 2, tv->parameters().size());
}

TEST(UNet, OutputMapsHaveTheInputSize) {
  torch::manual_seed(0);
  UNet cropland(7, 1, 4);  // 50 x 50: padded to 64 inside, cropped back
  EXPECT_EQ(cropland->forward(torch::randn({2, 7, 50, 50})).sizes(), (std::vector<std::int64_t>{2, 1, 50, 50}));
  UNet fields(3, 1, 4);
  EXPECT_EQ(fields->forward(torch::randn({1, 3, 224, 224})).sizes(), (std::vector<std::int64_t>{1, 1, 224, 224}));
  UNet classes(13, 5, 4);
  EXPECT_EQ(classes->forward(torch::randn({1, 13, 64, 64})).sizes(), (std::vector<std::int64_t>{1, 5, 64, 64}));
  // The 2015 paper's U-Net at width 64 with padded convolutions and BatchNorm, counted by hand: a
  // double convolution a -> b has 9ab + 9bb weights and 2 x 2b BatchNorm parameters; the up path
  // has 2 x 2 transposed convolutions 2c -> c with bias; the head a 1 x 1 convolution with bias.
  auto dc = [](std::int64_t a, std::int64_t b) { return 9 * a * b + 9 * b * b + 4 * b; };
  std::int64_t want = dc(3, 64) + dc(64, 128) + dc(128, 256) + dc(256, 512) + dc(512, 1024) + 64 * 3 + 3;
  for (std::int64_t c : {512, 256, 128, 64}) want += 2 * c * c * 4 + c + dc(2 * c, c);
  EXPECT_EQ(want, 31037763);
  UNet paper(3, 3, 64);
  std::int64_t count = 0;
  for (const auto& p : paper->parameters()) count += p.numel();
  EXPECT_EQ(count, want);
  EXPECT_EQ(paper->head_parameters().size(), 2u);
}

TEST(Cnn1d, OneOutputRowPerSeries) {
  torch::manual_seed(0);
  Cnn1d yield(289, 1, 8);  // crop yield: 32 bins x 9 bands + NDVI, 32 steps
  EXPECT_EQ(yield->forward(torch::randn({2, 289, 1, 32})).sizes(), (std::vector<std::int64_t>{2, 1}));
  Cnn1d kenya(15, 6, 8);  // 14 bands + the observed-day mask, 365 days, 6 classes
  EXPECT_EQ(kenya->forward(torch::randn({3, 15, 365})).sizes(), (std::vector<std::int64_t>{3, 6}));
  Cnn1d one(8, 17, 4);  // a single step still works (no pooling below length 2)
  one->eval();          // BatchNorm needs more than one value per channel to train
  EXPECT_EQ(one->forward(torch::randn({1, 8, 1, 1})).sizes(), (std::vector<std::int64_t>{1, 17}));
}

TEST(TileLoader, SeriesAreStackedAsChannelsOverTimeAndNeverFlipped) {
  test::TempDir dir;
  // Crop-yield histograms whose every value is known: hist[b][t][c] = b + 100 t + 10000 c.
  test::write_tile_store(dir / "yield.h5", "crop_yield", 3, [](store::Example& e, int r) {
    float* h = e.as<float>("hist");
    for (int b = 0; b < 32; ++b)
      for (int t = 0; t < 32; ++t)
        for (int c = 0; c < 9; ++c) h[(b * 32 + t) * 9 + c] = static_cast<float>(b + 100 * t + 10000 * c + r);
    float* ndvi = e.as<float>("ndvi");
    for (int t = 0; t < 32; ++t) ndvi[t] = 0.01f * static_cast<float>(t) + static_cast<float>(r);
    e.set("yield", r);
  });
  store::StoreReader s(dir / "yield.h5");
  const auto& task = TaskRegistry::builtin().get("crop_yield");
  const auto inputs = tile_inputs(task, s);
  ASSERT_EQ(inputs, (std::vector<std::string>{"hist", "ndvi"}));
  LoaderOptions o;
  o.batch_size = 3;
  TileLoader loader(s, inputs,
                    card_normalizer(task, s, inputs, std::vector<double>(289, 0.0), std::vector<double>(289, 1.0)), o);
  EXPECT_EQ(loader.channels(), 289);
  EXPECT_EQ(loader.height(), 1);
  EXPECT_EQ(loader.width(), 32);
  int batches = 0;
  loader.pass({0, 1, 2}, true, /*augment=*/true, 5, 0, [&](TileBatch& b) {
    ++batches;
    for (std::size_t e = 0; e < b.rows.size(); ++e) {
      const int r = static_cast<int>(b.rows[e]);
      auto x = b.x[static_cast<std::int64_t>(e)];
      for (int c : {0, 4, 8})
        for (int bin : {0, 7, 31})
          for (int t : {0, 13, 31}) {
            EXPECT_EQ(x[c * 32 + bin][0][t].item<float>(), static_cast<float>(bin + 100 * t + 10000 * c + r));
          }
      for (int t : {0, 31}) EXPECT_FLOAT_EQ(x[288][0][t].item<float>(), 0.01f * static_cast<float>(t) + r);
    }
    return true;
  });
  EXPECT_EQ(batches, 1);
  // Statistics of a (band, bin) channel: bin b of band c over time, t = 0..31.
  std::vector<double> mean, sd;
  channel_statistics(s, inputs, {0}, mean, sd);
  ASSERT_EQ(mean.size(), 289u);
  EXPECT_NEAR(mean[2 * 32 + 5], 5 + 100 * 15.5 + 20000, 1e-9);
  EXPECT_NEAR(sd[2 * 32 + 5], 100 * std::sqrt((32.0 * 32.0 - 1) / 12.0), 1e-9);
}

TEST(TileLoader, AugmentationsAreTheEightSymmetriesOfTheSquare) {
  const float src[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto apply = [&](int op) {
    std::vector<float> dst(9);
    augment_plane(src, dst.data(), 3, 3, op);
    return dst;
  };
  EXPECT_EQ(apply(0), (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(apply(1), (std::vector<float>{3, 6, 9, 2, 5, 8, 1, 4, 7}));  // np.rot90
  EXPECT_EQ(apply(2), (std::vector<float>{9, 8, 7, 6, 5, 4, 3, 2, 1}));  // np.rot90(k=2)
  EXPECT_EQ(apply(3), (std::vector<float>{7, 4, 1, 8, 5, 2, 9, 6, 3}));  // np.rot90(k=3)
  EXPECT_EQ(apply(4), (std::vector<float>{3, 2, 1, 6, 5, 4, 9, 8, 7}));  // np.fliplr
  EXPECT_EQ(apply(5), (std::vector<float>{1, 4, 7, 2, 5, 8, 3, 6, 9}));  // np.rot90(np.fliplr): transpose
  std::set<std::vector<float>> all;
  for (int op = 0; op < 8; ++op) all.insert(apply(op));
  EXPECT_EQ(all.size(), 8u);
  // Not square: mirrors only.
  const float r[6] = {1, 2, 3, 4, 5, 6};
  std::vector<float> d(6);
  augment_plane(r, d.data(), 2, 3, 1);
  EXPECT_EQ(d, (std::vector<float>{3, 2, 1, 6, 5, 4}));
  augment_plane(r, d.data(), 2, 3, 2);
  EXPECT_EQ(d, (std::vector<float>{4, 5, 6, 1, 2, 3}));
}

// Brick-kiln tiles whose every value is known: channel c of example r at (i, j) is
// 100 r + c + i / 2 + j / 4 (exact in float).
float kiln_value(int r, int c, int i, int j) {
  return static_cast<float>(100 * r + c) + static_cast<float>(i) * 0.5f + static_cast<float>(j) * 0.25f;
}

void write_kiln(const std::filesystem::path& path, int n) {
  test::write_tile_store(path, "brick_kiln", n, [](store::Example& e, int r) {
    float* x = e.as<float>("x");
    for (int c = 0; c < 13; ++c)
      for (int i = 0; i < 64; ++i)
        for (int j = 0; j < 64; ++j) x[(c * 64 + i) * 64 + j] = kiln_value(r, c, i, j);
    e.set("label", r % 2);
  });
}

TEST(TileLoader, EachExampleOncePerPassInAnOrderFixedBySeedAndEpoch) {
  test::TempDir dir;
  write_kiln(dir / "kiln.h5", 20);
  store::StoreReader s(dir / "kiln.h5");
  const auto& task = TaskRegistry::builtin().get("brick_kiln");
  const auto inputs = tile_inputs(task, s);
  ASSERT_EQ(inputs, (std::vector<std::string>{"x"}));
  // The card does not normalize brick kilns: mean 0, std 1 leaves the values as stored.
  auto norm = card_normalizer(task, s, inputs, std::vector<double>(13, 0.0), std::vector<double>(13, 1.0));
  LoaderOptions o;
  o.batch_size = 6;
  o.threads = 2;
  o.prefetch = 2;
  TileLoader loader(s, inputs, norm, o);
  std::vector<std::size_t> rows(20);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;

  auto run = [&](std::uint64_t seed, std::int64_t epoch, bool augment) {
    std::vector<std::size_t> seen;
    std::vector<std::int64_t> sizes;
    std::int64_t expect_index = 0;
    loader.pass(rows, true, augment, seed, epoch, [&](TileBatch& b) {
      EXPECT_EQ(b.index, expect_index++);
      EXPECT_EQ(b.x.size(0), static_cast<std::int64_t>(b.rows.size()));
      sizes.push_back(b.x.size(0));
      const float* x = b.x.data_ptr<float>();
      for (std::size_t e = 0; e < b.rows.size(); ++e) {
        const int r = static_cast<int>(b.rows[e]);
        const int op = augment ? augmentation_of(seed, epoch, b.rows[e]) : 0;
        std::vector<float> plane(64 * 64), want(64 * 64);
        for (int c = 0; c < 13; c += 6) {
          for (int i = 0; i < 64; ++i)
            for (int j = 0; j < 64; ++j) plane[i * 64 + j] = kiln_value(r, c, i, j);
          augment_plane(plane.data(), want.data(), 64, 64, op);
          const float* got = x + (e * 13 + static_cast<std::size_t>(c)) * 64 * 64;
          EXPECT_TRUE(std::equal(want.begin(), want.end(), got)) << "row " << r << " channel " << c << " op " << op;
        }
      }
      seen.insert(seen.end(), b.rows.begin(), b.rows.end());
      return true;
    });
    EXPECT_EQ(sizes, (std::vector<std::int64_t>{6, 6, 6, 2}));
    return seen;
  };
  const auto a = run(7, 0, true);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, rows) << "every example exactly once";
  EXPECT_EQ(run(7, 0, true), a) << "same seed and epoch, same order";
  EXPECT_EQ(a, pass_order(rows, true, 7, 0));
  EXPECT_NE(run(7, 1, false), a) << "a new shuffle each epoch";
  EXPECT_NE(run(8, 0, false), a);
  EXPECT_EQ(pass_order(rows, false, 7, 0), rows);
  // The augmentations used over the store cover several of the eight transforms.
  std::set<int> ops;
  for (std::size_t r = 0; r < 20; ++r) ops.insert(augmentation_of(7, 0, r));
  EXPECT_GE(ops.size(), 4u);

  // Stopping early: consume returns false after the first batch.
  int batches = 0;
  loader.pass(rows, true, false, 7, 0, [&](TileBatch&) {
    ++batches;
    return false;
  });
  EXPECT_EQ(batches, 1);

  // The extra hook (street images): called per batch with its rows and the pass's train, seed and
  // epoch, its tensors delivered with the batch.
  LoaderOptions with = o;
  with.extra = [](const std::vector<std::size_t>& r, bool train, std::uint64_t seed, std::int64_t epoch) {
    std::vector<std::int64_t> v(r.begin(), r.end());
    return std::vector<torch::Tensor>{torch::tensor(v),
                                      torch::tensor({static_cast<std::int64_t>(train), static_cast<std::int64_t>(seed),
                                                     static_cast<std::int64_t>(epoch)})};
  };
  TileLoader hooked(s, inputs, norm, with);
  for (const bool train : {true, false}) {
    std::size_t n = 0;
    hooked.pass(rows, train, false, 9, 4, [&](TileBatch& b) {
      EXPECT_EQ(b.extra.size(), 2u);
      if (b.extra.size() != 2) return false;
      const std::vector<std::int64_t> want(b.rows.begin(), b.rows.end());
      EXPECT_TRUE(torch::equal(b.extra[0], torch::tensor(want)));
      EXPECT_TRUE(torch::equal(b.extra[1],
                               torch::tensor({static_cast<std::int64_t>(train), std::int64_t{9}, std::int64_t{4}})));
      n += b.rows.size();
      return true;
    });
    EXPECT_EQ(n, rows.size());
  }
}

TEST(TileLoader, NormalizesWithTheCardConstantsOfEachSensorGroup) {
  test::TempDir dir;
  const int years[4] = {2010, 2011, 2012, 2015};
  test::write_tile_store(dir / "dhs.h5", "poverty", 4, [&](store::Example& e, int r) {
    float* x = e.as<float>("x");
    const std::size_t plane = 255 * 255;
    for (std::size_t c = 0; c < 8; ++c) std::fill(x + c * plane, x + (c + 1) * plane, c == 7 ? 50.0f : 0.1f);
    x[5 * plane + 3] = std::nanf("");  // a NaN pixel of TEMP1
    e.set("year", years[r]);
    e.set("asset_index", r);
  });
  store::StoreReader s(dir / "dhs.h5");
  const auto& task = TaskRegistry::builtin().get("poverty");
  const auto inputs = tile_inputs(task, s);
  auto norm = card_normalizer(task, s, inputs, std::vector<double>(8, 0.0), std::vector<double>(8, 1.0));
  EXPECT_EQ(norm.mean.size(), 2u) << "DMSP and VIIRS tables";
  TileLoader loader(s, inputs, norm, {});
  const auto b = loader.batch({0, 1, 2, 3});
  auto at = [&](int e, int c, int k) { return b.x[e][c].flatten()[k].item<float>(); };
  for (int e = 0; e < 4; ++e) {
    // SB:sustainbench/datasets/poverty_dataset.py MEANS / STD_DEVS (SUSTAINBENCH.md 2.A)
    EXPECT_FLOAT_EQ(at(e, 0, 100), static_cast<float>((0.1f - 0.06547681f) * (1.0f / 0.031534348f)));
    EXPECT_FLOAT_EQ(at(e, 6, 7), static_cast<float>((0.1f - 0.2542566f) * (1.0f / 0.06909249f)));
    const bool dmsp = years[e] <= 2011;
    const float m = dmsp ? 41.69006032536221f : 3.443405293536357f;
    const float sd = dmsp ? 109.7289863161683f : 10.97284745670896f;
    EXPECT_FLOAT_EQ(at(e, 7, 0), (50.0f - m) * (1.0f / sd)) << "year " << years[e];
    EXPECT_EQ(at(e, 5, 3), 0.0f) << "a NaN pixel becomes the band mean";
  }
}

TEST(TileLoader, ChannelStatisticsOfTheSampledExamples) {
  test::TempDir dir;
  write_kiln(dir / "kiln.h5", 3);
  store::StoreReader s(dir / "kiln.h5");
  std::vector<double> mean, sd;
  channel_statistics(s, {"x"}, {0, 2}, mean, sd);
  ASSERT_EQ(mean.size(), 13u);
  // Channel c over rows 0 and 2: 100 r + c + i/2 + j/4 with i, j uniform on 0..63; the row term
  // has mean 100 and variance 100^2, i/2 variance (64^2 - 1) / 12 / 4, j/4 that / 4.
  const double var = 10000.0 + (4096.0 - 1) / 12.0 / 4.0 + (4096.0 - 1) / 12.0 / 16.0;
  for (int c = 0; c < 13; ++c) {
    EXPECT_NEAR(mean[c], 100.0 + c + 31.5 * 0.5 + 31.5 * 0.25, 1e-9);
    EXPECT_NEAR(sd[c], std::sqrt(var), 1e-9);
  }
}

TEST(TileLoader, TimeStepsAreEvenlySpacedInEvaluationAndDrawnInTraining) {
  // Valid dates at steps 2, 3, 5, 8, 9, 12 of 16.
  std::vector<std::int32_t> dates(16, 0);
  for (int t : {2, 3, 5, 8, 9, 12}) dates[static_cast<std::size_t>(t)] = 20170101 + t;
  // Evenly spaced, k = 3 of 6: positions (2j + 1) * 6 / (2 * 3) -> 1, 3, 5 -> steps 3, 8, 12.
  EXPECT_EQ(pick_steps(dates.data(), 16, 3, false, 0, 0, 0, 0), (std::vector<std::int64_t>{3, 8, 12}));
  EXPECT_EQ(pick_steps(dates.data(), 16, 6, false, 0, 0, 0, 0), (std::vector<std::int64_t>{2, 3, 5, 8, 9, 12}));
  // More wanted than valid: each valid step once (the loader leaves the other slots empty).
  EXPECT_EQ(pick_steps(dates.data(), 16, 8, true, 0, 0, 0, 0), (std::vector<std::int64_t>{2, 3, 5, 8, 9, 12}));
  EXPECT_TRUE(pick_steps(std::vector<std::int32_t>(16, 0).data(), 16, 4, false, 0, 0, 0, 0).empty());
  EXPECT_EQ(pick_steps(nullptr, 4, 2, false, 0, 0, 0, 0), (std::vector<std::int64_t>{1, 3})) << "no dates: all valid";
  // Training: a subset of valid steps in time order, fixed by (seed, epoch, row, input).
  std::set<std::vector<std::int64_t>> seen;
  for (int epoch = 0; epoch < 20; ++epoch) {
    const auto got = pick_steps(dates.data(), 16, 3, true, 7, epoch, 5, 1);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    EXPECT_EQ(std::set<std::int64_t>(got.begin(), got.end()).size(), 3u) << "no repeats when enough are valid";
    for (auto t : got) EXPECT_NE(dates[static_cast<std::size_t>(t)], 0);
    EXPECT_EQ(pick_steps(dates.data(), 16, 3, true, 7, epoch, 5, 1), got);
    seen.insert(got);
  }
  EXPECT_GT(seen.size(), 5u) << "other epochs draw other steps";
}

// Crop type's three sensors: every sampled plane equals the stored one at the picked date,
// normalized with the card's constants of the tile's country, then the validity planes.
TEST(TileLoader, TimeSeriesOfTilesStackTheSampledDatesOfEachSensor) {
  test::TempDir dir;
  test::write_tile_store(dir / "ct.h5", "crop_type_africa", 3, [](store::Example& e, int r) {
    auto* s1 = e.as<float>("s1");
    auto* s2 = e.as<std::int32_t>("s2");
    auto* planet = e.as<std::int32_t>("planet");
    auto* d1 = e.as<std::int32_t>("s1_dates");
    auto* d2 = e.as<std::int32_t>("s2_dates");
    for (int t = 0; t < 256; ++t) {
      d1[t] = t < 10 ? 20170101 + t : 0;
      d2[t] = (r != 2 && t >= 3 && t < 7) ? 20170201 + t : 0;  // tile 2: no Sentinel-2 date at all
      for (int i = 0; i < 4096; ++i) {
        // s1 varies along rows (so a flip or turn shows), s2 is constant per plane.
        for (int c = 0; c < 3; ++c) s1[(c * 256 + t) * 4096 + i] = static_cast<float>(c * 1000 + t) + 0.01f * (i / 64);
        for (int c = 0; c < 10; ++c) s2[(c * 256 + t) * 4096 + i] = c * 1000 + t * 10;
      }
    }
    std::fill(planet, planet + 4 * 256 * 4096, 0);
    e.set("country", std::string(r == 1 ? "southsudan" : "ghana"));
  });
  store::StoreReader s(dir / "ct.h5");
  const auto& task = TaskRegistry::builtin().get("crop_type_africa");
  const auto inputs = tile_inputs(task, s);
  EXPECT_EQ(inputs, (std::vector<std::string>{"s1", "s2", "planet"})) << "dates are not stacked";
  LoaderOptions o;
  o.batch_size = 3;
  o.time_steps = 2;
  TileLoader loader(s, inputs,
                    card_normalizer(task, s, inputs, std::vector<double>(17, 0.0), std::vector<double>(17, 1.0)), o);
  EXPECT_EQ(loader.channels(), 2 * (3 + 1) + 2 * (10 + 1) + 2 * (4 + 1));
  EXPECT_EQ(loader.series_channels(), (std::vector<std::int64_t>{3, 10, 4}));
  const auto b = loader.batch({0, 1, 2});
  const auto& norm = task.normalization;
  auto constants = [&](const std::string& input, const std::string& country, std::size_t band) {
    for (const auto& n : norm) {
      if (n.input == input && n.select_equals && *n.select_equals == country)
        return std::make_pair(n.mean[band], n.std[band]);
    }
    return std::make_pair(0.0, 1.0);
  };
  for (int r = 0; r < 3; ++r) {
    const std::string country = r == 1 ? "southsudan" : "ghana";
    // s1: 10 valid steps, k = 2: (2j + 1) * 10 / 4 -> 2, 7.
    for (int j = 0; j < 2; ++j)
      for (int c = 0; c < 3; ++c) {
        const auto [m, sd] = constants("s1", country, static_cast<std::size_t>(c));
        const int t = j == 0 ? 2 : 7;
        EXPECT_NEAR(b.x[r][j * 3 + c][10][20].item<double>(), (c * 1000 + t + 0.1 - m) / sd, 1e-3)
            << r << " " << j << " " << c;
      }
    EXPECT_EQ(b.x[r][6][0][0].item<float>(), 1.0f);
    EXPECT_EQ(b.x[r][7][63][63].item<float>(), 1.0f);
    // s2 starts at channel 8: valid steps 3..6, k = 2: (2j + 1) * 4 / 4 -> 1, 3 -> steps 4, 6.
    for (int j = 0; j < 2; ++j)
      for (int c = 0; c < 10; ++c) {
        const auto [m, sd] = constants("s2", country, static_cast<std::size_t>(c));
        const int t = j == 0 ? 4 : 6;
        const double want = r == 2 ? 0.0 : (c * 1000 + t * 10 - m) / sd;
        EXPECT_NEAR(b.x[r][8 + j * 10 + c][5][5].item<double>(), want, 1e-3) << r << " " << j << " " << c;
      }
    EXPECT_EQ(b.x[r][28][0][0].item<float>(), r == 2 ? 0.0f : 1.0f) << "validity of tile " << r;
    EXPECT_EQ(b.x[r][29][0][0].item<float>(), r == 2 ? 0.0f : 1.0f);
  }
  // PlanetScope (channels 30-39) has no valid date: zeros and empty slots.
  EXPECT_EQ(b.x.narrow(1, 30, 10).abs().max().item<float>(), 0.0f);
  // A training pass: random dates of each series, and every plane of an example flipped and turned
  // as its augmentation says (s1 varies along rows, so the transform shows).
  std::size_t seen = 0;
  loader.pass({0, 1, 2}, true, true, 5, 3, [&](TileBatch& tb) -> bool {
    for (std::size_t e = 0; e < tb.rows.size(); ++e) {
      const std::size_t r = tb.rows[e];
      const int op = augmentation_of(5, 3, r);
      std::vector<std::int32_t> d1(256, 0);
      for (int t = 0; t < 10; ++t) d1[static_cast<std::size_t>(t)] = 20170101 + t;
      const auto steps = pick_steps(d1.data(), 256, 2, true, 5, 3, r, 0);
      const std::string country = r == 1 ? "southsudan" : "ghana";
      for (int j = 0; j < 2; ++j) {
        const auto [m, sd] = constants("s1", country, 1);
        std::vector<float> plane(4096), want(4096);
        for (int i = 0; i < 4096; ++i) {
          plane[static_cast<std::size_t>(i)] = static_cast<float>(
              (1000.0 + static_cast<double>(steps[static_cast<std::size_t>(j)]) + 0.01f * (i / 64) - m) / sd);
        }
        augment_plane(plane.data(), want.data(), 64, 64, op);
        const auto got = tb.x[static_cast<std::int64_t>(e)][j * 3 + 1].contiguous();
        for (int i = 0; i < 4096; i += 97) {
          EXPECT_NEAR(got.data_ptr<float>()[i], want[static_cast<std::size_t>(i)], 1e-4) << r << " op " << op;
        }
      }
      ++seen;
    }
    return true;
  });
  EXPECT_EQ(seen, 3u);
  EXPECT_TRUE(augmentation_of(5, 3, 0) != 0 || augmentation_of(5, 3, 1) != 0 || augmentation_of(5, 3, 2) != 0)
      << "the pass must transform some tile";
  o.time_steps = 0;
  EXPECT_THROW(
      TileLoader(s, inputs,
                 card_normalizer(task, s, inputs, std::vector<double>(17, 0.0), std::vector<double>(17, 1.0)), o),
      InputError);
}

TEST(TileLoader, MasksGetTheTransformOfTheirTile) {
  test::TempDir dir;
  // Cropland tiles and masks whose every value is known; the mask is not symmetric.
  test::write_tile_store(dir / "crop.h5", "cropland", 6, [](store::Example& e, int r) {
    float* x = e.as<float>("x");
    auto* m = e.as<std::uint8_t>("mask");
    for (int i = 0; i < 50; ++i)
      for (int j = 0; j < 50; ++j) {
        for (int c = 0; c < 7; ++c) x[(c * 50 + i) * 50 + j] = static_cast<float>(r * 10000 + c * 1000 + i * 50 + j);
        m[i * 50 + j] = (i < 10 + r && j < 30) ? 1 : 0;
      }
  });
  store::StoreReader s(dir / "crop.h5");
  const auto& task = TaskRegistry::builtin().get("cropland");
  const auto inputs = tile_inputs(task, s);
  LoaderOptions o;
  o.batch_size = 4;
  o.mask = "mask";
  TileLoader loader(s, inputs,
                    card_normalizer(task, s, inputs, std::vector<double>(7, 0.0), std::vector<double>(7, 1.0)), o);
  std::size_t seen = 0;
  loader.pass({0, 1, 2, 3, 4, 5}, true, true, 11, 2, [&](TileBatch& b) -> bool {
    EXPECT_TRUE(b.y.defined());
    if (!b.y.defined()) return false;
    EXPECT_EQ(b.y.sizes(), (std::vector<std::int64_t>{b.x.size(0), 50, 50}));
    for (std::size_t e = 0; e < b.rows.size(); ++e) {
      const int r = static_cast<int>(b.rows[e]);
      const int op = augmentation_of(11, 2, b.rows[e]);
      std::vector<float> mask(2500), tile(2500), want_mask(2500), want_tile(2500);
      for (int i = 0; i < 50; ++i)
        for (int j = 0; j < 50; ++j) {
          mask[i * 50 + j] = (i < 10 + r && j < 30) ? 1.0f : 0.0f;
          tile[i * 50 + j] = static_cast<float>(r * 10000 + 3 * 1000 + i * 50 + j);
        }
      augment_plane(mask.data(), want_mask.data(), 50, 50, op);
      augment_plane(tile.data(), want_tile.data(), 50, 50, op);
      const float* got_mask = b.y.data_ptr<float>() + e * 2500;
      const float* got_tile = b.x.data_ptr<float>() + (e * 7 + 3) * 2500;
      EXPECT_TRUE(std::equal(want_mask.begin(), want_mask.end(), got_mask)) << "row " << r << " op " << op;
      EXPECT_TRUE(std::equal(want_tile.begin(), want_tile.end(), got_tile)) << "row " << r << " op " << op;
    }
    seen += b.rows.size();
    return true;
  });
  EXPECT_EQ(seen, 6u);
  // Single labelled pixels (cropland's point_label) land where their tile pixel lands: found by the
  // tile's value there, which is unique. Example 3 has no label: nothing to learn from it.
  LoaderOptions po = o;
  po.mask.clear();
  po.point_label = {1, 0, 1, std::nan(""), 0, 1};
  po.point_row = {0, 7, 14, 21, 28, 35};
  po.point_col = {49, 46, 43, 40, 37, 34};
  TileLoader points(s, inputs,
                    card_normalizer(task, s, inputs, std::vector<double>(7, 0.0), std::vector<double>(7, 1.0)), po);
  seen = 0;
  points.pass({0, 1, 2, 3, 4, 5}, true, true, 11, 3, [&](TileBatch& b) -> bool {
    for (std::size_t e = 0; e < b.rows.size(); ++e) {
      const std::size_t r = b.rows[e];
      const float* y = b.y.data_ptr<float>() + e * 2500;
      const float* tile = b.x.data_ptr<float>() + (e * 7 + 3) * 2500;
      const float marker = static_cast<float>(r * 10000 + 3 * 1000 + po.point_row[r] * 50 + po.point_col[r]);
      int labelled = 0;
      for (int k = 0; k < 2500; ++k) {
        if (y[k] == -1.0f) continue;
        ++labelled;
        EXPECT_EQ(tile[k], marker) << "row " << r;
        EXPECT_EQ(y[k], static_cast<float>(po.point_label[r])) << "row " << r;
      }
      EXPECT_EQ(labelled, r == 3 ? 0 : 1) << "row " << r;
    }
    seen += b.rows.size();
    return true;
  });
  EXPECT_EQ(seen, 6u);
  o.mask = "image_label";  // not a mask
  EXPECT_THROW(
      TileLoader(s, inputs, card_normalizer(task, s, inputs, std::vector<double>(7, 0.0), std::vector<double>(7, 1.0)),
                 o),
      InputError);
}

TEST(TileLoader, RefusesAStoreWithoutTheTaskInputs) {
  test::TempDir dir;
  write_kiln(dir / "kiln.h5", 2);
  store::StoreReader s(dir / "kiln.h5");
  try {
    tile_inputs(TaskRegistry::builtin().get("poverty_change"), s);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no input 'x_before'"), std::string::npos) << e.what();
  }
}

}  // namespace
// Street images of clusters with 0, 2, 6 and 1 images (each image filled with its /street position):
// training draws K = 4 distinct images of the cluster, the same for the same (seed, epoch, row) and
// another draw in another epoch; evaluation takes the first K; the mask marks the images.
TEST(StreetSampler, DrawsDistinctImagesOfTheClusterAndMasksTheRest) {
  test::TempDir dir;
  test::write_tile_store(dir / "dhs.h5", "poverty", 4, [](store::Example&, int) {});
  const int counts[4] = {0, 2, 6, 1};
  {
    store::StreetWriter w(dir / "dhs.h5", dir / "street.h5", 8);
    std::vector<store::StreetImage> meta;
    std::vector<std::uint8_t> px;
    int at = 0;
    for (int r = 0; r < 4; ++r) {
      for (int k = 0; k < counts[r]; ++k, ++at) {
        meta.push_back({fmt::format("poverty-{:04d}", r), std::to_string(at), 10.0f, 0});
        px.insert(px.end(), 3 * 8 * 8, static_cast<std::uint8_t>(at));
      }
    }
    w.append(meta, px);
    w.finish("{}", "{}");
  }
  StreetSampler s(dir / "street.h5", 4);
  EXPECT_TRUE(s.pick(0, true, 1, 0).empty());
  const auto a = s.pick(2, true, 7, 3), b = s.pick(2, true, 7, 3), c = s.pick(2, true, 7, 4);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::set<std::int64_t>(a.begin(), a.end()).size(), 4u);
  for (auto v : a) EXPECT_TRUE(v >= 2 && v < 8) << v;  // cluster 2 holds /street images 2..7
  bool differs = a != c;
  for (int e = 5; e < 12 && !differs; ++e) differs = s.pick(2, true, 7, e) != a;
  EXPECT_TRUE(differs);
  EXPECT_EQ(s.pick(2, false, 7, 3), (std::vector<std::int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(s.pick(1, true, 7, 3).size(), 2u);
  const auto [x, mask] = s.batch({0, 1, 3}, false, 0, 0);
  EXPECT_EQ(x.sizes(), (std::vector<std::int64_t>{3, 4, 3, 8, 8}));
  EXPECT_TRUE(torch::equal(mask, torch::tensor({{0, 0, 0, 0}, {1, 1, 0, 0}, {1, 0, 0, 0}}, torch::kFloat32)));
  // Pixels: (value / 255 - 0.5) / 0.25 of the image's position; padding 0.
  EXPECT_NEAR(x[1][1][0][0][0].item<float>(), (1 / 255.0 - 0.5) / 0.25, 1e-6);
  EXPECT_NEAR(x[2][0][2][7][7].item<float>(), (8 / 255.0 - 0.5) / 0.25, 1e-6);
  EXPECT_EQ(x[0].abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(x[1][2].abs().sum().item<float>(), 0.0f);
  // A training batch holds, slot by slot, the images its draw picked (whole images, every pixel).
  const auto [xt, mt] = s.batch({2, 1}, true, 7, 3);
  const auto picks = s.pick(1, true, 7, 3);
  for (std::size_t j = 0; j < 4; ++j) {
    const auto want = torch::full({3, 8, 8}, static_cast<float>((a[j] / 255.0 - 0.5) / 0.25));
    EXPECT_TRUE(torch::allclose(xt[0][static_cast<std::int64_t>(j)], want)) << j;
  }
  for (std::size_t j = 0; j < 2; ++j) {
    const auto want = torch::full({3, 8, 8}, static_cast<float>((picks[j] / 255.0 - 0.5) / 0.25));
    EXPECT_TRUE(torch::allclose(xt[1][static_cast<std::int64_t>(j)], want)) << j;
  }
  EXPECT_TRUE(torch::equal(mt, torch::tensor({{1, 1, 1, 1}, {1, 1, 0, 0}}, torch::kFloat32)));
}

}  // namespace sbench::learn
