// sbench train / predict for the tile tasks: ResNet-18/34 on the stacked tile inputs for per-example
// targets, the U-Net for mask targets (docs/training.md).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <thread>

#include <hdf5.h>

#include "cnn1d.hpp"
#include "cnn_lstm.hpp"
#include "gp.hpp"
#include "maml.hpp"
#include "resnet.hpp"
#include "sbench/core/atomic_file.hpp"
#include "sbench/core/error.hpp"
#include "sbench/core/progress.hpp"
#include "sbench/eval/metrics.hpp"
#include "sbench/learn/torch_env.hpp"
#include "sbench/learn/train.hpp"
#include "sbench/store/store.hpp"
#include "street_loader.hpp"
#include "street_model.hpp"
#include "temporal_unet.hpp"
#include "tile2vec.hpp"
#include "tile_loader.hpp"
#include "unet.hpp"

namespace sbench::learn {

namespace {

namespace fs = std::filesystem;
using baseline::TrainConfig;
using nlohmann::json;

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  if (!in) fail<IoError>("{}: cannot read", p.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json read_json(const fs::path& p) {
  try {
    return json::parse(read_text(p));
  } catch (const json::parse_error& e) {
    fail<InputError>("{}: not valid JSON: {}", p.string(), e.what());
  }
}

void write_json(const fs::path& p, const json& j) {
  AtomicFile f(p);
  f.stream() << j.dump(2) << '\n';
  f.commit();
}

torch::Device pick_device(const std::string& wanted) {
  if (wanted == "cpu") return torch::kCPU;
  if (wanted == "cuda") {
    if (!cuda_available()) {
      fail<UsageError>(
          "--device cuda: CUDA is not available (this LibTorch {} a CUDA build, {} device(s)); use --device cpu or "
          "auto",
          torch::cuda::is_available() ? "is" : "is not or has no device in", cuda_device_count());
    }
    return torch::kCUDA;
  }
  if (wanted != "auto") fail<UsageError>("--device {}: expected auto, cpu or cuda", wanted);
  return cuda_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

void check_store_task(const TaskCard& task, const store::StoreReader& s) {
  const auto& tasks = s.schema().tasks;
  const bool ok = s.schema().task == task.id || std::find(tasks.begin(), tasks.end(), task.id) != tasks.end();
  if (!ok) {
    fail<InputError>("{}: a store of task {}, not of {} (it serves: {})", s.path().string(), s.schema().task, task.id,
                     fmt::join(tasks, ", "));
  }
}

// What a run learned about its data before the first step (run.json): the target, its scaling,
// the stacked inputs and the statistics of channels the card does not normalize.
struct RunInfo {
  std::string task, target, kind;
  std::int64_t classes = 0;  // 0: regression
  bool dense = false;        // a mask target (the U-Net)
  // Weak supervision of the mask (cropland): "point" (one labelled pixel per tile) or "image" (a
  // label of the whole tile), from the target weak_target; "" trains on the mask itself.
  std::string weak, weak_target;
  std::int64_t ignore = -100;  // dense classes: the label left out of loss and metrics (crop type's 0)
  std::vector<std::string> class_names;
  double target_mean = 0, target_std = 1;
  std::vector<std::string> inputs;
  std::vector<double> fallback_mean, fallback_std;
  std::int64_t channels = 0, height = 0, width = 0;
  std::int64_t hist_bins = 1, hist_bands = 0;  // the CNN-LSTM: channels c * bins + b hold band c's bin b
  std::vector<std::int64_t> series_channels;   // C of each C x T x H x W input (the temporal U-Net)
  std::int64_t time_steps = 0;                 // dates sampled per series

  json to_json() const {
    return {{"task", task},
            {"target", target},
            {"kind", kind},
            {"classes", classes},
            {"dense", dense},
            {"weak", weak},
            {"weak_target", weak_target},
            {"ignore_index", ignore},
            {"class_names", class_names},
            {"target_mean", target_mean},
            {"target_std", target_std},
            {"inputs", inputs},
            {"channel_mean", fallback_mean},
            {"channel_std", fallback_std},
            {"channels", channels},
            {"height", height},
            {"width", width},
            {"hist_bins", hist_bins},
            {"hist_bands", hist_bands},
            {"series_channels", series_channels},
            {"time_steps", time_steps}};
  }
  static RunInfo from_json(const json& j, const std::string& file) {
    try {
      RunInfo r;
      r.task = j.at("task");
      r.target = j.at("target");
      r.kind = j.at("kind");
      r.classes = j.at("classes");
      r.dense = j.at("dense");
      r.weak = j.value("weak", "");
      r.weak_target = j.value("weak_target", "");
      r.ignore = j.at("ignore_index");
      r.class_names = j.at("class_names").get<std::vector<std::string>>();
      r.target_mean = j.at("target_mean");
      r.target_std = j.at("target_std");
      r.inputs = j.at("inputs").get<std::vector<std::string>>();
      r.fallback_mean = j.at("channel_mean").get<std::vector<double>>();
      r.fallback_std = j.at("channel_std").get<std::vector<double>>();
      r.channels = j.at("channels");
      r.height = j.at("height");
      r.width = j.at("width");
      r.hist_bins = j.value("hist_bins", std::int64_t{1});
      r.hist_bands = j.value("hist_bands", std::int64_t{0});
      r.series_channels = j.value("series_channels", std::vector<std::int64_t>{});
      r.time_steps = j.value("time_steps", std::int64_t{0});
      return r;
    } catch (const json::exception& e) {
      fail<InputError>("{}: not a run description of sbench train: {}", file, e.what());
    }
  }
};

const TargetSpec& pick_target(const TaskCard& task, const TrainConfig& cfg) {
  const std::string name = cfg.str("target").empty() ? task.targets.front().name : cfg.str("target");
  const TargetSpec* t = task.find_target(name);
  if (!t) fail<UsageError>("target '{}' is not a target of {}", name, task.id);
  return *t;
}

using Model = std::shared_ptr<TileModel>;

// Logit maps or outputs of the model: one for regression and binary masks, one per class otherwise.
std::int64_t output_count(const RunInfo& info) {
  if (info.classes == 0 || (info.dense && info.classes == 2)) return 1;
  return info.classes;
}

Model make_model(const TrainConfig& cfg, const RunInfo& info) {
  const std::string m = cfg.str("model");
  const bool series = info.height == 1;
  if (m == "maml") {
    if (!series || info.dense || info.classes == 0) {
      fail<UsageError>("model maml learns 2-way episodes of point series; {} of {} is not a class of a series",
                       info.target, info.task);
    }
    return MamlCnn(info.channels, cfg.integer("width")).ptr();
  }
  if (m == "cnn_lstm") {
    if (!series)
      fail<UsageError>("model cnn_lstm reads series; {} has {} x {} tiles (use {})", info.task, info.height, info.width,
                       info.series_channels.empty() ? "resnet18, resnet34 or unet" : "unet");
    if (info.dense) fail<UsageError>("model cnn_lstm predicts one value per example; {} is a mask", info.target);
    return CnnLstm(info.channels, output_count(info), info.hist_bins,
                   info.hist_bands > 0 ? info.hist_bands : info.channels, cfg.integer("width"))
        .ptr();
  }
  if (m == "cnn1d") {
    if (!series)
      fail<UsageError>("model cnn1d reads series; {} has {} x {} tiles (use {})", info.task, info.height, info.width,
                       info.series_channels.empty() ? "resnet18, resnet34 or unet" : "unet");
    if (info.dense) fail<UsageError>("model cnn1d predicts one value per example; {} is a mask", info.target);
    return Cnn1d(info.channels, output_count(info), cfg.integer("width")).ptr();
  }
  if (series)
    fail<UsageError>("{} has series of length {}, not tiles: use --set model=cnn1d, cnn_lstm or maml", info.task,
                     info.width);
  if (m == "unet") {
    if (!info.dense) {
      fail<UsageError>("model unet predicts masks; {} of {} is one value per example (use resnet18 or resnet34)",
                       info.target, info.task);
    }
    if (!info.series_channels.empty()) {  // time series of tiles: per-date encoders, temporal pooling
      return TemporalUNet(info.series_channels, info.time_steps, output_count(info), cfg.integer("width")).ptr();
    }
    return UNet(info.channels, output_count(info), cfg.integer("width")).ptr();
  }
  if (m == "tile2vec") {
    if (info.dense || info.classes == 0) {
      fail<UsageError>("model tile2vec classifies tiles with a linear probe; {} of {} is {}", info.target, info.task,
                       info.dense ? "a mask" : "a regression target");
    }
    return Tile2Vec(info.channels, info.classes, cfg.integer("width")).ptr();
  }
  if (!info.series_channels.empty()) {
    fail<UsageError>("{} has time series of tiles: use --set model=unet (the temporal U-Net)", info.task);
  }
  if (m == "resnet18" || m == "resnet34") {
    if (info.dense) fail<UsageError>("{} of {} is a mask: use --set model=unet", info.target, info.task);
    const std::string inputs = cfg.str("inputs");
    if (inputs == "street") {
      return StreetNet(m == "resnet18" ? 18 : 34, output_count(info), cfg.integer("width"),
                       parse_pooling(cfg.str("pooling")))
          .ptr();
    }
    if (inputs == "satellite,street") {
      return FusedNet(m == "resnet18" ? 18 : 34, info.channels, output_count(info), cfg.integer("width"),
                      parse_pooling(cfg.str("pooling")))
          .ptr();
    }
    return ResNet(m == "resnet18" ? 18 : 34, info.channels, output_count(info), cfg.integer("width")).ptr();
  }
  fail<UsageError>(
      "model {} is not a neural model of sbench train (resnet18, resnet34, unet, cnn1d, cnn_lstm, maml, tile2vec)", m);
}

bool higher_is_better(const std::string& metric) {
  return metric != "mse" && metric != "rmse";
}

// A classification metric of a confusion (per-example labels and pooled mask pixels alike).
double confusion_metric(const std::string& id, const eval::Confusion& c) {
  if (id == "f1" || id == "dice") return eval::f1(c);
  if (id == "accuracy") return eval::accuracy(c);
  if (id == "precision") return eval::precision(c);
  if (id == "recall") return eval::recall(c);
  if (id == "f1_macro") return eval::f1_macro(c);
  if (id == "kappa") return eval::cohen_kappa(c);
  fail<UsageError>("metric {} is not computed on classes during training", id);
}

// The task's metric of raw model outputs (n x outputs) against the truth of the same rows.
double metric_of(const std::string& id, const RunInfo& info, const std::vector<float>& out,
                 const std::vector<double>& truth) {
  const std::size_t n = truth.size();
  if (info.classes == 0) {
    std::vector<double> pred(n);
    for (std::size_t i = 0; i < n; ++i) pred[i] = out[i] * info.target_std + info.target_mean;
    if (id == "r2") return eval::r2_pearson(pred, truth);
    if (id == "pearson_r") return eval::pearson_r(pred, truth);
    if (id == "r2_score") return eval::r2_score(pred, truth);
    if (id == "mse") return eval::mse(pred, truth);
    if (id == "rmse") return eval::rmse(pred, truth);
    fail<UsageError>("metric {} does not apply to a regression target", id);
  }
  const std::size_t k = static_cast<std::size_t>(info.classes);
  std::vector<std::int64_t> label(n), t(n);
  std::vector<double> score(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float* o = out.data() + i * k;
    label[i] = std::max_element(o, o + k) - o;
    t[i] = static_cast<std::int64_t>(truth[i]);
    if (k == 2) score[i] = 1.0 / (1.0 + std::exp(static_cast<double>(o[0]) - o[1]));  // softmax of class 1
  }
  if (id == "auroc") return eval::auroc(score, t);
  return confusion_metric(id, eval::confusion(label, t, {}, k));
}

torch::Tensor loss_of(const torch::Tensor& out, const torch::Tensor& y, const RunInfo& info) {
  namespace F = torch::nn::functional;
  if (info.weak == "point") {  // the labelled pixels only (y >= 0); a batch without any adds nothing
    const auto labelled = y >= 0;
    const auto logits = out.squeeze(1).masked_select(labelled);
    if (logits.numel() == 0) return (out * 0).sum();
    return F::binary_cross_entropy_with_logits(logits, (y.masked_select(labelled) > 0.5).to(out.dtype()));
  }
  if (info.weak == "image") {  // the tile's share of class-1 pixels against its label (y: 0 or 1 per tile)
    const auto share = torch::sigmoid(out.squeeze(1)).mean({1, 2}).clamp(1e-6, 1 - 1e-6);
    return F::binary_cross_entropy(share, (y > 0.5).to(out.dtype()));
  }
  if (info.dense && info.classes == 2)
    return F::binary_cross_entropy_with_logits(out.squeeze(1), (y > 0.5).to(out.dtype()));
  if (info.dense)
    return F::cross_entropy(out, y.to(torch::kLong), F::CrossEntropyFuncOptions().ignore_index(info.ignore));
  if (info.classes == 0) return torch::mse_loss(out.squeeze(1), y);
  return F::cross_entropy(out, y);
}

// The targets of a batch on the device: standardized values or class indices.
torch::Tensor batch_targets(const std::vector<std::size_t>& rows, const std::vector<double>& truth, const RunInfo& info,
                            const torch::Device& device) {
  const std::int64_t n = static_cast<std::int64_t>(rows.size());
  if (info.classes == 0) {
    auto y = torch::empty({n}, torch::kFloat32);
    float* p = y.data_ptr<float>();
    for (std::int64_t i = 0; i < n; ++i) {
      p[i] = static_cast<float>((truth[rows[static_cast<std::size_t>(i)]] - info.target_mean) / info.target_std);
    }
    return y.to(device);
  }
  auto y = torch::empty({n}, torch::kInt64);
  auto* p = y.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<std::int64_t>(truth[rows[static_cast<std::size_t>(i)]]);
  return y.to(device);
}

// What a pass in store order gives: per example the model's outputs (n x outputs), or for masks per
// pixel the probability of class 1 (binary) or the arg-max class, with the true mask's pixels.
struct Inferred {
  std::vector<float> out;
  std::vector<std::uint8_t> mask_truth;
  double loss = std::nan("");
};

// The model's outputs of a batch: the tiles, or with street inputs the tiles and the clusters' street
// images that the loader read with them (a random draw of K in training, the first K otherwise).
torch::Tensor forward_batch(TileModel& model, const TileBatch& b, const torch::Device& device,
                            const StreetSampler* street) {
  auto x = b.x.to(device, /*non_blocking=*/true);
  if (!street) return model.forward(x);
  auto* s = dynamic_cast<StreetInput*>(&model);
  if (!s) fail<Error>("the model does not take street images");
  // The uint8 photos and their mask, read by the loader's threads (street_extra), normalized on the device.
  if (b.extra.size() != 2) fail<Error>("the loader read no street images for batch {}", b.index);
  const auto mask = b.extra[1].to(device, /*non_blocking=*/true);
  return s->forward_street(x, StreetSampler::normalize(b.extra[0].to(device, /*non_blocking=*/true), mask), mask);
}

// The loader's hook that reads the street images of each batch on its threads, ahead of training.
auto street_extra(const StreetSampler* street, bool pin) {
  return [street, pin](const std::vector<std::size_t>& rows, bool train, std::uint64_t seed, std::int64_t epoch) {
    auto [images, mask] = street->raw_batch(rows, train, seed, epoch);
    if (pin) images = images.pin_memory(), mask = mask.pin_memory();
    return std::vector<torch::Tensor>{images, mask};
  };
}

Inferred infer(TileModel& model, const TileLoader& loader, const std::vector<std::size_t>& rows,
               const torch::Device& device, const RunInfo& info, const std::vector<double>* truth,
               const StreetSampler* street = nullptr) {
  torch::NoGradGuard no_grad;
  model.eval();
  Inferred r;
  double loss_sum = 0;
  loader.pass(rows, false, false, 0, 0, [&](TileBatch& b) {
    auto o = forward_batch(model, b, device, street).to(torch::kCPU).contiguous();
    if (info.dense) {
      auto v = (info.classes == 2 ? torch::sigmoid(o.squeeze(1)) : o.argmax(1).to(torch::kFloat32)).contiguous();
      r.out.insert(r.out.end(), v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
      if (b.y.defined()) {  // the loader read the masks (validation)
        loss_sum += loss_of(o, b.y, info).item<double>() * static_cast<double>(b.rows.size());
        auto t = b.y.to(torch::kUInt8).contiguous();
        r.mask_truth.insert(r.mask_truth.end(), t.data_ptr<std::uint8_t>(), t.data_ptr<std::uint8_t>() + t.numel());
      }
    } else {
      if (truth) {
        loss_sum += loss_of(o, batch_targets(b.rows, *truth, info, torch::kCPU), info).item<double>() *
                    static_cast<double>(b.rows.size());
      }
      r.out.insert(r.out.end(), o.data_ptr<float>(), o.data_ptr<float>() + o.numel());
    }
    return true;
  });
  if ((truth || !r.mask_truth.empty()) && !rows.empty()) r.loss = loss_sum / static_cast<double>(rows.size());
  return r;
}

// The task's metric of a dense pass: pixels pooled over the examples (as field delineation's
// Dice), thresholded at > 0.5 for binary masks, crop type's unlabelled class left out.
double dense_metric_of(const std::string& id, const RunInfo& info, const Inferred& r) {
  eval::Confusion c(static_cast<std::size_t>(info.classes));
  if (info.classes == 2) {
    std::vector<std::uint8_t> t(r.mask_truth.size());
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = r.mask_truth[i] > 0 ? 1 : 0;
    c = eval::binary_confusion(r.out.data(), t.data(), t.size());
  } else {
    for (std::size_t i = 0; i < r.out.size(); ++i) {
      const auto truth = static_cast<std::int64_t>(r.mask_truth[i]);
      if (truth == info.ignore || truth >= info.classes) continue;
      c.add(static_cast<std::size_t>(truth), static_cast<std::size_t>(r.out[i]));
    }
  }
  return confusion_metric(id, c);
}

// Where and when the examples `which` are, for the GP: lat/lon when the store has them, else the
// (country, region) group; the year. An InputError naming the example when one is missing.
GpSites gp_sites(const store::StoreReader& s, const std::vector<std::size_t>& which) {
  GpSites g;
  const bool loc = s.schema().find("lat") && s.schema().find("lon");
  if (!s.schema().find("year"))
    fail<InputError>("{}: the GP correction needs the year of each example", s.path().string());
  const auto year = s.read_numbers("year");
  g.year = torch::empty({static_cast<std::int64_t>(which.size())}, torch::kFloat64);
  if (loc) {
    const auto lat = s.read_numbers("lat"), lon = s.read_numbers("lon");
    g.loc = torch::empty({static_cast<std::int64_t>(which.size()), 2}, torch::kFloat64);
    for (std::size_t i = 0; i < which.size(); ++i) {
      if (!std::isfinite(lat[which[i]]) || !std::isfinite(lon[which[i]])) {
        fail<InputError>("{}: example {} has no lat/lon for the GP correction", s.path().string(), s.ids()[which[i]]);
      }
      g.loc[static_cast<std::int64_t>(i)][0] = lat[which[i]];
      g.loc[static_cast<std::int64_t>(i)][1] = lon[which[i]];
    }
  } else {
    if (!s.schema().find("region")) {
      fail<InputError>("{}: the GP correction needs lat/lon or a region of each example", s.path().string());
    }
    const auto region = s.read_strings("region");
    const auto country = s.schema().find("country") ? s.read_strings("country") : std::vector<std::string>(s.size());
    g.group = torch::empty({static_cast<std::int64_t>(which.size())}, torch::kInt64);
    for (std::size_t i = 0; i < which.size(); ++i) {
      g.group[static_cast<std::int64_t>(i)] =
          static_cast<std::int64_t>(std::hash<std::string>{}(country[which[i]] + "\x1f" + region[which[i]]) >> 1);
    }
  }
  for (std::size_t i = 0; i < which.size(); ++i) {
    if (!std::isfinite(year[which[i]])) {
      fail<InputError>("{}: example {} has no year for the GP correction", s.path().string(), s.ids()[which[i]]);
    }
    g.year[static_cast<std::int64_t>(i)] = year[which[i]];
  }
  return g;
}

// The Gaussian-process correction (docs/training.md): predictions of `rows` in target units from
// the model's last-layer features, with the labelled training rows as the GP's data.
std::vector<double> gp_predictions(TileModel& model, const TileLoader& loader, const store::StoreReader& s,
                                   const RunInfo& info, const TrainConfig& cfg,
                                   const std::vector<std::size_t>& train_rows, const std::vector<double>& truth,
                                   const std::vector<std::size_t>& rows, const torch::Device& device) {
  if (!model.head()) fail<UsageError>("--set gp=true: model {} has no linear head to correct", cfg.str("model"));
  auto features = [&](const std::vector<std::size_t>& which) {
    torch::NoGradGuard no_grad;
    model.eval();
    std::vector<torch::Tensor> parts;
    loader.pass(which, false, false, 0, 0, [&](TileBatch& b) {
      parts.push_back(model.features(b.x.to(device, /*non_blocking=*/true)).to(torch::kCPU));
      return true;
    });
    return torch::cat(parts);
  };
  auto y = torch::empty({static_cast<std::int64_t>(train_rows.size())}, torch::kFloat64);
  for (std::size_t i = 0; i < train_rows.size(); ++i) {
    y[static_cast<std::int64_t>(i)] = (truth[train_rows[i]] - info.target_mean) / info.target_std;
  }
  GpParams gp;
  gp.sigma = cfg.number("gp_sigma");
  gp.r_loc = cfg.number("gp_r_loc");
  gp.r_year = cfg.number("gp_r_year");
  gp.sigma_e = cfg.number("gp_sigma_e");
  gp.sigma_b = cfg.number("gp_sigma_b");
  auto head = model.head();
  const auto mean = gp_correct(features(train_rows), y, gp_sites(s, train_rows), features(rows), gp_sites(s, rows),
                               head->weight.detach().to(torch::kCPU), head->bias.detach().to(torch::kCPU), gp)
                        .contiguous();
  std::vector<double> out(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    out[i] = mean[static_cast<std::int64_t>(i)].item<double>() * info.target_std + info.target_mean;
  return out;
}

// MAML's view of a split: every point's normalized series in memory (store order), its class and region.
struct PointSet {
  std::vector<std::size_t> rows;
  torch::Tensor x;  // (N, C, 1, T) on the device
  std::vector<std::int64_t> label;
  std::vector<RegionPoints> groups;
};

PointSet load_points(const TileLoader& loader, const store::StoreReader& s, const std::vector<std::size_t>& rows,
                     const std::vector<double>& truth, const torch::Device& device) {
  if (!s.schema().find("region")) {
    fail<InputError>("{}: model maml builds its episodes by region, and the store has no region meta",
                     s.path().string());
  }
  PointSet p;
  p.rows = rows;
  std::vector<torch::Tensor> parts;
  loader.pass(rows, false, false, 0, 0, [&](TileBatch& b) {
    parts.push_back(b.x.to(device));
    return true;
  });
  p.x = parts.empty() ? torch::Tensor() : torch::cat(parts);
  const auto region = s.read_strings("region");
  std::vector<std::string> reg;
  for (auto i : rows) {
    p.label.push_back(static_cast<std::int64_t>(truth[i]));
    reg.push_back(region[i]);
  }
  p.groups = group_by_region(reg, p.label);
  return p;
}

MamlSettings maml_settings(const TrainConfig& cfg) {
  MamlSettings m;
  m.inner_lr = cfg.number("inner_lr");
  m.inner_steps = cfg.integer("inner_steps");
  m.first_order = cfg.flag("first_order");
  return m;
}

// The task's metric of MAML's episodic predictions over the points that were not support points.
double maml_metric(const std::string& metric, MamlCnnImpl& model, const PointSet& pts, const RunInfo& info,
                   const TrainConfig& cfg) {
  std::vector<bool> support;
  const auto pred = episodic_predict(model, pts.x, pts.groups, pts.rows.size(), maml_settings(cfg),
                                     static_cast<std::uint64_t>(cfg.integer("seed")), support);
  eval::Confusion c(static_cast<std::size_t>(info.classes));
  for (std::size_t i = 0; i < pred.size(); ++i) {
    if (!support[i]) c.add(static_cast<std::size_t>(pts.label[i]), static_cast<std::size_t>(pred[i]));
  }
  return confusion_metric(metric, c);
}

// Tile2Vec's probe on the embeddings of the labelled rows (store order, no augmentation).
void fit_probe(Tile2VecImpl& model, const TileLoader& loader, const std::vector<std::size_t>& rows,
               const std::vector<double>& truth, const torch::Device& device, double l2) {
  std::vector<torch::Tensor> z;
  {
    torch::NoGradGuard no_grad;
    model.eval();
    loader.pass(rows, false, false, 0, 0, [&](TileBatch& b) {
      z.push_back(model.embed(b.x.to(device, /*non_blocking=*/true)));
      return true;
    });
  }
  auto y = torch::empty({static_cast<std::int64_t>(rows.size())}, torch::kInt64);
  for (std::size_t i = 0; i < rows.size(); ++i)
    y[static_cast<std::int64_t>(i)] = static_cast<std::int64_t>(truth[rows[i]]);
  model.fit_probe(torch::cat(z), y.to(device), l2);
  model.train();
}

double learning_rate(const TrainConfig& cfg, std::int64_t step, std::int64_t epoch, std::int64_t total_steps) {
  const double lr = cfg.number("lr");
  const std::int64_t warm = cfg.integer("warmup_steps");
  if (step < warm) return lr * static_cast<double>(step + 1) / static_cast<double>(warm + 1);
  const std::string s = cfg.str("schedule");
  if (s == "cosine") {
    const double span = static_cast<double>(std::max<std::int64_t>(1, total_steps - warm));
    const double t = std::min(1.0, static_cast<double>(step - warm) / span);
    return 0.5 * lr * (1.0 + std::cos(M_PI * t));
  }
  if (s == "step") return lr * std::pow(cfg.number("gamma"), static_cast<double>(epoch / cfg.integer("step_epochs")));
  return lr;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& cfg, TileModel& model) {
  const double wd = cfg.number("weight_decay");
  const double head_wd = cfg.number("head_weight_decay") < 0 ? wd : cfg.number("head_weight_decay");
  const double lr = cfg.number("lr");
  const std::string o = cfg.str("optimizer");
  std::vector<torch::optim::OptimizerParamGroup> groups;
  auto group = [&](std::vector<torch::Tensor> params, double decay) -> torch::optim::OptimizerParamGroup {
    if (o == "adam") {
      return {std::move(params),
              std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(lr).weight_decay(decay))};
    }
    if (o == "adamw") {
      return {std::move(params),
              std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(lr).weight_decay(decay))};
    }
    return {std::move(params), std::make_unique<torch::optim::SGDOptions>(
                                   torch::optim::SGDOptions(lr).momentum(cfg.number("momentum")).weight_decay(decay))};
  };
  groups.push_back(group(model.backbone_parameters(), wd));
  // Tile2Vec's probe is fitted by L-BFGS after each epoch, not by this optimizer.
  if (!dynamic_cast<Tile2VecImpl*>(&model)) groups.push_back(group(model.head_parameters(), head_wd));
  if (o == "adam") return std::make_unique<torch::optim::Adam>(std::move(groups), torch::optim::AdamOptions(lr));
  if (o == "adamw") return std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(lr));
  return std::make_unique<torch::optim::SGD>(std::move(groups), torch::optim::SGDOptions(lr));
}

struct Progress {
  std::int64_t epoch = 0;  // epochs finished
  std::int64_t step = 0;   // optimizer steps taken
  double best = std::nan("");
  std::int64_t best_epoch = 0;
  std::int64_t bad_epochs = 0;
};

void save_checkpoint(const fs::path& path, TileModel& model, torch::optim::Optimizer& opt, const Progress& p) {
  torch::serialize::OutputArchive root, m, o;
  model.save(m);
  opt.save(o);
  root.write("model", m);
  root.write("optimizer", o);
  root.write("epoch", torch::tensor(p.epoch));
  root.write("step", torch::tensor(p.step));
  root.write("best", torch::tensor(p.best, torch::kFloat64));
  root.write("best_epoch", torch::tensor(p.best_epoch));
  root.write("bad_epochs", torch::tensor(p.bad_epochs));
  const fs::path tmp = path.string() + ".partial";
  root.save_to(tmp.string());
  fs::rename(tmp, path);
}

Progress load_checkpoint(const fs::path& path, TileModel& model, torch::optim::Optimizer* opt,
                         const torch::Device& device) {
  torch::serialize::InputArchive root, m;
  try {
    root.load_from(path.string(), device);  // a CUDA run resumes or predicts on a CPU machine too
    root.read("model", m);
    model.load(m);
    Progress p;
    if (opt) {
      torch::serialize::InputArchive o;
      root.read("optimizer", o);
      opt->load(o);
      torch::Tensor t;
      root.read("epoch", t);
      p.epoch = t.item<std::int64_t>();
      root.read("step", t);
      p.step = t.item<std::int64_t>();
      root.read("best", t);
      p.best = t.item<double>();
      root.read("best_epoch", t);
      p.best_epoch = t.item<std::int64_t>();
      root.read("bad_epochs", t);
      p.bad_epochs = t.item<std::int64_t>();
    }
    return p;
  } catch (const c10::Error& e) {
    fail<InputError>("{}: not a checkpoint of this run's model: {}", path.string(), e.what_without_backtrace());
  }
}

void save_weights(const fs::path& path, TileModel& model) {
  torch::serialize::OutputArchive root, m;
  model.save(m);
  root.write("model", m);
  const fs::path tmp = path.string() + ".partial";
  root.save_to(tmp.string());
  fs::rename(tmp, path);
}

// The log lines of epochs up to `epochs` (a resumed run rewrites what came after its checkpoint).
void truncate_log(const fs::path& log, std::int64_t epochs) {
  if (!fs::exists(log)) return;
  std::ifstream in(log);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (json::parse(line).value("epoch", std::int64_t{0}) <= epochs) kept += line + "\n";
    } catch (const json::parse_error&) {
      break;  // a line cut by a kill
    }
  }
  in.close();
  AtomicFile f(log);
  f.stream() << kept;
  f.commit();
}

int core_count() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::vector<double> read_truth(const store::StoreReader& s, const TargetSpec& t) {
  if (!s.schema().find(t.name)) fail<InputError>("{}: the store has no target '{}'", s.path().string(), t.name);
  return s.read_numbers(t.name);
}

std::vector<std::size_t> labelled(const store::StoreReader& s, const std::string& split,
                                  const std::vector<double>& truth, const RunInfo& info) {
  std::vector<std::size_t> out;
  for (auto i : s.indices(split)) {
    const double v = truth[i];
    if (!std::isfinite(v)) continue;
    if (info.classes > 0 && (v < 0 || v >= static_cast<double>(info.classes) || v != std::floor(v))) {
      fail<InputError>("{}: example {} has {} = {}, expected a class index 0..{}", s.path().string(), s.ids()[i],
                       info.weak_target.empty() ? info.target : info.weak_target, v, info.classes - 1);
    }
    out.push_back(i);
  }
  return out;
}

// The dense submission of docs/submissions.md: /id (variable-length strings) and /pred (N, H, W),
// float32 probabilities for binary masks or int32 class indices; written to NAME.partial first.
void write_dense_submission(const std::string& path, const std::vector<std::string>& ids,
                            const std::vector<float>& values, const RunInfo& info) {
  const std::size_t expect = ids.size() * static_cast<std::size_t>(info.height * info.width);
  if (values.size() != expect)
    fail<Error>("{}: {} mask values for {} examples of {} x {}", path, values.size(), ids.size(), info.height,
                info.width);
  const fs::path tmp = path + ".partial";
  const hid_t file = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) fail<IoError>("{}: cannot create", tmp.string());
  bool ok = true;
  {
    const hsize_t n = ids.size();
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t set = H5Dcreate2(file, "id", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    std::vector<const char*> p;
    for (const auto& id : ids) p.push_back(id.c_str());
    ok = ok && set >= 0 && H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) >= 0;
    H5Dclose(set);
    H5Sclose(space);
    H5Tclose(type);
  }
  {
    const hsize_t dims[3] = {ids.size(), static_cast<hsize_t>(info.height), static_cast<hsize_t>(info.width)};
    const hid_t space = H5Screate_simple(3, dims, nullptr);
    const bool classes = info.classes > 2;
    const hid_t set = H5Dcreate2(file, "pred", classes ? H5T_STD_I32LE : H5T_IEEE_F32LE, space, H5P_DEFAULT,
                                 H5P_DEFAULT, H5P_DEFAULT);
    if (classes) {
      std::vector<std::int32_t> v(values.begin(), values.end());
      ok = ok && set >= 0 && H5Dwrite(set, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0;
    } else {
      ok = ok && set >= 0 && H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0;
    }
    H5Dclose(set);
    H5Sclose(space);
  }
  ok = H5Fclose(file) >= 0 && ok;
  if (!ok) {
    fs::remove(tmp);
    fail<IoError>("{}: cannot write the predicted masks", path);
  }
  fs::rename(tmp, path);
}

}  // namespace

