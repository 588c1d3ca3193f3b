#include "unet.hpp"

#include "sbench/core/error.hpp"

namespace sbench::learn {

namespace nn = torch::nn;

namespace {

nn::Sequential double_conv(std::int64_t in, std::int64_t out) {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(false)), nn::BatchNorm2d(out),
                        nn::ReLU(), nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)),
                        nn::BatchNorm2d(out), nn::ReLU());
}

}  // namespace

UNetImpl::UNetImpl(std::int64_t in_channels, std::int64_t outputs, std::int64_t width) {
  if (in_channels < 1 || outputs < 1 || width < 1) fail<UsageError>("U-Net: channels, outputs and width must be >= 1");
  std::int64_t in = in_channels;
  for (int l = 0; l < 5; ++l) {
    down_[l] = register_module("down" + std::to_string(l + 1), double_conv(in, width << l));
    in = width << l;
  }
  for (int l = 3; l >= 0; --l) {
    const std::int64_t c = width << l;
    up_[l] = register_module("up" + std::to_string(l + 1),
                             nn::ConvTranspose2d(nn::ConvTranspose2dOptions(c * 2, c, 2).stride(2)));
    dec_[l] = register_module("dec" + std::to_string(l + 1), double_conv(c * 2, c));
  }
  head_ = register_module("head", nn::Conv2d(nn::Conv2dOptions(width, outputs, 1)));
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    }
  }
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x) {
  const std::int64_t h = x.size(2), w = x.size(3);
  const std::int64_t ph = (16 - h % 16) % 16, pw = (16 - w % 16) % 16;
  torch::Tensor y = (ph || pw) ? torch::constant_pad_nd(x, {0, pw, 0, ph}) : x;
  torch::Tensor skips[4];
  for (int l = 0; l < 4; ++l) {
    skips[l] = down_[l]->forward(y);
    y = torch::max_pool2d(skips[l], 2);
  }
  y = down_[4]->forward(y);
  for (int l = 3; l >= 0; --l) y = dec_[l]->forward(torch::cat({up_[l]->forward(y), skips[l]}, 1));
  y = head_(y);
  return (ph || pw) ? y.slice(2, 0, h).slice(3, 0, w).contiguous() : y;
}

std::vector<torch::Tensor> UNetImpl::head_parameters() {
  return head_->parameters();
}

std::vector<torch::Tensor> UNetImpl::backbone_parameters() {
  std::vector<torch::Tensor> out;
  for (const auto& p : named_parameters()) {
    if (p.key().rfind("head.", 0) != 0) out.push_back(p.value());
  }
  return out;
}

}  // namespace sbench::learn
