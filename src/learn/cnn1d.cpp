#include "cnn1d.hpp"

#include "sbench/core/error.hpp"

namespace sbench::learn {

namespace nn = torch::nn;

namespace {

nn::Sequential stage(std::int64_t in, std::int64_t out) {
  return nn::Sequential(nn::Conv1d(nn::Conv1dOptions(in, out, 5).padding(2).bias(false)), nn::BatchNorm1d(out),
                        nn::ReLU(), nn::Conv1d(nn::Conv1dOptions(out, out, 5).padding(2).bias(false)),
                        nn::BatchNorm1d(out), nn::ReLU());
}

}  // namespace

Cnn1dImpl::Cnn1dImpl(std::int64_t in_channels, std::int64_t outputs, std::int64_t width) {
  if (in_channels < 1 || outputs < 1 || width < 1)
    fail<UsageError>("1-D CNN: channels, outputs and width must be >= 1");
  std::int64_t in = in_channels;
  for (int s = 0; s < 3; ++s) {
    stages_[s] = register_module("stage" + std::to_string(s + 1), stage(in, width << s));
    in = width << s;
  }
  fc_ = register_module("fc", nn::Linear(in, outputs));
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv1d>()) nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
  }
}

torch::Tensor Cnn1dImpl::features(const torch::Tensor& x) {
  torch::Tensor y = x.dim() == 4 ? x.squeeze(2) : x;
  for (int s = 0; s < 3; ++s) {
    y = stages_[s]->forward(y);
    if (s < 2 && y.size(2) >= 2) y = torch::max_pool1d(y, 2);
  }
  return y.mean(2);
}

torch::Tensor Cnn1dImpl::forward(const torch::Tensor& x) {
  return fc_(features(x));
}

std::vector<torch::Tensor> Cnn1dImpl::head_parameters() {
  return fc_->parameters();
}

std::vector<torch::Tensor> Cnn1dImpl::backbone_parameters() {
  return parameters_outside("fc.");
}

}  // namespace sbench::learn
