#include "cnn_lstm.hpp"

#include "sbench/core/error.hpp"

namespace sbench::learn {

namespace nn = torch::nn;

CnnLstmImpl::CnnLstmImpl(std::int64_t in_channels, std::int64_t outputs, std::int64_t bins, std::int64_t bands,
                         std::int64_t width)
    : bins_(bins), bands_(bands), extra_(in_channels - bins * bands) {
  if (bins < 1 || bands < 1 || extra_ < 0 || outputs < 1 || width < 1) {
    fail<UsageError>("CNN-LSTM: {} channels cannot hold {} bins x {} bands", in_channels, bins, bands);
  }
  auto conv = [](std::int64_t in, std::int64_t out, std::int64_t stride) {
    return nn::Conv1d(nn::Conv1dOptions(in, out, 3).stride(stride).padding(1).bias(false));
  };
  // Two stages over the bins (the second halves them twice), pooled to 4 positions per step.
  cnn_ = register_module(
      "cnn", nn::Sequential(conv(bands, width, 1), nn::BatchNorm1d(width), nn::ReLU(), conv(width, width, 2),
                            nn::BatchNorm1d(width), nn::ReLU(), conv(width, 2 * width, 1), nn::BatchNorm1d(2 * width),
                            nn::ReLU(), conv(2 * width, 2 * width, 2), nn::BatchNorm1d(2 * width), nn::ReLU(),
                            nn::AdaptiveAvgPool1d(4)));
  lstm_ = register_module("lstm", nn::LSTM(nn::LSTMOptions(8 * width + extra_, 2 * width).batch_first(true)));
  fc_ = register_module("fc", nn::Linear(2 * width, outputs));
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv1d>()) nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
  }
}

torch::Tensor CnnLstmImpl::features(const torch::Tensor& x) {
  const torch::Tensor y = x.dim() == 4 ? x.squeeze(2) : x;  // (N, C, T)
  const std::int64_t n = y.size(0), t = y.size(2);
  // (N, bands * bins, T) -> (N * T, bands, bins): one histogram image per step.
  auto h = y.narrow(1, 0, bins_ * bands_)
               .reshape({n, bands_, bins_, t})
               .permute({0, 3, 1, 2})
               .reshape({n * t, bands_, bins_});
  auto f = cnn_->forward(h).reshape({n, t, -1});
  if (extra_ > 0) f = torch::cat({f, y.narrow(1, bins_ * bands_, extra_).permute({0, 2, 1})}, 2);
  auto out = std::get<0>(lstm_->forward(f));  // (N, T, hidden)
  return out.select(1, t - 1);
}

torch::Tensor CnnLstmImpl::forward(const torch::Tensor& x) {
  return fc_(features(x));
}

std::vector<torch::Tensor> CnnLstmImpl::head_parameters() {
  return fc_->parameters();
}

std::vector<torch::Tensor> CnnLstmImpl::backbone_parameters() {
  return parameters_outside("fc.");
}

}  // namespace sbench::learn