std::string train(const TaskCard& task, const TrainRequest& r) {
  const TrainConfig& cfg = r.config;
  const fs::path out(r.out);
  const fs::path config_path = out / "config.json", run_path = out / "run.json", ckpt_path = out / "checkpoint.pt",
                 best_path = out / "best.pt", log_path = out / "log.jsonl";
  if (!r.resume && fs::exists(config_path)) {
    fail<UsageError>("{} already holds a run (config.json); pass --resume to continue it or choose another --out",
                     out.string());
  }
  if (r.resume && fs::exists(config_path)) {
    const TrainConfig before = TrainConfig::from_json(read_json(config_path), config_path.string());
    const auto diff = before.differences(cfg);
    if (!diff.empty()) {
      fail<UsageError>("--resume: the settings differ from those of the run in {}: {}", out.string(),
                       fmt::join(diff, "; "));
    }
  }
  const int threads = cfg.integer("threads") > 0 ? static_cast<int>(cfg.integer("threads")) : core_count();
  configure_threads(threads);
  const torch::Device device = pick_device(r.device);

  store::StoreReader s(r.store);
  check_store_task(task, s);
  // Street inputs need the store's /street (sbench street import): checked before the run folder.
  std::unique_ptr<StreetSampler> street;
  if (cfg.str("inputs") != "satellite") {
    const std::string m = cfg.str("model");
    if (m != "resnet18" && m != "resnet34")
      fail<UsageError>("inputs {} go with model resnet18 or resnet34, not {}", cfg.str("inputs"), m);
    street = std::make_unique<StreetSampler>(r.store, cfg.integer("street_images"));
  }
  const TargetSpec& target = pick_target(task, cfg);
  RunInfo info;
  info.task = task.id;
  info.target = target.name;
  info.kind = std::string(to_string(target.kind));
  if (target.kind != TargetKind::regression) {
    info.classes = target.num_classes > 0 ? target.num_classes : static_cast<std::int64_t>(target.classes.size());
    if (info.classes < 2) info.classes = 2;
    info.class_names = target.classes;
  }
  info.dense = target.kind == TargetKind::segmentation;
  if (info.dense && target.ignore_value) info.ignore = *target.ignore_value;
  const TargetSpec* mask_target = &target;
  if (!info.dense && cfg.str("model") == "unet") {
    // Weak supervision: the U-Net learns the task's mask from a per-tile label (docs/training.md).
    mask_target = nullptr;
    for (const auto& t : task.targets) {
      if (t.kind == TargetKind::segmentation && !mask_target) mask_target = &t;
    }
    if (!mask_target || target.kind != TargetKind::binary) {
      fail<UsageError>("model unet predicts masks; {} of {} is one value per example{} (use resnet18 or resnet34)",
                       target.name, task.id, mask_target ? " and not a binary label of the mask" : "");
    }
    const bool point = target.name == "point_label";
    if (point && (!s.schema().find("point_row") || !s.schema().find("point_col"))) {
      fail<InputError>("{}: target point_label needs the labelled pixel's point_row and point_col meta",
                       s.path().string());
    }
    info.weak = point ? "point" : "image";
    info.weak_target = target.name;
    info.target = mask_target->name;
    info.kind = std::string(to_string(mask_target->kind));
    info.dense = true;
    info.classes = 2;
    info.class_names = mask_target->classes;
  }
  info.inputs = tile_inputs(task, s);
  // Masks have no missing value: every example of a split is labelled. Weak labels may be missing.
  const std::vector<double> truth = info.dense && info.weak.empty() ? std::vector<double>{} : read_truth(s, target);
  const auto train_rows = info.dense && info.weak.empty() ? s.indices("train") : labelled(s, "train", truth, info);
  const auto val_rows = info.dense ? s.indices("val") : labelled(s, "val", truth, info);
  if (train_rows.empty()) {
    fail<InputError>("{}: no example of the train split has a {} label", s.path().string(), target.name);
  }
  if (r.resume && fs::exists(run_path)) {
    info = RunInfo::from_json(read_json(run_path), run_path.string());
  } else {
    if (info.classes == 0) {
      double sum = 0, sq = 0;
      for (auto i : train_rows) sum += truth[i];
      info.target_mean = sum / static_cast<double>(train_rows.size());
      for (auto i : train_rows) sq += (truth[i] - info.target_mean) * (truth[i] - info.target_mean);
      info.target_std = std::sqrt(sq / static_cast<double>(train_rows.size()));
      if (!(info.target_std > 0)) info.target_std = 1;
    }
    // Statistics of an evenly spaced sample of the training split, for the channels the card
    // does not normalize. Inputs whose every channel the card normalizes for every example are not
    // sampled (their entries are 0 and 1): crop type's series would cost a full decode each.
    std::vector<std::size_t> sample;
    const std::size_t want =
        std::min<std::size_t>(train_rows.size(), static_cast<std::size_t>(cfg.integer("norm_sample")));
    for (std::size_t i = 0; i < want; ++i) sample.push_back(train_rows[i * train_rows.size() / want]);
    std::vector<std::int64_t> widths;
    for (const auto& in : info.inputs) widths.push_back(layout_of(s.schema().field(in)).channels);
    const std::int64_t total = std::accumulate(widths.begin(), widths.end(), std::int64_t{0});
    const TileNormalizer uncovered = card_normalizer(task, s, info.inputs, std::vector<double>(total, std::nan("")),
                                                     std::vector<double>(total, std::nan("")));
    info.fallback_mean.clear();
    info.fallback_std.clear();
    std::int64_t at = 0;
    for (std::size_t k = 0; k < info.inputs.size(); ++k) {
      bool covered = true;
      for (const auto& table : uncovered.mean) {
        for (std::int64_t c = at; c < at + widths[k]; ++c) covered = covered && !std::isnan(table[c]);
      }
      std::vector<double> m(widths[k], 0.0), sd(widths[k], 1.0);
      if (!covered) channel_statistics(s, {info.inputs[k]}, sample, m, sd);
      info.fallback_mean.insert(info.fallback_mean.end(), m.begin(), m.end());
      info.fallback_std.insert(info.fallback_std.end(), sd.begin(), sd.end());
      at += widths[k];
    }
  }
  TileNormalizer norm = card_normalizer(task, s, info.inputs, info.fallback_mean, info.fallback_std);
  LoaderOptions lo;
  lo.batch_size = static_cast<std::size_t>(cfg.integer("batch_size"));
  lo.threads = static_cast<int>(cfg.integer("loader_threads"));
  lo.prefetch = static_cast<int>(cfg.integer("prefetch"));
  lo.time_steps = cfg.integer("time_steps");
  lo.pin_memory = device.is_cuda();
  lo.mask = info.dense ? mask_target->name : "";
  if (street) lo.extra = street_extra(street.get(), lo.pin_memory);
  // Weakly supervised runs validate on the dense mask with a loader of their own.
  std::unique_ptr<TileLoader> val_loader;
  if (!info.weak.empty()) {
    val_loader = std::make_unique<TileLoader>(s, info.inputs, norm, lo);
    lo.mask.clear();
    if (info.weak == "point") {
      lo.point_label = truth;
      lo.point_row = s.read_numbers("point_row");
      lo.point_col = s.read_numbers("point_col");
    }
  }
  // Tile2Vec: triplets (anchor, neighbour, distant) of the training tiles, three rows per example.
  const bool tile2vec = cfg.str("model") == "tile2vec";
  std::unique_ptr<TileLoader> triplet_loader;
  std::vector<std::vector<std::size_t>> neighbours;
  std::vector<std::size_t> unlabelled_rows;  // every training tile: the triplets need no label
  if (tile2vec) {
    if (!s.schema().find("lat") || !s.schema().find("lon")) {
      fail<InputError>("{}: model tile2vec draws neighbouring tiles by location, and the store has no lat/lon meta",
                       s.path().string());
    }
    unlabelled_rows = s.indices("train");
    const auto lat = s.read_numbers("lat"), lon = s.read_numbers("lon");
    std::vector<double> la, lo_;
    for (auto i : unlabelled_rows) {
      if (!std::isfinite(lat[i]) || !std::isfinite(lon[i])) {
        fail<InputError>("{}: example {} has no lat/lon", s.path().string(), s.ids()[i]);
      }
      la.push_back(lat[i]);
      lo_.push_back(lon[i]);
    }
    neighbours = nearest_neighbours(la, lo_, static_cast<std::size_t>(cfg.integer("neighbors")));
    LoaderOptions to = lo;
    to.batch_size *= 3;
    triplet_loader = std::make_unique<TileLoader>(s, info.inputs, norm, to);
  }
  TileLoader loader(s, info.inputs, std::move(norm), lo);
  const bool maml = cfg.str("model") == "maml";
  info.channels = loader.channels();
  info.height = loader.height();
  info.width = loader.width();
  info.series_channels = loader.series_channels();
  info.time_steps = info.series_channels.empty() ? 0 : cfg.integer("time_steps");
  if (!info.series_channels.empty() && !loader.only_series()) {
    fail<InputError>("{}: time series of tiles and plain tiles together are not supported", s.path().string());
  }
  // Histograms stacked first (crop yield's B x T x C `hist`): the CNN-LSTM's bins and bands.
  if (const store::Field* f = s.schema().find(info.inputs.front()); f && f->axes == "BTC") {
    info.hist_bins = f->shape[0];
    info.hist_bands = f->shape[2];
  }
  if (cfg.flag("gp") && (info.classes != 0 || info.dense)) {
    fail<UsageError>("--set gp=true corrects regression outputs; {} of {} is {}", info.target, task.id, info.kind);
  }

  const auto seed = static_cast<std::uint64_t>(cfg.integer("seed"));
  torch::manual_seed(seed);
  Model model = make_model(cfg, info);
  model->to(device);
  auto optimizer = make_optimizer(cfg, *model);
  // Data the run needs beyond the tiles, checked before the run folder is made.
  PointSet maml_train, maml_val;  // MAML: the train and val points in memory, grouped by region
  if (maml) {
    maml_train = load_points(loader, s, train_rows, truth, device);
    if (!val_rows.empty()) maml_val = load_points(loader, s, val_rows, truth, device);
    sample_episode(maml_train.groups, 0, 0, 0, 1);  // refuses a split without a usable region
  }
  if (tile2vec) {  // refuses too few tiles, or neighbours that leave no distant tile
    std::vector<std::size_t> all(unlabelled_rows.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    triplet_rows(unlabelled_rows, neighbours, all, seed, 0);
  }
  if (cfg.flag("gp")) {
    gp_sites(s, train_rows);
    gp_sites(s, val_rows);
  }

  fs::create_directories(out);
  write_json(config_path, cfg.json());  // a resume may have raised epochs
  if (!fs::exists(run_path)) write_json(run_path, info.to_json());
  Progress p;
  if (r.resume && fs::exists(ckpt_path)) {
    p = load_checkpoint(ckpt_path, *model, optimizer.get(), device);
    model->to(device);
  }
  truncate_log(log_path, p.epoch);

  const std::int64_t epochs = cfg.integer("epochs");
  const std::int64_t bs = cfg.integer("batch_size");
  const std::int64_t steps_per_epoch =
      maml ? (cfg.integer("episodes") + cfg.integer("meta_batch") - 1) / cfg.integer("meta_batch")
           : (static_cast<std::int64_t>(tile2vec ? unlabelled_rows.size() : train_rows.size()) + bs - 1) / bs;
  const std::int64_t total_steps = steps_per_epoch * epochs;
  const std::string metric = task.primary_metric;
  const bool up = higher_is_better(metric);
  std::int64_t nan_step = -1;  // fault injection for the tests: SBENCH_FAULT_NAN_STEP=N poisons step N's loss
  if (const char* e = std::getenv("SBENCH_FAULT_NAN_STEP")) nan_step = std::atoll(e);
  TerminalBar bar(stderr, !r.quiet && TerminalBar::is_terminal(stderr));
  std::string stopped;
  const std::int64_t first_epoch = p.epoch;
  // A resumed run that had already stopped stays stopped, as the uninterrupted run did.
  if (cfg.integer("patience") > 0 && p.bad_epochs >= cfg.integer("patience")) {
    stopped = fmt::format("early stopping: no better validation {} for {} epochs", task.primary_metric, p.bad_epochs);
  }
  if (r.max_steps > 0 && p.step >= r.max_steps) stopped = fmt::format("--max-steps {} reached", r.max_steps);
  while (p.epoch < epochs && stopped.empty()) {
    const std::int64_t epoch = p.epoch;
    model->train();
    double loss_sum = 0;
    std::size_t seen = 0;
    const auto t0 = std::chrono::steady_clock::now();
    auto step = [&](TileBatch& b) {
      const double lr = learning_rate(cfg, p.step, epoch, total_steps);
      for (auto& g : optimizer->param_groups()) g.options().set_lr(lr);
      optimizer->zero_grad();
      torch::Tensor loss;
      if (maml) {  // meta_batch episodes: adapt on the support, the loss of the adapted weights on the query
        auto& net = static_cast<MamlCnnImpl&>(*model);
        const MamlSettings ms = maml_settings(cfg);
        const auto start = net.parameters();
        loss = torch::zeros({}, maml_train.x.options());
        const std::int64_t tasks = cfg.integer("meta_batch");
        for (std::int64_t t = 0; t < tasks; ++t) {
          const Episode e = sample_episode(maml_train.groups, seed, p.step, t, cfg.integer("query"));
          auto pick = [&](const std::vector<std::size_t>& at) {
            return maml_train.x.index_select(
                0, torch::tensor(std::vector<std::int64_t>(at.begin(), at.end()), torch::kInt64).to(device));
          };
          const auto w =
              adapt(net, start, pick(e.support), torch::tensor({0, 1}, torch::kInt64).to(device), ms, !ms.first_order);
          loss = loss + torch::nn::functional::cross_entropy(net.forward_with(pick(e.query), w),
                                                             torch::tensor(e.query_label, torch::kInt64).to(device));
          if (t == 0) b.rows = {maml_train.rows[e.support[0]]};
        }
        loss = loss / static_cast<double>(tasks);
      } else if (tile2vec) {  // rows come as (anchor, neighbour, distant) triples
        auto z = static_cast<Tile2VecImpl&>(*model).embed(b.x.to(device, /*non_blocking=*/true));
        z = z.view({-1, 3, z.size(1)});
        loss = triplet_loss(z.select(1, 0), z.select(1, 1), z.select(1, 2), cfg.number("margin"),
                            cfg.number("embedding_l2"));
      } else {
        auto o = forward_batch(*model, b, device, street.get());
        loss = loss_of(
            o, b.y.defined() ? b.y.to(device, /*non_blocking=*/true) : batch_targets(b.rows, truth, info, device),
            info);
      }
      if (p.step == nan_step) loss = loss * std::nan("");
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        bar.finish();
        fail<Error>(
            "training diverged: the loss is {} at epoch {}, step {} (examples {} ...); the last good checkpoint "
            "({}) is kept; lower lr or change the settings and start a new run",
            value, epoch + 1, p.step + 1, s.ids()[b.rows.front()],
            fs::exists(ckpt_path) ? fmt::format("{}, after epoch {}", ckpt_path.string(), p.epoch)
                                  : std::string("none: the first epoch did not finish"));
      }
      loss.backward();
      optimizer->step();
      ++p.step;
      const std::size_t examples = maml       ? static_cast<std::size_t>(cfg.integer("meta_batch"))
                                   : tile2vec ? b.rows.size() / 3
                                              : b.rows.size();
      loss_sum += value * static_cast<double>(examples);
      seen += examples;
      bar.update(static_cast<std::uint64_t>(b.index + 1), static_cast<std::uint64_t>(steps_per_epoch),
                 fmt::format("epoch {}/{} loss {:.4f}", epoch + 1, epochs, loss_sum / static_cast<double>(seen)));
      if (r.max_steps > 0 && p.step >= r.max_steps) {
        stopped = fmt::format("--max-steps {} reached", r.max_steps);
        return false;
      }
      return true;
    };
    if (maml) {
      for (std::int64_t k = 0; k < steps_per_epoch; ++k) {
        TileBatch b;
        b.index = k;
        if (!step(b)) break;
      }
    } else if (tile2vec) {
      const auto order = pass_order(std::vector<std::size_t>([&] {
                                      std::vector<std::size_t> v(unlabelled_rows.size());
                                      std::iota(v.begin(), v.end(), std::size_t{0});
                                      return v;
                                    }()),
                                    true, seed, epoch);
      triplet_loader->pass(triplet_rows(unlabelled_rows, neighbours, order, seed, epoch), false, cfg.flag("augment"),
                           seed, epoch, step);
      // The probe: the embeddings of the labelled training tiles, no augmentation.
      fit_probe(static_cast<Tile2VecImpl&>(*model), loader, train_rows, truth, device, cfg.number("probe_l2"));
    } else {
      loader.pass(train_rows, true, cfg.flag("augment"), seed, epoch, step);
    }
    const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bar.finish();
    double val_loss = std::nan(""), value = std::nan("");
    if (!val_rows.empty()) {
      std::vector<double> val_truth;
      if (!info.dense) {
        for (auto i : val_rows) val_truth.push_back(truth[i]);
      }
      RunInfo dense_info = info;  // weak runs validate against the mask
      dense_info.weak.clear();
      if (maml) {  // episodes of the val regions: the metric of the points that were not support points
        value = maml_metric(metric, static_cast<MamlCnnImpl&>(*model), maml_val, info, cfg);
      } else {
        const Inferred inf =
            infer(*model, val_loader ? *val_loader : loader, val_rows, device, dense_info, &truth, street.get());
        val_loss = inf.loss;
        value = info.dense ? dense_metric_of(metric, info, inf) : metric_of(metric, info, inf.out, val_truth);
      }
    }
    p.epoch = epoch + 1;
    const bool better = std::isfinite(value) && (!std::isfinite(p.best) || (up ? value > p.best : value < p.best));
    if (better) {
      p.best = value;
      p.best_epoch = p.epoch;
      p.bad_epochs = 0;
      save_weights(best_path, *model);
    } else if (!val_rows.empty()) {
      ++p.bad_epochs;  // without a validation split there is nothing to stop early on
    }
    auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
    json line = {{"epoch", p.epoch},
                 {"steps", p.step},
                 {"lr", learning_rate(cfg, std::max<std::int64_t>(0, p.step - 1), epoch, total_steps)},
                 {"train_loss", num(seen ? loss_sum / static_cast<double>(seen) : std::nan(""))},
                 {"val_loss", num(val_loss)},
                 {"val", {{metric, num(value)}}},
                 {"best", better},
                 {"samples_per_s", num(static_cast<double>(seen) / train_seconds)},
                 {"seconds", train_seconds}};
    {
      // The log line goes first: a kill before the checkpoint replays the epoch, and the resume
      // drops log lines after the checkpoint's epoch.
      std::ofstream log(log_path, std::ios::app);
      log << line.dump() << '\n';
      if (!log) fail<IoError>("{}: cannot append the epoch log", log_path.string());
    }
    save_checkpoint(ckpt_path, *model, *optimizer, p);
    if (!r.quiet) {
      std::fprintf(stderr, "epoch %lld/%lld: train loss %.4f, val %s %s%s\n", static_cast<long long>(p.epoch),
                   static_cast<long long>(epochs), seen ? loss_sum / static_cast<double>(seen) : std::nan(""),
                   metric.c_str(), std::isfinite(value) ? fmt::format("{:.4f}", value).c_str() : "n/a",
                   better ? " (best)" : "");
    }
    if (cfg.integer("patience") > 0 && p.bad_epochs >= cfg.integer("patience") && stopped.empty()) {
      stopped = fmt::format("early stopping: no better validation {} for {} epochs", metric, p.bad_epochs);
    }
  }
  if (!std::isfinite(p.best)) save_weights(best_path, *model);  // no finite validation metric: the last weights
  std::string gp_line;
  if (cfg.flag("gp") && !val_rows.empty()) {
    // The best weights' validation metric with and without the GP correction, in gp.json.
    load_checkpoint(best_path, *model, nullptr, device);
    model->to(device);
    std::vector<double> val_truth;
    for (auto i : val_rows) val_truth.push_back(truth[i]);
    const Inferred plain = infer(*model, loader, val_rows, device, info, nullptr);
    const double without = metric_of(metric, info, plain.out, val_truth);
    const auto corrected = gp_predictions(*model, loader, s, info, cfg, train_rows, truth, val_rows, device);
    std::vector<float> standardized(corrected.size());
    for (std::size_t i = 0; i < corrected.size(); ++i) {
      standardized[i] = static_cast<float>((corrected[i] - info.target_mean) / info.target_std);
    }
    const double with = metric_of(metric, info, standardized, val_truth);
    write_json(out / "gp.json", {{"metric", metric}, {"val_with_gp", with}, {"val_without_gp", without}});
    gp_line = fmt::format("\nvalidation {} with the GP correction: {:.4f} (without: {:.4f})", metric, with, without);
  }
  return fmt::format(
      "{} {}: {} on {} ({} train, {} val examples, {} channels of {} x {}); epochs {}..{} of {}, {} steps{}{}\n"
      "best validation {}: {} (epoch {}){}\nrun written to {}\n",
      task.id, target.name, cfg.str("model"), device.str(), train_rows.size(), val_rows.size(), info.channels,
      info.height, info.width, first_epoch + 1, p.epoch, epochs, p.step, stopped.empty() ? "" : "; ", stopped, metric,
      std::isfinite(p.best) ? fmt::format("{:.4f}", p.best) : "n/a", p.best_epoch, gp_line, out.string());
}

