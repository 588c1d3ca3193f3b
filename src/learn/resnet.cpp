#include "resnet.hpp"

#include "sbench/core/error.hpp"

namespace sbench::learn {

namespace nn = torch::nn;

namespace {

nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride, std::int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride) {
  conv1_ = register_module("conv1", conv(in, out, 3, stride, 1));
  bn1_ = register_module("bn1", nn::BatchNorm2d(out));
  conv2_ = register_module("conv2", conv(out, out, 3, 1, 1));
  bn2_ = register_module("bn2", nn::BatchNorm2d(out));
  if (stride != 1 || in != out) {
    down_ = register_module("downsample", nn::Sequential(conv(in, out, 1, stride, 0), nn::BatchNorm2d(out)));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(bn1_(conv1_(x)));
  y = bn2_(conv2_(y));
  return torch::relu(y + (down_ ? down_->forward(x) : x));
}

ResNetImpl::ResNetImpl(int depth, std::int64_t in_channels, std::int64_t outputs, std::int64_t width) {
  std::array<int, 4> blocks{};
  if (depth == 18) {
    blocks = {2, 2, 2, 2};
  } else if (depth == 34) {
    blocks = {3, 4, 6, 3};
  } else {
    fail<UsageError>("ResNet depth {}: 18 or 34", depth);
  }
  if (in_channels < 1 || outputs < 1 || width < 1) fail<UsageError>("ResNet: channels, outputs and width must be >= 1");
  stem_ = register_module("conv1", conv(in_channels, width, 7, 2, 3));
  bn_ = register_module("bn1", nn::BatchNorm2d(width));
  std::int64_t in = width;
  for (int s = 0; s < 4; ++s) {
    const std::int64_t out = width << s;
    layers_[s] = nn::Sequential();
    for (int b = 0; b < blocks[s]; ++b) {
      layers_[s]->push_back(BasicBlock(in, out, (b == 0 && s > 0) ? 2 : 1));
      in = out;
    }
    register_module("layer" + std::to_string(s + 1), layers_[s]);
  }
  fc_ = register_module("fc", nn::Linear(in, outputs));
  // torchvision's initialisation: He normal (fan out) for convolutions, BatchNorm at identity.
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = m->as<nn::BatchNorm2d>()) {
      nn::init::ones_(b->weight);
      nn::init::zeros_(b->bias);
    }
  }
}

torch::Tensor ResNetImpl::features(const torch::Tensor& x) {
  auto y = torch::relu(bn_(stem_(x)));
  y = torch::max_pool2d(y, 3, 2, 1);
  for (auto& l : layers_) y = l->forward(y);
  return torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1);
}

torch::Tensor ResNetImpl::forward(const torch::Tensor& x) {
  return fc_(features(x));
}

std::vector<torch::Tensor> ResNetImpl::head_parameters() {
  return fc_->parameters();
}

std::vector<torch::Tensor> ResNetImpl::backbone_parameters() {
  return parameters_outside("fc.");
}

}  // namespace sbench::learn
