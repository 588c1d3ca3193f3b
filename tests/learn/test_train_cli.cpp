// sbench train / predict on small stores with a planted relation between tiles and labels: the
// loss falls for each tile task, a run killed with SIGKILL and resumed ends with the weights of an
// uninterrupted run, predictions are a valid submission, and bad requests fail clearly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "maml.hpp"
#include "resnet.hpp"
#include "sbench/core/csv.hpp"
#include "sbench/store/street.hpp"
#include "test_support.hpp"
#include "tile2vec.hpp"
#include "tile_stores.hpp"

namespace sbench {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kPlane = 255 * 255;

// DHS clusters: the night lights carry the label (asset_index = NL / 20, the other targets
// functions of it), the other bands a smooth pattern.
void write_dhs(const fs::path& path, int n) {
  test::write_tile_store(path, "poverty", n, [](store::Example& e, int r) {
    float* x = e.as<float>("x");
    const float nl = static_cast<float>((r * 37) % 100);
    for (std::size_t c = 0; c < 7; ++c) {
      for (int i = 0; i < 255; ++i)
        for (int j = 0; j < 255; ++j) x[c * kPlane + i * 255 + j] = 0.1f + 0.05f * test::pattern(r + c, i, j);
    }
    std::fill(x + 7 * kPlane, x + 8 * kPlane, nl);
    e.set("year", 2010);
    e.set("asset_index", nl / 20.0);
    e.set("water_index", nl / 100.0);
    e.set("under5_mort", 120.0 - nl);
    e.set("women_bmi", 20.0 + nl / 25.0);
    e.set("women_edu", nl / 10.0);
    e.set("sanitation_index", 5.0 - nl / 50.0);
  });
}

// Brick kilns: a bright 12 x 12 square at an example-dependent place in every band of a kiln tile.
void write_kiln(const fs::path& path, int n) {
  test::write_tile_store(path, "brick_kiln", n, [](store::Example& e, int r) {
    float* x = e.as<float>("x");
    const bool kiln = (r * 7) % 3 != 0;
    for (int c = 0; c < 13; ++c)
      for (int i = 0; i < 64; ++i)
        for (int j = 0; j < 64; ++j) x[(c * 64 + i) * 64 + j] = 1000.0f + 100.0f * test::pattern(r + c, i, j);
    if (kiln) {
      const int i0 = (r * 13) % 50, j0 = (r * 29) % 50;
      for (int c = 0; c < 13; ++c)
        for (int i = i0; i < i0 + 12; ++i)
          for (int j = j0; j < j0 + 12; ++j) x[(c * 64 + i) * 64 + j] = 3000.0f;
    }
    e.set("label", kiln ? 1 : 0);
  });
}

// LSMS pairs: the change of the night lights between the tiles carries the label.
void write_pairs(const fs::path& path, int n) {
  test::write_tile_store(path, "poverty_change", n, [](store::Example& e, int r) {
    float* a = e.as<float>("x_before");
    float* b = e.as<float>("x_after");
    const float before = static_cast<float>((r * 37) % 60), after = static_cast<float>((r * 53) % 60);
    for (std::size_t c = 0; c < 7; ++c) {
      std::fill(a + c * kPlane, a + (c + 1) * kPlane, 0.1f);
      std::fill(b + c * kPlane, b + (c + 1) * kPlane, 0.12f);
    }
    std::fill(a + 7 * kPlane, a + 8 * kPlane, before);
    std::fill(b + 7 * kPlane, b + 8 * kPlane, after);
    e.set("year_before", 2010);
    e.set("year_after", 2014);
    e.set("asset_index_diff", (after - before) / 20.0);
  });
}

// Cropland: the cropland pixels (a disc) are brighter in every band. Weak labels: the labelled
// pixel is the disc's centre on even tiles and a corner outside it on odd ones (point_label 1 or
// 0); image_label says whether the disc covers at least half the tile (a large disc every third tile).
void write_cropland(const fs::path& path, int n) {
  test::write_tile_store(path, "cropland", n, [](store::Example& e, int r) {
    float* x = e.as<float>("x");
    auto* m = e.as<std::uint8_t>("mask");
    const int ci = 10 + (r * 7) % 30, cj = 10 + (r * 11) % 30, rad = r % 3 == 0 ? 40 : 6 + r % 8;
    int crops = 0;
    for (int i = 0; i < 50; ++i)
      for (int j = 0; j < 50; ++j) {
        const bool crop = (i - ci) * (i - ci) + (j - cj) * (j - cj) < rad * rad;
        m[i * 50 + j] = crop ? 1 : 0;
        crops += crop ? 1 : 0;
        for (int c = 0; c < 7; ++c)
          x[(c * 50 + i) * 50 + j] = 0.1f + (crop ? 0.15f : 0.0f) + 0.02f * test::pattern(r + c, i, j);
      }
    const int pr = r % 2 == 0 ? ci : (ci < 25 ? 49 : 0), pc = r % 2 == 0 ? cj : (cj < 25 ? 49 : 0);
    e.set("point_row", pr);
    e.set("point_col", pc);
    e.set("point_label", m[pr * 50 + pc]);
    e.set("image_label", crops * 2 >= 2500 ? 1 : 0);
  });
}

// Field delineation: dark 2-pixel boundaries between bright parcels on RGB bytes.
void write_fields(const fs::path& path, int n) {
  test::write_tile_store(path, "field_delineation", n, [](store::Example& e, int r) {
    auto* x = e.as<std::uint8_t>("x");
    auto* m = e.as<std::uint8_t>("mask");
    auto* f = e.as<std::uint8_t>("mask_filled");
    const int step = 40 + (r % 5) * 8, off = r % 17;
    for (int i = 0; i < 224; ++i)
      for (int j = 0; j < 224; ++j) {
        const bool edge = (i + off) % step < 2 || (j + 2 * off) % step < 2;
        m[i * 224 + j] = edge ? 1 : 0;
        f[i * 224 + j] = edge ? 0 : 1;
        for (int c = 0; c < 3; ++c) {
          x[(c * 224 + i) * 224 + j] = static_cast<std::uint8_t>(edge ? 40 : 150 + 30 * test::pattern(r + c, i, j));
        }
      }
  });
}

// Crop yield's inputs carrying q in [0, 1]: the share of band 0's histogram in the upper bins late
// in the season; flat histograms otherwise and a constant NDVI.
void fill_yield_series(store::Example& e, float q) {
  float* h = e.as<float>("hist");
  for (int b = 0; b < 32; ++b)
    for (int t = 0; t < 32; ++t)
      for (int c = 0; c < 9; ++c) {
        const bool hi = b >= 16;
        h[(b * 32 + t) * 9 + c] = (c == 0 && t >= 16) ? (hi ? q : 1.0f - q) / 16.0f : 1.0f / 32.0f;
      }
  float* ndvi = e.as<float>("ndvi");
  for (int t = 0; t < 32; ++t) ndvi[t] = 0.3f;
}

// Crop yield: the yield is carried by q (fill_yield_series).
void write_yield(const fs::path& path, int n) {
  test::write_tile_store(path, "crop_yield", n, [](store::Example& e, int r) {
    const float q = static_cast<float>((r * 37) % 20) / 20.0f;
    fill_yield_series(e, q);
    e.set("yield", 20.0 + 30.0 * q);
  });
}

// Per-field (Kenya) or per-point (land cover) series: the class sets the level of one channel in
// part of the season.
void write_series(const fs::path& path, const std::string& task, int n, int channels, int steps, int classes) {
  test::write_tile_store(path, task, n, [&](store::Example& e, int r) {
    float* x = e.as<float>("x");
    const int k = r % classes;
    for (int c = 0; c < channels; ++c)
      for (int t = 0; t < steps; ++t) {
        x[c * steps + t] =
            0.2f + 0.05f * test::pattern(r + c, t, c) + ((c == k % channels && t > steps / 3) ? 0.5f : 0);
      }
    if (task == "crop_type_kenya") {
      auto* obs = e.as<std::uint8_t>("observed");
      for (int t = 0; t < steps; ++t) obs[t] = t % 5 == 0;
    }
    e.set(task == "crop_type_kenya" ? "crop_type" : "land_cover", k);
  });
}

std::vector<nlohmann::json> log_lines(const fs::path& run) {
  std::vector<nlohmann::json> out;
  std::istringstream in(test::read_file(run / "log.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// Small, fast settings (the cards' defaults are for the real datasets).
std::vector<std::string> small(std::vector<std::string> args) {
  for (const char* kv : {"width=8", "batch_size=8", "warmup_steps=0", "threads=1", "loader_threads=2", "patience=0"}) {
    args.push_back("--set");
    args.push_back(kv);
  }
  return args;
}

// Every parameter and buffer of the DHS ResNet-18 (width 8) saved in a checkpoint.
std::map<std::string, torch::Tensor> weights(const fs::path& file) {
  torch::serialize::InputArchive root, m;
  root.load_from(file.string());
  root.read("model", m);
  learn::ResNet model(18, 8, 1, 8);
  model->load(m);
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model->named_parameters()) out[p.key()] = p.value();
  for (const auto& b : model->named_buffers()) out[b.key()] = b.value();
  return out;
}

TEST(Train, TheLossFallsOnEachTileTask) {
  test::TempDir dir;
  write_dhs(dir / "dhs.h5", 40);
  write_kiln(dir / "kiln.h5", 40);
  write_pairs(dir / "pairs.h5", 40);
  struct Case {
    std::string task, store, target;
  };
  for (const Case& c :
       {Case{"poverty", "dhs.h5", "asset_index"}, Case{"water", "dhs.h5", "water_index"},
        Case{"child_mortality", "dhs.h5", "under5_mort"}, Case{"women_bmi", "dhs.h5", "women_bmi"},
        Case{"women_edu", "dhs.h5", "women_edu"}, Case{"sanitation", "dhs.h5", "sanitation_index"},
        Case{"brick_kiln", "kiln.h5", "label"}, Case{"poverty_change", "pairs.h5", "asset_index_diff"}}) {
    const fs::path run = dir / ("run-" + c.task);
    const auto r = test::run_sbench(small({"train", c.task, "--store", (dir / c.store).string(), "--out", run.string(),
                                           "--epochs", "6", "--set", "lr=0.003"}));
    ASSERT_EQ(r.exit_code, 0) << c.task << ": " << r.err;
    EXPECT_NE(r.out.find(c.task + " " + c.target + ": resnet18"), std::string::npos) << r.out;
    const auto lines = log_lines(run);
    ASSERT_EQ(lines.size(), 6u) << c.task;
    const double first = lines.front()["train_loss"], last = lines.back()["train_loss"];
    EXPECT_LT(last, 0.7 * first) << c.task << ": train loss " << first << " -> " << last;
    EXPECT_EQ(lines.back()["steps"].get<int>(), 6 * 3) << "24 train examples in batches of 8";
    EXPECT_TRUE(lines.back()["val"].contains(c.task == "brick_kiln" ? "accuracy" : "r2"));
    EXPECT_TRUE(fs::exists(run / "best.pt") && fs::exists(run / "checkpoint.pt"));
    const auto cfg = nlohmann::json::parse(test::read_file(run / "config.json"));
    EXPECT_EQ(cfg["batch_size"], 8) << "--set over the card's 64";
    EXPECT_EQ(cfg["weight_decay"], 0.0001) << "the card's default";
  }
}

TEST(Train, TheUNetLearnsTheMasksOfTheDenseTasksAndItsPredictionsScore) {
  test::TempDir dir;
  write_cropland(dir / "crop.h5", 30);
  write_fields(dir / "fields.h5", 20);
  struct Case {
    std::string task, store, metric;
    int epochs;
  };
  for (const Case& c : {Case{"cropland", "crop.h5", "f1", 8}, Case{"field_delineation", "fields.h5", "dice", 5}}) {
    const fs::path run = dir / ("run-" + c.task);
    auto r = test::run_sbench(
        small({"train", c.task, "--store", (dir / c.store).string(), "--out", run.string(), "--epochs",
               std::to_string(c.epochs), "--set", "model=unet", "--set", "lr=0.01", "--set", "target=mask"}));
    ASSERT_EQ(r.exit_code, 0) << c.task << ": " << r.err;
    EXPECT_NE(r.out.find(c.task + " mask: unet"), std::string::npos) << r.out;
    const auto lines = log_lines(run);
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(c.epochs));
    const double first = lines.front()["train_loss"], last = lines.back()["train_loss"];
    EXPECT_LT(last, 0.7 * first) << c.task << ": train loss " << first << " -> " << last;
    ASSERT_TRUE(lines.back()["val"].contains(c.metric)) << lines.back().dump();
    // Predict the test split as the HDF5 submission and score it: eval's pooled F1 / Dice equals
    // the one computed here from the file and the store's masks.
    const fs::path pred = dir / (c.task + ".h5");
    r = test::run_sbench(
        {"predict", "--run", run.string(), "--store", (dir / c.store).string(), "--out", pred.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const fs::path metrics = dir / (c.task + ".json");
    r = test::run_sbench(
        {"eval", c.task, "--pred", pred.string(), "--truth", (dir / c.store).string(), "--out", metrics.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto m = nlohmann::json::parse(test::read_file(metrics));
    store::StoreReader s(dir / c.store);
    const auto rows = s.indices("test");
    EXPECT_EQ(m["n"], rows.size());
    const auto ref = test::run_python("dense_f1.py", {pred.string(), (dir / c.store).string()});
    ASSERT_FALSE(ref.out.empty());
    EXPECT_NEAR(m["metrics"][c.metric].get<double>(), std::stod(ref.out), 1e-9) << ref.out;
  }
  // A ResNet cannot predict masks, a U-Net not one value per example.
  auto r = test::run_sbench(small({"train", "cropland", "--store", (dir / "crop.h5").string(), "--out",
                                   (dir / "bad").string(), "--set", "model=resnet18", "--set", "target=mask"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("mask of cropland is a mask: use --set model=unet"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "bad"));
}

// Cropland's weak labels: the U-Net learns the dense mask from one labelled pixel per tile, or from
// a label of the whole tile, and is validated and scored on the dense mask.
TEST(Train, TheUNetLearnsCroplandFromWeakLabels) {
  test::TempDir dir;
  write_cropland(dir / "crop.h5", 40);
  for (const std::string target : {"point_label", "image_label"}) {
    const fs::path run = dir / ("run-" + target);
    auto r = test::run_sbench(
        small({"train", "cropland", "--store", (dir / "crop.h5").string(), "--out", run.string(), "--epochs", "10",
               "--set", "model=unet", "--set", "lr=0.01", "--set", "target=" + target}));
    ASSERT_EQ(r.exit_code, 0) << target << ": " << r.err;
    EXPECT_NE(r.out.find("cropland " + target + ": unet"), std::string::npos) << r.out;
    const auto info = nlohmann::json::parse(test::read_file(run / "run.json"));
    EXPECT_EQ(info["target"], "mask");
    EXPECT_EQ(info["weak"], target == "point_label" ? "point" : "image");
    const auto lines = log_lines(run);
    ASSERT_EQ(lines.size(), 10u);
    const double first = lines.front()["train_loss"], last = lines.back()["train_loss"];
    EXPECT_LT(last, 0.7 * first) << target << ": train loss " << first << " -> " << last;
    // Validated on the dense mask: F1 well above marking every pixel cropland (about 0.5 here).
    double best = 0;
    for (const auto& l : lines) best = std::max(best, l["val"]["f1"].is_number() ? l["val"]["f1"].get<double>() : 0.0);
    EXPECT_GT(best, 0.7) << target;
    const fs::path pred = dir / (target + ".h5"), metrics = dir / (target + ".json");
    r = test::run_sbench(
        {"predict", "--run", run.string(), "--store", (dir / "crop.h5").string(), "--out", pred.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = test::run_sbench({"eval", "cropland", "--pred", pred.string(), "--truth", (dir / "crop.h5").string(), "--out",
                          metrics.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto ref = test::run_python("dense_f1.py", {pred.string(), (dir / "crop.h5").string()});
    EXPECT_NEAR(nlohmann::json::parse(test::read_file(metrics))["metrics"]["f1"].get<double>(), std::stod(ref.out),
                1e-9);
  }
}

TEST(Train, TheSeriesTasksAndLandCoverTilesLearn) {
  test::TempDir dir;
  write_yield(dir / "yield.h5", 40);
  write_series(dir / "kenya.h5", "crop_type_kenya", 40, 14, 365, 6);
  write_series(dir / "ood.h5", "land_cover_ood", 40, 8, 46, 4);
  test::write_tile_store(dir / "rep.h5", "land_cover_rep", 40, [](store::Example& e, int r) {
    auto* x = e.as<std::uint8_t>("x");
    const int k = r % 3;
    for (int c = 0; c < 4; ++c)
      for (int i = 0; i < 10000; ++i)
        x[c * 10000 + i] = static_cast<std::uint8_t>(c == k ? 200 : 60 + (i * 7 + r) % 40);
    e.set("land_cover", 1 + 60 * k);  // CDL codes 1, 61, 121
  });
  struct Case {
    std::string task, store, model, metric;
  };
  for (const Case& c :
       {Case{"crop_yield", "yield.h5", "cnn1d", "rmse"}, Case{"crop_type_kenya", "kenya.h5", "cnn1d", "f1_macro"},
        Case{"land_cover_ood", "ood.h5", "cnn1d", "kappa"}, Case{"land_cover_rep", "rep.h5", "resnet18", "accuracy"},
        Case{"crop_yield", "yield.h5", "cnn_lstm", "rmse"}}) {
    const fs::path run = dir / ("run-" + c.task + "-" + c.model);
    auto r = test::run_sbench(small({"train", c.task, "--store", (dir / c.store).string(), "--out", run.string(),
                                     "--epochs", "6", "--set", "model=" + c.model, "--set", "lr=0.01"}));
    ASSERT_EQ(r.exit_code, 0) << c.task << ": " << r.err;
    const auto lines = log_lines(run);
    ASSERT_EQ(lines.size(), 6u);
    const double first = lines.front()["train_loss"], last = lines.back()["train_loss"];
    EXPECT_LT(last, 0.7 * first) << c.task << ": train loss " << first << " -> " << last;
    EXPECT_TRUE(lines.back()["val"].contains(c.metric)) << lines.back().dump();
    const fs::path pred = dir / (c.task + ".csv");
    r = test::run_sbench(
        {"predict", "--run", run.string(), "--store", (dir / c.store).string(), "--out", pred.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = test::run_sbench({"eval", c.task, "--pred", pred.string(), "--truth", (dir / c.store).string(), "--out",
                          (dir / (c.task + ".json")).string()});
    EXPECT_EQ(r.exit_code, 0) << c.task << ": " << r.err;
  }
  // A tile model on series and the series model on tiles are refused.
  auto r = test::run_sbench(small({"train", "crop_yield", "--store", (dir / "yield.h5").string(), "--out",
                                   (dir / "bad").string(), "--set", "model=resnet18"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("crop_yield has series of length 32, not tiles: use --set model=cnn1d"), std::string::npos)
      << r.err;
}

// Tile2Vec on land_cover_rep: tiles of six land covers in six areas, each cover with its own
// brightness per band; the encoder learns from triplets by location only (its triplet loss falls),
// the probe from the labels. (These covers are easy: a probe on untrained features separates them
// too; the test shows the mechanics, not that triplets beat random features.)
TEST(Train, Tile2VecLearnsFromNeighboursAndItsProbeClassifies) {
  test::TempDir dir;
  test::write_tile_store(dir / "rep.h5", "land_cover_rep", 150, [](store::Example& e, int r) {
    auto* x = e.as<std::uint8_t>("x");
    const int k = r % 6;
    for (int c = 0; c < 4; ++c)
      for (int i = 0; i < 10000; ++i)
        x[c * 10000 + i] = static_cast<std::uint8_t>(40 + 30 * ((k + c) % 6) + (i * 7 + r) % 40);
    e.set("land_cover", 1 + 40 * k);  // CDL codes 1, 41, ..., 201
    e.set("lat", 36.5 + 0.1 * k + 0.001 * (r % 7));
    e.set("lon", -120.2 + 0.1 * k + 0.001 * (r % 5));
  });
  const fs::path run = dir / "run";
  auto r =
      test::run_sbench(small({"train", "land_cover_rep", "--store", (dir / "rep.h5").string(), "--out", run.string(),
                              "--epochs", "8", "--set", "model=tile2vec", "--set", "lr=0.01", "--set", "neighbors=4"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("land_cover_rep land_cover: tile2vec"), std::string::npos) << r.out;
  const auto lines = log_lines(run);
  ASSERT_EQ(lines.size(), 8u);
  const double first = lines.front()["train_loss"], last = lines.back()["train_loss"];
  EXPECT_LT(last, 0.7 * first) << "triplet loss " << first << " -> " << last;
  EXPECT_EQ(lines.back()["steps"].get<int>(), 8 * 12) << "90 training anchors in batches of 8";
  EXPECT_GT(lines.back()["val"]["accuracy"].get<double>(), 0.9) << lines.back().dump();
  const fs::path pred = dir / "rep.csv", metrics = dir / "rep.json";
  r = test::run_sbench(
      {"predict", "--run", run.string(), "--store", (dir / "rep.h5").string(), "--out", pred.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_sbench({"eval", "land_cover_rep", "--pred", pred.string(), "--truth", (dir / "rep.h5").string(),
                        "--out", metrics.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(nlohmann::json::parse(test::read_file(metrics))["metrics"]["accuracy"].get<double>(), 0.9);
  // Without locations there are no neighbours to learn from.
  test::write_tile_store(dir / "nolat.h5", "land_cover_rep", 10, [](store::Example& e, int i) {
    e.set("land_cover", i % 2);
    e.set("lat", std::nan(""));
    e.set("lon", std::nan(""));
  });
  r = test::run_sbench(small({"train", "land_cover_rep", "--store", (dir / "nolat.h5").string(), "--out",
                              (dir / "bad").string(), "--set", "model=tile2vec"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("example land_cover_rep-0000 has no lat/lon"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "bad" / "checkpoint.pt"));
}

// Crop yield with the CNN-LSTM and the GP correction: the histograms carry part of the yield (q),
// and each region adds an offset the histograms do not show, the same every year; q does not
// reveal the region (every q occurs in many regions). The GP learns the offsets from the region's
// training years (by region: the store has no lat/lon).
TEST(Train, TheCnnLstmLearnsYieldsAndTheGpCorrectsRegionOffsets) {
  test::TempDir dir;
  test::write_tile_store(dir / "yield.h5", "crop_yield", 240, [](store::Example& e, int r) {
    const int region = r / 12, year = r % 12;
    const float q = static_cast<float>((7 * year + 3 * region) % 12) / 12.0f;
    fill_yield_series(e, q);
    e.set("country", std::string("usa"));
    e.set("region", "county_" + std::to_string(region));
    e.set("year", 2005 + year);
    e.set("yield", 30.0 + 20.0 * q + 1.0 * (region - 9.5));
  });
  const fs::path run = dir / "run";
  auto r =
      test::run_sbench(small({"train", "crop_yield", "--store", (dir / "yield.h5").string(), "--out", run.string(),
                              "--epochs", "12", "--set", "model=cnn_lstm", "--set", "lr=0.01", "--set", "gp=true"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("crop_yield yield: cnn_lstm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("with the GP correction"), std::string::npos) << r.out;
  const auto lines = log_lines(run);
  ASSERT_EQ(lines.size(), 12u);
  // Half the variance is the regions', which the network cannot see: its loss stays near 0.5.
  const double first = lines.front()["train_loss"], last = lines.back()["train_loss"];
  EXPECT_LT(last, first) << "train loss " << first << " -> " << last;
  const auto gp = nlohmann::json::parse(test::read_file(run / "gp.json"));
  EXPECT_EQ(gp["metric"], "rmse");
  // The region offsets (standard deviation 5.8 t/ha) are what the network misses; the GP takes
  // most of them from the region's training years.
  EXPECT_GT(gp["val_without_gp"].get<double>(), 5.0) << gp.dump();
  EXPECT_LT(gp["val_with_gp"].get<double>(), 0.4 * gp["val_without_gp"].get<double>()) << gp.dump();
  const fs::path pred = dir / "yield.csv", metrics = dir / "yield.json";
  r = test::run_sbench({"predict", "--run", run.string(), "--store", (dir / "yield.h5").string(), "--out",
                        pred.string(), "--split", "val"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_sbench({"eval", "crop_yield", "--pred", pred.string(), "--truth", (dir / "yield.h5").string(),
                        "--split", "val", "--out", metrics.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // predict applies the same correction: eval's RMSE on val is the one train reported.
  EXPECT_NEAR(nlohmann::json::parse(test::read_file(metrics))["metrics"]["rmse"].get<double>(),
              gp["val_with_gp"].get<double>(), 1e-3);
  // Classification targets have nothing to correct.
  write_kiln(dir / "kiln.h5", 10);
  r = test::run_sbench(small({"train", "brick_kiln", "--store", (dir / "kiln.h5").string(), "--out",
                              (dir / "bad").string(), "--set", "gp=true"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--set gp=true corrects regression outputs; label of brick_kiln is binary"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "bad"));
  // The GP's places are checked before the first epoch: a DHS cluster without coordinates.
  test::write_tile_store(dir / "dhs.h5", "poverty", 10, [](store::Example& e, int i) {
    e.set("asset_index", i * 0.1);
    e.set("year", 2010);
    e.set("lat", i == 5 ? std::nan("") : 10.0 + i);
    e.set("lon", 30.0);
  });
  r = test::run_sbench(small({"train", "poverty", "--store", (dir / "dhs.h5").string(), "--out",
                              (dir / "nolat").string(), "--set", "gp=true"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("example poverty-0005 has no lat/lon for the GP correction"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "nolat"));
}

// MAML on land_cover_ood: each region holds three of six classes, and which band a class raises
// depends on the region (a domain shift no single classifier learns); one labelled point per class
// shows it. Regions 0-19 meta-train, 20-24 meta-val, 25-29 meta-test.
TEST(Train, MamlLearnsOneShotEpisodesAcrossRegions) {
  test::TempDir dir;
  test::write_tile_store(dir / "ood.h5", "land_cover_ood", 600, [](store::Example& e, int i) {
    const int g = i / 20, j = i % 20;
    const int classes[3] = {g % 6, (g + 1) % 6, (g + 3) % 6};
    const int k = classes[j % 3];
    float* x = e.as<float>("x");
    for (int c = 0; c < 8; ++c)
      for (int t = 0; t < 46; ++t) {
        x[c * 46 + t] = 0.2f + 0.1f * test::pattern(i + c, t, c) + ((c == (k + g) % 8 && t > 15) ? 0.1f : 0.0f);
      }
    e.set("land_cover", k + 1);
    e.set("region", "region_" + std::to_string(g));
    e.split = g < 20 ? store::kTrain : g < 25 ? store::kVal : store::kTest;
  });
  const fs::path run = dir / "run";
  auto r = test::run_sbench(
      small({"train", "land_cover_ood", "--store", (dir / "ood.h5").string(), "--out", run.string(), "--epochs", "4",
             "--set", "model=maml", "--set", "episodes=64", "--set", "meta_batch=4", "--set", "lr=0.003"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("land_cover_ood land_cover: maml"), std::string::npos) << r.out;
  const auto lines = log_lines(run);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines.back()["steps"].get<int>(), 4 * 16) << "64 episodes in meta-batches of 4";
  const double first = lines.front()["train_loss"], last = lines.back()["train_loss"];
  EXPECT_LT(last, 0.7 * first) << "query loss " << first << " -> " << last;
  double best = -1;
  for (const auto& l : lines) best = std::max(best, l["val"]["kappa"].get<double>());
  EXPECT_GT(best, 0.6);
  const fs::path pred = dir / "ood.csv", metrics = dir / "ood.json";
  r = test::run_sbench(
      {"predict", "--run", run.string(), "--store", (dir / "ood.h5").string(), "--out", pred.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("15 support points"), std::string::npos) << r.out;
  r = test::run_sbench({"eval", "land_cover_ood", "--pred", pred.string(), "--truth", (dir / "ood.h5").string(),
                        "--out", metrics.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(nlohmann::json::parse(test::read_file(metrics))["metrics"]["kappa"].get<double>(), 0.5);
  // The meta-learned start adapts better than the initial weights (one outer step of one episode).
  const fs::path once = dir / "once";
  r = test::run_sbench(small({"train", "land_cover_ood", "--store", (dir / "ood.h5").string(), "--out", once.string(),
                              "--epochs", "1", "--set", "model=maml", "--set", "episodes=1", "--set", "meta_batch=1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(log_lines(once).back()["val"]["kappa"].get<double>(), best - 0.3);
  // Regions of a single class give no episode: refused before a run folder exists.
  test::write_tile_store(dir / "flat.h5", "land_cover_ood", 40, [](store::Example& e, int i) {
    e.set("land_cover", 1 + (i / 10) % 3);
    e.set("region", "region_" + std::to_string(i / 10));
  });
  r = test::run_sbench(small({"train", "land_cover_ood", "--store", (dir / "flat.h5").string(), "--out",
                              (dir / "flat").string(), "--set", "model=maml"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no region of the train split has two classes with two points each"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "flat"));
}

// Crop type (Ghana): each quadrant of a tile is one crop, which raises one Sentinel-2 band on the
// tile's few valid dates; the first row is unlabelled. The temporal U-Net samples 3 dates per sensor.
TEST(Train, TheTemporalUNetSegmentsCropTypesFromTimeSeriesOfTiles) {
  test::TempDir dir;
  test::write_tile_store(dir / "ct.h5", "crop_type_africa", 15, [](store::Example& e, int r) {
    auto* s1 = e.as<float>("s1");
    auto* s2 = e.as<std::int32_t>("s2");
    auto* planet = e.as<std::int32_t>("planet");
    auto* d1 = e.as<std::int32_t>("s1_dates");
    auto* d2 = e.as<std::int32_t>("s2_dates");
    auto* dp = e.as<std::int32_t>("planet_dates");
    auto* truth = e.as<std::uint8_t>("truth");
    std::fill(s1, s1 + 3 * 256 * 4096, 0.0f);
    std::fill(s2, s2 + 10 * 256 * 4096, 0);
    std::fill(planet, planet + 4 * 256 * 4096, 0);
    for (int t = 0; t < 256; ++t) d1[t] = d2[t] = dp[t] = t < 6 ? 20170301 + 10 * t : 0;
    for (int i = 0; i < 64; ++i)
      for (int j = 0; j < 64; ++j) {
        const int crop = 1 + ((i / 32) * 2 + j / 32 + r) % 4;
        truth[i * 64 + j] = static_cast<std::uint8_t>(i == 0 ? 0 : crop);
        for (int t = 0; t < 6; ++t) {
          for (int c = 0; c < 10; ++c) {
            s2[(c * 256 + t) * 4096 + i * 64 + j] = 2000 + (c == crop ? 2500 : 0) + 40 * ((i * 3 + j * 5 + t + c) % 7);
          }
          for (int c = 0; c < 3; ++c) s1[(c * 256 + t) * 4096 + i * 64 + j] = -12.0f + 0.1f * ((i + j + c) % 5);
          for (int c = 0; c < 4; ++c) planet[(c * 256 + t) * 4096 + i * 64 + j] = 1200 + 10 * ((i + c) % 3);
        }
      }
    e.set("country", std::string("ghana"));
  });
  const fs::path run = dir / "run";
  auto r = test::run_sbench(
      small({"train", "crop_type_africa", "--store", (dir / "ct.h5").string(), "--out", run.string(), "--epochs", "8",
             "--set", "time_steps=3", "--set", "width=4", "--set", "batch_size=3", "--set", "lr=0.01"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("crop_type_africa truth: unet"), std::string::npos) << r.out;
  const auto info = nlohmann::json::parse(test::read_file(run / "run.json"));
  EXPECT_EQ(info["series_channels"], (std::vector<int>{3, 10, 4}));
  EXPECT_EQ(info["channels"], 3 * 4 + 3 * 11 + 3 * 5);
  const auto lines = log_lines(run);
  ASSERT_EQ(lines.size(), 8u);
  const double first = lines.front()["train_loss"], last = lines.back()["train_loss"];
  EXPECT_LT(last, 0.7 * first) << "train loss " << first << " -> " << last;
  ASSERT_TRUE(lines.back()["val"].contains("f1_macro")) << lines.back().dump();
  const fs::path pred = dir / "ct_pred.h5", metrics = dir / "ct.json";
  r = test::run_sbench({"predict", "--run", run.string(), "--store", (dir / "ct.h5").string(), "--out", pred.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_sbench({"eval", "crop_type_africa", "--pred", pred.string(), "--truth", (dir / "ct.h5").string(),
                        "--out", metrics.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto m = nlohmann::json::parse(test::read_file(metrics));
  EXPECT_EQ(m["n"], 3);
  EXPECT_GT(m["metrics"]["accuracy"].get<double>(), 0.5) << m.dump();
  // Plain tiles for a time series are refused with the model to use.
  r = test::run_sbench(small({"train", "crop_type_africa", "--store", (dir / "ct.h5").string(), "--out",
                              (dir / "bad").string(), "--set", "model=resnet18"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("use --set model=unet"), std::string::npos) << r.err;
}

// The episodic and triplet runs resume exactly: a run of 2 epochs equals one of 1 epoch resumed
// to 2 (constant rate, so raising epochs does not stretch a schedule), every parameter and buffer.
TEST(Train, MamlAndTile2VecRunsResumeToTheSameWeights) {
  test::TempDir dir;
  test::write_tile_store(dir / "ood.h5", "land_cover_ood", 200, [](store::Example& e, int i) {
    const int g = i / 20, k = (i % 20) % 3;
    float* x = e.as<float>("x");
    for (int c = 0; c < 8; ++c)
      for (int t = 0; t < 46; ++t) x[c * 46 + t] = 0.2f + 0.1f * test::pattern(i + c, t, c) + (c == k ? 0.3f : 0.0f);
    e.set("land_cover", k + 1);
    e.set("region", "region_" + std::to_string(g));
    e.split = g < 7 ? store::kTrain : store::kVal;
  });
  test::write_tile_store(dir / "rep.h5", "land_cover_rep", 40, [](store::Example& e, int r) {
    auto* x = e.as<std::uint8_t>("x");
    for (int i = 0; i < 40000; ++i) x[i] = static_cast<std::uint8_t>((i * 7 + r * 13) % 200);
    e.set("land_cover", r % 2);
    e.set("lat", 36.5 + 0.01 * r);
    e.set("lon", -120.0 + 0.003 * (r % 4));
  });
  struct Case {
    std::string task, store, model;
  };
  for (const Case& c : {Case{"land_cover_ood", "ood.h5", "maml"}, Case{"land_cover_rep", "rep.h5", "tile2vec"}}) {
    auto args = [&](const fs::path& out, const std::string& epochs) {
      return small({"train", c.task, "--store", (dir / c.store).string(), "--out", out.string(), "--epochs", epochs,
                    "--set", "model=" + c.model, "--set", "schedule=constant", "--set", "episodes=24", "--set",
                    "meta_batch=4", "--set", "neighbors=3"});
    };
    const fs::path whole = dir / (c.model + "-whole"), parts = dir / (c.model + "-parts");
    auto r = test::run_sbench(args(whole, "2"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = test::run_sbench(args(parts, "1"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto resumed = args(parts, "2");
    resumed.push_back("--resume");
    r = test::run_sbench(resumed);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto load = [&](const fs::path& file) {
      std::shared_ptr<torch::nn::Module> m;
      if (c.model == "maml") {
        m = learn::MamlCnn(8, 8).ptr();
      } else {
        m = learn::Tile2Vec(4, 256, 8).ptr();
      }
      torch::serialize::InputArchive root, a;
      root.load_from(file.string());
      root.read("model", a);
      m->load(a);
      std::map<std::string, torch::Tensor> out;
      for (const auto& p : m->named_parameters()) out[p.key()] = p.value();
      for (const auto& b : m->named_buffers()) out[b.key()] = b.value();
      return out;
    };
    const auto a = load(whole / "checkpoint.pt"), b = load(parts / "checkpoint.pt");
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << c.model << ": " << name;
    EXPECT_EQ(log_lines(whole).back()["train_loss"], log_lines(parts).back()["train_loss"]) << c.model;
  }
}

TEST(Train, PredictWritesASubmissionThatEvalAccepts) {
  test::TempDir dir;
  write_kiln(dir / "kiln.h5", 30);
  const fs::path run = dir / "run";
  auto r = test::run_sbench(
      small({"train", "brick_kiln", "--store", (dir / "kiln.h5").string(), "--out", run.string(), "--epochs", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path pred = dir / "pred.csv";
  r = test::run_sbench(
      {"predict", "--run", run.string(), "--store", (dir / "kiln.h5").string(), "--out", pred.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CsvReader csv(pred.string());
  ASSERT_EQ(csv.header(), (std::vector<std::string>{"id", "label", "score"}));
  std::vector<std::vector<std::string>> rows;
  CsvRow row;
  while (csv.next(row)) rows.push_back({row[0], row[1], row[2]});
  store::StoreReader s(dir / "kiln.h5");
  const auto test_rows = s.indices("test");
  ASSERT_EQ(rows.size(), test_rows.size());
  for (std::size_t i = 0; i < test_rows.size(); ++i) {
    EXPECT_EQ(rows[i][0], s.ids()[test_rows[i]]);
    const double score = std::stod(rows[i][2]);
    EXPECT_GE(score, 0.0);
    EXPECT_LE(score, 1.0);
    EXPECT_EQ(rows[i][1], score > 0.5 ? "1" : "0");
  }
  r = test::run_sbench({"eval", "brick_kiln", "--pred", pred.string(), "--truth", (dir / "kiln.h5").string(), "--split",
                        "test", "--out", (dir / "metrics.json").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Train, AKilledAndResumedRunEndsWithTheWeightsOfAnUninterruptedOne) {
  test::TempDir dir;
  write_dhs(dir / "dhs.h5", 60);
  const auto args = [&](const fs::path& run) {
    return small({"train", "poverty", "--store", (dir / "dhs.h5").string(), "--out", run.string(), "--epochs", "4",
                  "--set", "seed=3"});
  };
  const fs::path whole = dir / "whole", cut = dir / "cut";
  auto r = test::run_sbench(args(whole));
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::vector<std::string> argv{test::sbench_exe(), "-q"};
  for (const auto& a : args(cut)) argv.push_back(a);
  const int pid = test::start_process(argv, (dir / "cut.out").string(), (dir / "cut.err").string());
  // Kill it once the first epoch's checkpoint is logged, in the middle of the second epoch.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(cut / "log.jsonl") && !test::read_file(cut / "log.jsonl").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  const int status = test::wait_process(pid);
  ASSERT_EQ(status, 128 + SIGKILL) << "the run ended before it was killed; " << test::read_file(dir / "cut.err");
  ASSERT_LT(log_lines(cut).size(), 4u);

  r = test::run_sbench(args(cut));
  EXPECT_EQ(r.exit_code, 2) << "a run folder is not overwritten without --resume";
  auto resume = args(cut);
  resume.push_back("--resume");
  r = test::run_sbench(resume);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto a = weights(whole / "checkpoint.pt"), b = weights(cut / "checkpoint.pt");
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 50u);
  for (const auto& [key, t] : a) {
    EXPECT_TRUE(torch::equal(t, b.at(key))) << key;
  }
  const auto la = log_lines(whole), lb = log_lines(cut);
  ASSERT_EQ(la.size(), 4u);
  ASSERT_EQ(lb.size(), 4u);
  for (std::size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(la[e]["train_loss"], lb[e]["train_loss"]) << "epoch " << e + 1;
    EXPECT_EQ(la[e]["val"], lb[e]["val"]);
  }

  // Resuming with other settings is refused, naming the setting.
  resume.push_back("--set");
  resume.push_back("lr=0.5");
  r = test::run_sbench(resume);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("lr (0.001 before, 0.5 now)"), std::string::npos) << r.err;
}

TEST(Train, BadRequestsFailClearlyAndKeepCheckpoints) {
  test::TempDir dir;
  write_dhs(dir / "dhs.h5", 20);
  const std::string store = (dir / "dhs.h5").string();
  // A store of another task.
  auto r = test::run_sbench(small({"train", "brick_kiln", "--store", store, "--out", (dir / "a").string()}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("a store of task poverty, not of brick_kiln"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "a" / "config.json"));
  // A setting that does not exist: the valid ones are listed.
  r = test::run_sbench(
      {"train", "poverty", "--store", store, "--out", (dir / "b").string(), "--set", "learning_rate=1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown key 'learning_rate' (valid keys: model, target, epochs"), std::string::npos) << r.err;
  // CUDA where there is none.
  if (!torch::cuda::is_available()) {
    r = test::run_sbench(
        small({"train", "poverty", "--store", store, "--out", (dir / "c").string(), "--device", "cuda"}));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("CUDA is not available"), std::string::npos) << r.err;
  }
  // A run stopped by --max-steps is finished: resuming it takes no further step.
  const fs::path capped = dir / "capped";
  r = test::run_sbench(
      small({"train", "poverty", "--store", store, "--out", capped.string(), "--epochs", "3", "--max-steps", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(log_lines(capped).size(), 1u);
  EXPECT_EQ(log_lines(capped)[0]["steps"], 2);
  r = test::run_sbench(small({"train", "poverty", "--store", store, "--out", capped.string(), "--epochs", "3",
                              "--max-steps", "2", "--resume"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(log_lines(capped).size(), 1u) << "no epoch after the cap";
  EXPECT_NE(r.out.find("--max-steps 2 reached"), std::string::npos) << r.out;
  // A NaN loss in the second epoch: a clear stop, the first epoch's checkpoint kept.
  const fs::path run = dir / "nan";
  r = test::run_sbench(small({"train", "poverty", "--store", store, "--out", run.string(), "--epochs", "3"}),
                       {{"SBENCH_FAULT_NAN_STEP", "2"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("training diverged: the loss is nan at epoch 2, step 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("after epoch 1"), std::string::npos) << r.err;
  torch::serialize::InputArchive root;
  root.load_from((run / "checkpoint.pt").string());
  torch::Tensor epoch;
  root.read("epoch", epoch);
  EXPECT_EQ(epoch.item<std::int64_t>(), 1);
  EXPECT_EQ(log_lines(run).size(), 1u);
}

}  // namespace
// Street-view baseline (issue 9): a DHS store of 60 clusters whose asset index sets the brightness of
// the street photos of every other cluster (3 each, 32 x 32) while the tiles are noise. Street-only
// and fused (satellite + street) runs lower the loss; each pooling runs; predict and eval take the
// run; a store without street images is refused before the run folder is made.
TEST(TrainStreet, StreetAndFusedRunsLearnThePhotos) {
  test::TempDir dir;
  std::mt19937_64 rng(5);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> asset(60);
  for (auto& a : asset) a = noise(rng);
  test::write_tile_store(dir / "dhs.h5", "poverty", 60, [&](store::Example& e, int r) {
    auto* x = e.as<float>("x");
    for (std::size_t p = 0; p < e.schema().field("x").values_per_example(); ++p) x[p] = 0.1f * noise(rng);
    e.set("asset_index", asset[static_cast<std::size_t>(r)]);
  });
  {
    store::StreetWriter w(dir / "dhs.h5", dir / "street.h5", 32);
    std::vector<store::StreetImage> meta;
    std::vector<std::uint8_t> px;
    for (int r = 0; r < 60; r += 2) {
      for (int k = 0; k < 3; ++k) {
        meta.push_back({fmt::format("poverty-{:04d}", r), fmt::format("{}_{}", r, k), 50.0f, 0});
        const float level = std::clamp(128 + 40 * asset[static_cast<std::size_t>(r)], 0.0f, 255.0f);
        for (int p = 0; p < 3 * 32 * 32; ++p)
          px.push_back(static_cast<std::uint8_t>(std::clamp(level + 10 * noise(rng), 0.0f, 255.0f)));
      }
    }
    w.append(meta, px);
    w.finish("{}", "{}");
  }
  for (const char* inputs : {"street", "satellite,street"}) {
    for (const char* pooling : {"mean", "attention"}) {
      const fs::path run =
          dir / fmt::format("run_{}_{}", inputs[0] == 's' && inputs[1] == 't' ? "street" : "fused", pooling);
      const auto r = test::run_sbench(small({"train", "poverty", "--store", (dir / "street.h5").string(), "--out",
                                             run.string(), "--epochs", "8", "--set", "lr=0.003", "--inputs", inputs,
                                             "--set", "street_images=3", "--set", fmt::format("pooling={}", pooling)}));
      ASSERT_EQ(r.exit_code, 0) << inputs << " " << pooling << ": " << r.err;
      const auto lines = log_lines(run);
      ASSERT_EQ(lines.size(), 8u);
      const double first = lines.front()["train_loss"], last = lines.back()["train_loss"];
      EXPECT_LT(last, 0.8 * first) << inputs << " " << pooling << ": " << first << " -> " << last;
    }
  }
  // Predict with the fused run; eval scores it whole and on the clusters with photos.
  const auto pr = test::run_sbench({"-q", "predict", "--run", (dir / "run_fused_mean").string(), "--store",
                                    (dir / "street.h5").string(), "--out", (dir / "pred.csv").string()});
  ASSERT_EQ(pr.exit_code, 0) << pr.err;
  const auto ev = test::run_sbench({"-q", "eval", "poverty", "--pred", (dir / "pred.csv").string(), "--truth",
                                    (dir / "street.h5").string(), "--out", (dir / "m.json").string()});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  const auto m = nlohmann::json::parse(test::read_file(dir / "m.json"));
  EXPECT_EQ(m["groups"]["street_images"]["values"]["with"]["n"], 6);  // test rows: r % 5 == 4, even r
  // No street images: refused before the run folder; street inputs with another model: refused.
  auto bad = test::run_sbench(small({"train", "poverty", "--store", (dir / "dhs.h5").string(), "--out",
                                     (dir / "nostreet").string(), "--set", "inputs=street"}));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("sbench street import"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "nostreet" / "config.json"));
  bad = test::run_sbench(small({"train", "poverty", "--store", (dir / "street.h5").string(), "--out",
                                (dir / "unet").string(), "--set", "inputs=street", "--set", "model=unet"}));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("inputs street go with model resnet18 or resnet34"), std::string::npos) << bad.err;
  // --inputs and --set inputs= that disagree: a usage error, nothing made.
  bad = test::run_sbench(small({"train", "poverty", "--store", (dir / "street.h5").string(), "--out",
                                (dir / "both").string(), "--inputs", "street", "--set", "inputs=satellite"}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--inputs street and --set inputs=satellite disagree"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "both"));
}

}  // namespace sbench