std::string predict(const TaskCard& task, const PredictRequest& r) {
  const fs::path run(r.run);
  const TrainConfig cfg = TrainConfig::from_json(read_json(run / "config.json"), (run / "config.json").string());
  const RunInfo info = RunInfo::from_json(read_json(run / "run.json"), (run / "run.json").string());
  if (info.task != task.id) fail<InputError>("{}: a run of task {}, not {}", run.string(), info.task, task.id);
  configure_threads(cfg.integer("threads") > 0 ? static_cast<int>(cfg.integer("threads")) : core_count());
  const torch::Device device = pick_device(r.device);
  store::StoreReader s(r.store);
  check_store_task(task, s);
  if (tile_inputs(task, s) != info.inputs) fail<InputError>("{}: inputs differ from the run's", s.path().string());
  TileNormalizer norm = card_normalizer(task, s, info.inputs, info.fallback_mean, info.fallback_std);
  LoaderOptions lo;
  lo.batch_size = static_cast<std::size_t>(cfg.integer("batch_size"));
  lo.threads = static_cast<int>(cfg.integer("loader_threads"));
  lo.prefetch = static_cast<int>(cfg.integer("prefetch"));
  lo.time_steps = cfg.integer("time_steps");
  lo.pin_memory = device.is_cuda();
  std::unique_ptr<StreetSampler> street;
  if (cfg.str("inputs") != "satellite") {
    street = std::make_unique<StreetSampler>(r.store, cfg.integer("street_images"));
    lo.extra = street_extra(street.get(), lo.pin_memory);
  }
  TileLoader loader(s, info.inputs, std::move(norm), lo);
  if (loader.channels() != info.channels || loader.height() != info.height || loader.width() != info.width) {
    fail<InputError>("{}: tiles of {} x {} x {}, the run was trained on {} x {} x {}", s.path().string(),
                     loader.channels(), loader.height(), loader.width(), info.channels, info.height, info.width);
  }
  Model model = make_model(cfg, info);
  const fs::path weights = fs::exists(run / "best.pt") ? run / "best.pt" : run / "checkpoint.pt";
  if (!fs::exists(weights)) fail<InputError>("{}: no weights (best.pt or checkpoint.pt); train first", run.string());
  load_checkpoint(weights, *model, nullptr, device);
  model->to(device);
  const auto rows = s.indices(r.split);
  if (rows.empty()) fail<InputError>("{}: no example in the {} split", s.path().string(), r.split);
  if (cfg.str("model") == "maml") {
    // Episodes need one labelled point of each class per region: the split's labels give them.
    const TargetSpec* t = task.find_target(info.target);
    if (!t) fail<InputError>("{}: target {} is not one of {}", run.string(), info.target, task.id);
    const std::vector<double> truth = read_truth(s, *t);
    for (auto i : rows) {
      if (!std::isfinite(truth[i])) {
        fail<InputError>("{}: example {} has no {} label; MAML draws each region's support points from the labels",
                         s.path().string(), s.ids()[i], info.target);
      }
    }
    const PointSet pts = load_points(loader, s, rows, truth, device);
    std::vector<bool> support;
    const auto pred = episodic_predict(static_cast<MamlCnnImpl&>(*model), pts.x, pts.groups, rows.size(),
                                       maml_settings(cfg), static_cast<std::uint64_t>(cfg.integer("seed")), support);
    AtomicFile f(r.out);
    f.stream() << "id," << info.target << ",support\n";
    std::size_t shots = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      f.stream() << s.ids()[rows[i]] << ',' << pred[i] << ',' << (support[i] ? 1 : 0) << '\n';
      shots += support[i] ? 1 : 0;
    }
    f.commit();
    return fmt::format(
        "{} predictions of {} ({} split, {}; {} support points, one per class and region, keep their label) written "
        "to {}\n",
        rows.size(), info.target, r.split, weights.filename().string(), shots, r.out);
  }
  Inferred inf = infer(*model, loader, rows, device, info, nullptr, street.get());
  if (cfg.flag("gp")) {  // the GP's data: the labelled training examples of the same store
    const TargetSpec* t = task.find_target(info.target);
    if (!t) fail<InputError>("{}: target {} is not one of {}", run.string(), info.target, task.id);
    const std::vector<double> truth = read_truth(s, *t);
    const auto train_rows = labelled(s, "train", truth, info);
    if (train_rows.empty()) {
      fail<InputError>("{}: the GP correction needs the labelled train split in the store it predicts",
                       s.path().string());
    }
    const auto corrected = gp_predictions(*model, loader, s, info, cfg, train_rows, truth, rows, device);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      inf.out[i] = static_cast<float>((corrected[i] - info.target_mean) / info.target_std);
    }
  }
  if (info.dense) {
    std::vector<std::string> ids;
    for (auto i : rows) ids.push_back(s.ids()[i]);
    write_dense_submission(r.out, ids, inf.out, info);
    return fmt::format("{} predicted masks of {} ({} split, {}; {}) written to {}\n", rows.size(), info.target, r.split,
                       weights.filename().string(), info.classes == 2 ? "probability of class 1" : "class indices",
                       r.out);
  }
  const auto& outs = inf.out;
  AtomicFile f(r.out);
  auto& o = f.stream();
  o << "id," << info.target;
  const std::size_t k = info.classes > 0 ? static_cast<std::size_t>(info.classes) : 1;
  if (info.classes == 2) {
    o << ",score";
  } else if (info.classes > 2) {
    for (std::size_t c = 0; c < k; ++c) {
      o << ",score_" << (c < info.class_names.size() ? info.class_names[c] : std::to_string(c));
    }
  }
  o << '\n';
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const float* v = outs.data() + i * k;
    o << s.ids()[rows[i]];
    if (info.classes == 0) {
      o << ',' << fmt::format("{}", v[0] * info.target_std + info.target_mean);
      o << '\n';
      continue;
    }
    const float mx = *std::max_element(v, v + k);
    double z = 0;
    for (std::size_t c = 0; c < k; ++c) z += std::exp(static_cast<double>(v[c] - mx));
    o << ',' << (std::max_element(v, v + k) - v);
    if (k == 2) {
      o << ',' << fmt::format("{}", std::exp(static_cast<double>(v[1] - mx)) / z);
    } else {
      for (std::size_t c = 0; c < k; ++c) o << ',' << fmt::format("{}", std::exp(static_cast<double>(v[c] - mx)) / z);
    }
    o << '\n';
  }
  f.commit();
  return fmt::format("{} predictions of {} ({} split, {}) written to {}\n", rows.size(), info.target, r.split,
                     weights.filename().string(), r.out);
}

}  // namespace sbench::learn
