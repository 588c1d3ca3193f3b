#include "temporal_unet.hpp"

#include "sbench/core/error.hpp"

namespace sbench::learn {

namespace nn = torch::nn;

TemporalUNetImpl::TemporalUNetImpl(std::vector<std::int64_t> sensor_channels, std::int64_t steps, std::int64_t outputs,
                                   std::int64_t width)
    : channels_(std::move(sensor_channels)), steps_(steps), width_(width) {
  if (channels_.empty() || steps < 1 || width < 1) {
    fail<UsageError>("temporal U-Net: needs at least one time series of tiles, time_steps >= 1 and width >= 1");
  }
  for (std::size_t s = 0; s < channels_.size(); ++s) {
    auto conv = [](std::int64_t in, std::int64_t out) {
      return nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(false));
    };
    encoders_.push_back(register_module("encoder" + std::to_string(s + 1),
                                        nn::Sequential(conv(channels_[s], width), nn::BatchNorm2d(width), nn::ReLU(),
                                                       conv(width, width), nn::BatchNorm2d(width), nn::ReLU())));
  }
  unet_ = register_module("unet", UNet(2 * width * static_cast<std::int64_t>(channels_.size()), outputs, width));
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv2d>()) nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
  }
}

torch::Tensor TemporalUNetImpl::pooled(const torch::Tensor& x) {
  std::int64_t expected = 0;
  for (auto c : channels_) expected += steps_ * (c + 1);
  if (x.dim() != 4 || x.size(1) != expected) {
    fail<UsageError>("temporal U-Net: {} input channels, its sensors make {}", x.dim() == 4 ? x.size(1) : 0, expected);
  }
  const std::int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  std::vector<torch::Tensor> maps;
  std::int64_t at = 0;
  for (std::size_t s = 0; s < channels_.size(); ++s) {
    const std::int64_t c = channels_[s];
    // (N, K * C, H, W) -> (N * K, C, H, W): every date through the sensor's encoder.
    const auto dates = x.narrow(1, at, steps_ * c).reshape({n * steps_, c, h, w});
    const auto f = encoders_[s]->forward(dates).reshape({n, steps_, width_, h, w});
    const auto valid = x.narrow(1, at + steps_ * c, steps_).select(3, 0).select(2, 0);  // (N, K)
    at += steps_ * (c + 1);
    const auto m = valid.reshape({n, steps_, 1, 1, 1});
    const auto count = m.sum(1).clamp_min(1.0);
    const auto mean = (f * m).sum(1) / count;
    // The maximum over valid dates; a series without any is 0.
    const auto masked = f.masked_fill(m == 0, -std::numeric_limits<float>::infinity());
    auto mx = std::get<0>(masked.max(1));
    mx = torch::where(torch::isfinite(mx), mx, torch::zeros_like(mx));
    maps.push_back(mean);
    maps.push_back(mx);
  }
  return torch::cat(maps, 1);
}

torch::Tensor TemporalUNetImpl::forward(const torch::Tensor& x) {
  return unet_->forward(pooled(x));
}

std::vector<torch::Tensor> TemporalUNetImpl::head_parameters() {
  return unet_->head_parameters();
}

std::vector<torch::Tensor> TemporalUNetImpl::backbone_parameters() {
  std::vector<torch::Tensor> out;
  for (auto& e : encoders_) {
    for (auto& p : e->parameters()) out.push_back(p);
  }
  for (auto& p : unet_->backbone_parameters()) out.push_back(p);
  return out;
}

}  // namespace sbench::learn
